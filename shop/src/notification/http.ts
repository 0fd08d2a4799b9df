import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../runtime/http.ts';
import type { Logger } from '../runtime/logger.ts';
import type { NotificationService } from './service.ts';

/** A read-only view for people: `GET /notifications` (recent), `GET /health`. */
export function notificationHttp(service: NotificationService, log: Logger): FastifyInstance {
  const app = createHttpApp({ service: 'notification-service', log, health: () => service.health() });
  app.get('/notifications', () => service.store.recent(100));
  return app;
}
