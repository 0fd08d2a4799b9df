import { runShopService } from '../runtime/service-main.ts';
import { notificationHttp } from './http.ts';
import { notificationService } from './service.ts';

runShopService({
  name: 'notification',
  defaultPort: 3003,
  create: notificationService,
  http: notificationHttp,
});
