// B6's observer: a consumer group of its own on the shop's `orders` topic, timing each order's outcome event
// (OrderConfirmed or OrderCancelled, published by the order service through its outbox once the saga ends).
import { performance } from 'node:perf_hooks';
import { createRouter, transportFromUrl, withTopicPrefix, type Router, type Transport } from '@herald/core';
import { OrderCancelled, OrderConfirmed } from '@herald/shop/contracts';

/** When each order settled (ms on `performance.now()`), and how. */
export class SettlementWatch {
  readonly settledAt = new Map<string, number>();
  confirmed = 0;
  cancelled = 0;
  private constructor(
    private readonly transport: Transport,
    private readonly router: Router,
  ) {}

  /** Subscribes group `group` on the shop's broker (`brokerUrl`, topics under `topicPrefix`); resolves when ready. */
  static async start(brokerUrl: string, topicPrefix: string, group: string): Promise<SettlementWatch> {
    const transport = withTopicPrefix(await transportFromUrl(brokerUrl), topicPrefix);
    const router = createRouter({ transport, group, source: '/bench/b6/observer', concurrency: 64 });
    const watch = new SettlementWatch(transport, router);
    const settle = (orderId: string, confirmed: boolean) => {
      if (watch.settledAt.has(orderId)) return; // at least once: a redelivered outcome counts once
      watch.settledAt.set(orderId, performance.now());
      if (confirmed) watch.confirmed++;
      else watch.cancelled++;
    };
    router
      .on(OrderConfirmed, (event) => settle(event.data.orderId, true))
      .on(OrderCancelled, (event) => settle(event.data.orderId, false));
    await router.start();
    return watch;
  }

  async close(): Promise<void> {
    await this.router.close();
    await this.transport.close();
  }
}
