import { randomUUID } from 'node:crypto';
import { backoffDelay, runHandling, sleep, type CloudEvent, type HandlerContext } from '@herald/core';
import {
  formatCents,
  NotificationSent,
  OrderCancelled,
  OrderConfirmed,
  SERVICES,
} from '../contracts/index.ts';
import { eventPlumbing, type ServiceOptions } from '../runtime/event-plumbing.ts';
import { silentLogger } from '../runtime/logger.ts';
import { interopRouterOptions } from '../runtime/plain-json-interop.ts';
import type { OrderOutcome } from '../runtime/order-outcome.ts';
import { fromOrderService, refuseSettled } from '../runtime/trusted-source.ts';
import { logSender, type NotificationSender } from './sender.ts';
import { notificationStores, type Notification } from './store.ts';

/** How long the service keeps trying to record a sender's answer while its database is away, ms. */
const RECORD_PATIENCE_MS = 120_000;

/** Options of {@link notificationService}. */
export interface NotificationServiceOptions extends ServiceOptions {
  /** Default: {@link logSender} (stored and logged). */
  readonly sender?: NotificationSender;
  /** Calls of `sender.send` per notification before it is marked failed. Default 3. */
  readonly sendAttempts?: number;
}

/**
 * The notification service: tells the customer an order's outcome through a pluggable sender, at most once per
 * order and outcome, and for one outcome per order (the saga settles an order once: the notice of a second,
 * different outcome is refused, logged and counted). The (order, outcome) pair is claimed with the inbox record in one transaction before the
 * sender is called, so no redelivery or restart sends it twice; a process stopped mid-send leaves the claim
 * `unknown` rather than risk a second message. `NotificationSent` is emitted only after the sender accepted it.
 */
export async function notificationService(options: NotificationServiceOptions) {
  const log = options.log ?? silentLogger;
  const sender = options.sender ?? logSender(log);
  const sendAttempts = options.sendAttempts ?? 3;
  const plumbing = await eventPlumbing({
    ...options,
    ...SERVICES.notification,
    log,
    // CloudEvents only: plain JSON is an opt-in of the services that take a plain OrderPlaced.
    router: interopRouterOptions({ ...options, acceptPlainJson: false }),
    stores: notificationStores,
  });
  const { storage, router } = plumbing;

  const interrupted = await storage.run(({ store }) => store.abandonInterrupted());
  if (interrupted > 0)
    log.warn(`${interrupted} notification(s) were interrupted mid-send; not resending them`);

  async function send(notification: Notification): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await sender.send(notification);
        return;
      } catch (error) {
        if (attempt >= sendAttempts) throw error;
        await sleep(backoffDelay({ initialMs: 100, maxMs: 2000 }, attempt));
      }
    }
  }

  async function notify(
    event: CloudEvent<{ orderId: string; userId: string }>,
    context: HandlerContext,
    outcome: OrderOutcome,
    message: string,
  ) {
    const { orderId, userId } = event.data;
    const notification: Notification = { notificationId: randomUUID(), orderId, userId, outcome, message };
    let claimed = false;
    let refusedBy: OrderOutcome | undefined;
    await storage.handle(context.group, event, async ({ store }) => {
      // The saga settles an order once: the notice of a second, different outcome is never sent.
      const standing = await store.settle(orderId, outcome);
      if (standing !== outcome) {
        refusedBy = standing;
        return;
      }
      claimed = await store.claim(notification, sender.channel);
    });
    if (refusedBy !== undefined) refuseSettled(event, refusedBy, log, context);
    if (!claimed) return;
    try {
      await send(notification);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await record(context, orderId, () =>
        storage.run(({ store }) => store.finish(notification.notificationId, 'failed', reason)),
      );
      log.error('notification failed', { orderId, outcome, error });
      return;
    }
    await record(context, orderId, () =>
      runHandling(event, () =>
        storage.run(async ({ store, emit }) => {
          await store.finish(notification.notificationId, 'sent');
          await emit(NotificationSent, {
            notificationId: notification.notificationId,
            orderId,
            userId,
            outcome,
            channel: sender.channel,
          });
        }),
      ),
    );
  }

  /**
   * Records the sender's answer, retrying while the database is away: the answer is known only here, and a
   * redelivery would not bring it back (the claim and the inbox record are already committed), so giving up at
   * once would leave the claim `sending` for good. Gives up after {@link RECORD_PATIENCE_MS} or when the router
   * stops; the claim then becomes `unknown` at the next start, as after a crash mid-send.
   */
  async function record(
    context: HandlerContext,
    orderId: string,
    write: () => Promise<unknown>,
  ): Promise<void> {
    const giveUpAt = Date.now() + RECORD_PATIENCE_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return;
      } catch (error) {
        if (Date.now() >= giveUpAt || context.signal.aborted) {
          log.error(
            'notification outcome not recorded; it stays claimed and is marked unknown at the next start',
            {
              orderId,
              error,
            },
          );
          throw error;
        }
        if (attempt === 1) log.warn('recording a notification outcome failed; retrying', { orderId, error });
        await sleep(backoffDelay({ initialMs: 100, maxMs: 5000 }, attempt));
      }
    }
  }

  router.on(OrderConfirmed, async (event, context) => {
    if (!fromOrderService(event, log, context)) return;
    const amount = formatCents(event.data.amountCents);
    await notify(event, context, 'confirmed', `Your order ${event.data.orderId} (${amount}) is confirmed.`);
  });
  router.on(OrderCancelled, async (event, context) => {
    if (!fromOrderService(event, log, context)) return;
    const { orderId, reason } = event.data;
    await notify(event, context, 'cancelled', `Your order ${orderId} was cancelled: ${reason}.`);
  });

  return { ...plumbing, store: storage.store, sender };
}

/** A running notification service (see {@link notificationService}). */
export type NotificationService = Awaited<ReturnType<typeof notificationService>>;
