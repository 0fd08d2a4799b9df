// B6's HTTP client: places orders on the order service over keep-alive connections, as a shop's front end would.
import { Agent, request } from 'node:http';

/** One order's basket: a keyboard, 89.00, under the payment limit and always in stock at B6's seeded stock. */
const BASKET = JSON.stringify([{ sku: 'KB-101', quantity: 1 }]);

/** Places orders on one order service. */
export class OrderClient {
  readonly #agent: Agent;
  readonly #url: URL;

  constructor(orderUrl: string, connections: number) {
    this.#url = new URL('/orders', orderUrl);
    this.#agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  /** Places order `n`; resolves with its id once the order service answered 202 (it is stored and in the outbox). */
  place(n: number): Promise<string> {
    const body = `{"userId":"b6-${n}","items":${BASKET}}`;
    return new Promise((resolve, reject) => {
      const req = request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            if (res.statusCode !== 202) reject(new Error(`POST /orders: ${res.statusCode} ${text}`));
            else resolve((JSON.parse(text) as { orderId: string }).orderId);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
