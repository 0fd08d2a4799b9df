import { formatCents } from '../contracts/index.ts';
import { acceptPlainJsonFrom } from '../runtime/config.ts';
import { runShopService } from '../runtime/service-main.ts';
import { PaymentFaults } from './faults.ts';
import { paymentHttp } from './http.ts';
import { paymentLimitFrom, paymentService } from './service.ts';

runShopService({
  name: 'payment',
  defaultPort: 3001,
  create: (context) =>
    paymentService({
      ...context,
      limitCents: paymentLimitFrom(process.env),
      acceptPlainJson: acceptPlainJsonFrom(process.env),
      faults: PaymentFaults.fromEnv(process.env),
    }),
  http: paymentHttp,
  details: (service) => ({
    limit: formatCents(service.limitCents),
    acceptPlainJson: service.acceptPlainJson,
    faults: service.faults
      .list()
      .filter((fault) => fault.enabled)
      .map((fault) => fault.name),
  }),
});
