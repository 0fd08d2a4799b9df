import { resolve } from 'node:path';
import { brokerFromEnv } from '../broker.ts';
import { dataDir, HOST, portFrom } from '../runtime/config.ts';
import { openDatabase } from '../runtime/database.ts';
import { runServiceProcess } from '../runtime/service-process.ts';
import { inventoryHttp } from './http.ts';
import { inventoryService } from './service.ts';

runServiceProcess('inventory-service', async (log) => {
  const port = portFrom(process.env, 'PORT', 3002);
  const { url: brokerUrl, transport } = brokerFromEnv();
  const db = openDatabase(resolve(dataDir(), 'inventory.db'));
  const service = inventoryService({ db, transport, log });
  const app = inventoryHttp(service, log);
  await service.start();
  const url = await app.listen({ host: HOST, port });
  log.info('started', { broker: brokerUrl, db: db.name });
  return {
    url,
    async close() {
      await app.close();
      await service.close();
      await transport.close();
      db.close();
    },
  };
});
