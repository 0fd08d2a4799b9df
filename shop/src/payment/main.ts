import { resolve } from 'node:path';
import { brokerFromEnv } from '../broker.ts';
import { formatCents } from '../contracts/index.ts';
import { dataDir, HOST, portFrom } from '../runtime/config.ts';
import { openDatabase } from '../runtime/database.ts';
import { runServiceProcess } from '../runtime/service-process.ts';
import { paymentHttp } from './http.ts';
import { paymentLimitFrom, paymentService } from './service.ts';

runServiceProcess('payment-service', async (log) => {
  const port = portFrom(process.env, 'PORT', 3001);
  const limitCents = paymentLimitFrom(process.env);
  const { url: brokerUrl, transport } = brokerFromEnv();
  const db = openDatabase(resolve(dataDir(), 'payment.db'));
  const service = paymentService({ db, transport, limitCents, log });
  const app = paymentHttp(service, log);
  await service.start();
  const url = await app.listen({ host: HOST, port });
  log.info('started', { broker: brokerUrl, db: db.name, limit: formatCents(limitCents) });
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
