import { resolve } from 'node:path';
import { brokerFromEnv } from '../broker.ts';
import { dataDir, HOST, portFrom } from '../runtime/config.ts';
import { openDatabase } from '../runtime/database.ts';
import { runServiceProcess } from '../runtime/service-process.ts';
import { notificationHttp } from './http.ts';
import { notificationService } from './service.ts';

runServiceProcess('notification-service', async (log) => {
  const port = portFrom(process.env, 'PORT', 3003);
  const { url: brokerUrl, transport } = brokerFromEnv();
  const db = openDatabase(resolve(dataDir(), 'notification.db'));
  const service = notificationService({ db, transport, log });
  const app = notificationHttp(service, log);
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
