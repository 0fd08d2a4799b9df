import { acceptPlainJsonFrom, initialStockFrom } from '../runtime/config.ts';
import { runShopService } from '../runtime/service-main.ts';
import { inventoryHttp } from './http.ts';
import { inventoryService } from './service.ts';

runShopService({
  name: 'inventory',
  defaultPort: 3002,
  create: (context) => {
    const initialStock = initialStockFrom(process.env);
    return inventoryService({
      ...context,
      acceptPlainJson: acceptPlainJsonFrom(process.env),
      ...(initialStock === undefined ? {} : { initialStock }),
    });
  },
  http: inventoryHttp,
});
