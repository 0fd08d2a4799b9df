import { runShopService } from '../runtime/service-main.ts';
import { orderHttp } from './http.ts';
import { orderService } from './service.ts';

runShopService({ name: 'order', defaultPort: 3000, create: orderService, http: orderHttp });
