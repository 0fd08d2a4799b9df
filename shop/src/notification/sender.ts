import type { Logger } from '../runtime/logger.ts';
import type { Notification } from './store.ts';

/**
 * Delivers a notification to the customer (e-mail, SMS, push...). Resolve once the provider accepted it; throw
 * if it did not. `notification.notificationId` is stable: pass it to the provider as an idempotency key.
 */
export interface NotificationSender {
  /** The channel name stored with each notification (`log`, `email`...). */
  readonly channel: string;
  send(notification: Notification): Promise<void>;
}

/** The default sender: the notification is stored (by the service) and logged; nothing leaves the machine. */
export function logSender(log: Logger): NotificationSender {
  return {
    channel: 'log',
    send(notification) {
      log.info(`notify ${notification.userId}: ${notification.message}`, { orderId: notification.orderId });
      return Promise.resolve();
    },
  };
}
