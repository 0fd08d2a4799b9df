import { paymentDeadlineFrom } from '../runtime/config.ts';
import { runShopService } from '../runtime/service-main.ts';
import { orderHttp } from './http.ts';
import { orderService } from './service.ts';

runShopService({
  name: 'order',
  defaultPort: 3000,
  create: (context) => orderService({ ...context, paymentDeadlineMs: paymentDeadlineFrom(process.env) }),
  http: orderHttp,
});
