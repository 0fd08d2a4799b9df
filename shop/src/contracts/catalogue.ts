/** A product of the shop's catalogue. Prices are integer cents: money is never a float here. */
export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  /** Units the inventory service is seeded with. */
  readonly initialStock: number;
}

/**
 * The one catalogue both the order service (names, prices: `GET /products`) and the inventory service (seeded
 * stock) read, so they cannot disagree about which SKUs exist.
 */
export const CATALOGUE: readonly Product[] = Object.freeze([
  { sku: 'KB-101', name: 'Mechanical keyboard', priceCents: 8900, initialStock: 100 },
  { sku: 'MS-202', name: 'Wireless mouse', priceCents: 2900, initialStock: 150 },
  { sku: 'MN-303', name: '27" 4K monitor', priceCents: 32900, initialStock: 40 },
  { sku: 'LT-404', name: '14" laptop', priceCents: 149900, initialStock: 25 },
  { sku: 'HP-505', name: 'Noise-cancelling headphones', priceCents: 24900, initialStock: 60 },
  { sku: 'CB-606', name: 'USB-C cable', priceCents: 1200, initialStock: 500 },
  { sku: 'LE-707', name: 'Limited-edition print', priceCents: 45000, initialStock: 5 },
]);

const bySku = new Map(CATALOGUE.map((product) => [product.sku, product]));

/** The product with this SKU, if the catalogue has it. */
export function findProduct(sku: string): Product | undefined {
  return bySku.get(sku);
}
