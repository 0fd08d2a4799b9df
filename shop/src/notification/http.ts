import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../runtime/http.ts';
import type { Logger } from '../runtime/logger.ts';
import { servePage } from '../runtime/pagination.ts';
import type { NotificationService } from './service.ts';

/**
 * A read-only view for people: `GET /notifications` (newest first, in keyset pages: `?limit=` 1–1000, default
 * 100, `?after=` the cursor a full page's `Link: <…>; rel="next"` header gives), `GET /health`.
 */
export function notificationHttp(service: NotificationService, log: Logger): FastifyInstance {
  const app = createHttpApp({ service: 'notification-service', log, health: () => service.health() });
  app.get('/notifications', (request, reply) =>
    servePage(request, reply, {
      path: '/notifications',
      read: (after, limit) => service.store.page(after, limit),
      keyOf: (notification) => notification.notificationId,
      view: (notification) => notification,
    }),
  );
  return app;
}
