/**
 * Issue 9 item 3: the SIGKILL storm. The four services run as separate processes on one engine under a steady
 * stream of orders; every few seconds one of them, chosen by a seeded sequence, is SIGKILLed and restarted. At
 * the end every accepted order must be final and the services' databases must agree (no event lost, no effect
 * twice). Clients retry with the same `Idempotency-Key`, as a client of a real shop would when the order
 * service dies mid-request. The figures go to `test-artifacts/reliability/` only once every invariant held, and
 * `docs/reliability.md` quotes them. Bounded in count and time; stops by itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceName } from '../../src/runtime/spawn-service.ts';
import type { Engine } from './engines.ts';
import { notificationSends, placeOrder, sleep, writeFigures, type AcceptedOrder } from './order-load.ts';
import { SERVICE_NAMES } from './shop-harness.ts';
import { assertConsistent, newShop, skipReason, waitUntilSettled, type OrderState } from './shop-scenario.ts';

/** Options of {@link describeSigkillStorm}. */
export interface StormOptions {
  readonly engine: Engine;
  /** How long the storm blows. Default `HERALD_STORM_SECONDS` or 45 s. */
  readonly seconds?: number;
  /** Orders per second offered. Default 8. */
  readonly ordersPerSecond?: number;
}

/** A small seeded sequence (a linear congruential generator), so a storm's kill order is reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 0x1_0000_0000;
  };
}

/** Registers the storm for one engine. */
export async function describeSigkillStorm(options: StormOptions): Promise<void> {
  const seconds = options.seconds ?? Number(process.env.HERALD_STORM_SECONDS ?? 45);
  const rate = options.ordersPerSecond ?? 8;
  const skip = await skipReason({ engine: options.engine });
  const title = `SIGKILL storm on ${options.engine.name}: ${seconds} s of orders, a service killed every 2-4 s`;
  describe(title, { timeout: (seconds + 240) * 1000, ...(skip === undefined ? {} : { skip }) }, () => {
    it('settles every accepted order, and the services agree: nothing lost, nothing twice', async () => {
      const shop = await newShop({ engine: options.engine });
      try {
        await shop.startAll();
        const random = seeded(Number(process.env.HERALD_STORM_SEED ?? 42));
        const startedAt = Date.now();
        const endAt = startedAt + seconds * 1000;
        const kills = new Map<ServiceName, number>(SERVICE_NAMES.map((name) => [name, 0]));

        // Restarts run in the background, so a second service may die while the first comes back.
        const restarting = new Map<ServiceName, Promise<unknown>>();
        const killer = (async () => {
          while (Date.now() < endAt) {
            await sleep(2000 + Math.floor(random() * 2000));
            if (Date.now() >= endAt) break;
            const victim = SERVICE_NAMES[Math.floor(random() * SERVICE_NAMES.length)]!;
            if (restarting.has(victim)) continue;
            await shop.kill(victim);
            kills.set(victim, kills.get(victim)! + 1);
            const back = sleep(200 + Math.floor(random() * 800))
              .then(() => shop.start(victim))
              .finally(() => restarting.delete(victim));
            restarting.set(victim, back);
          }
          await Promise.all(restarting.values());
        })();

        const placed: Promise<AcceptedOrder>[] = [];
        for (let n = 0; Date.now() < endAt; n++) {
          placed.push(placeOrder(shop, n, endAt + 60_000));
          await sleep(1000 / rate);
        }
        await killer;
        const accepted = await Promise.all(placed);
        const ids = accepted.map((a) => a.id);
        assert.equal(new Set(ids).size, ids.length, 'each idempotency key made one order');

        const states: Map<string, OrderState> = await waitUntilSettled(shop, ids);
        await assertConsistent(shop, ids, states, { unknownNotificationsAllowed: true });

        // Sent at most once: the log sender's lines, across every restart of the notification service.
        const sends = notificationSends(shop);
        const sentTwice = [...sends].filter(([, n]) => n > 1);
        assert.deepEqual(sentTwice, [], 'no notification sent twice');
        const unknown = await shop.reader.all<{ n: number | string }>(
          'notification',
          "SELECT count(*) AS n FROM notifications WHERE status = 'unknown'",
        );
        const figures = {
          engine: options.engine.name,
          seconds,
          ordersAccepted: ids.length,
          confirmed: [...states.values()].filter((s) => s.status === 'CONFIRMED').length,
          cancelled: [...states.values()].filter((s) => s.status === 'CANCELLED').length,
          kills: Object.fromEntries(kills),
          totalKills: [...kills.values()].reduce((a, b) => a + b, 0),
          clientRetries: accepted.reduce((sum, a) => sum + a.tries - 1, 0),
          notificationsSent: sends.size,
          notificationsUnknownAfterKill: Number(unknown[0]!.n),
          at: new Date().toISOString(),
        };
        writeFigures(`sigkill-storm-${options.engine.name}`, figures);
        assert.ok(
          figures.totalKills >= Math.floor(seconds / 8),
          `the storm killed ${figures.totalKills} times`,
        );
      } catch (error) {
        console.error(shop.tail(120));
        throw error;
      }
    });
  });
}
