/**
 * Issue 9 item 3: a shared server restarted under load. The four services run as separate processes on one
 * engine; orders arrive at a steady rate over HTTP (clients retrying with the same `Idempotency-Key`, as in the
 * SIGKILL storm); in the middle the broker (or PostgreSQL, which keeps the services' state) is stopped, kept down
 * for a few seconds and started again, and the load carries on. At the end every accepted order must be final,
 * the services' databases must agree and no notification may have gone out twice. The figures go to
 * `test-artifacts/reliability/broker-restart-<engine>.json` (or `postgres-restart-<engine>.json`) only once
 * every invariant held. Bounded in time; stops by itself. Run only from `*.exclusive.e2e.test.ts` files.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine } from './engines.ts';
import type { RestartTimes, ServerRestart } from './server-restart.ts';
import type { Shop } from './shop-harness.ts';
import { assertConsistent, newShop, skipReason, waitUntilSettled } from './shop-scenario.ts';
import { notificationSends, placeOrder, sleep, writeFigures } from './order-load.ts';

/** Options of {@link describeBrokerRestart}. */
export interface BrokerRestartOptions {
  readonly engine: Engine;
  /** The server restarted mid-run: the engine's broker, or PostgreSQL. */
  readonly restart: ServerRestart;
  /** Keep the services' state in PostgreSQL (needed when `restart` is PostgreSQL's). */
  readonly postgres?: boolean;
  /** How long orders are offered, s. Default `HERALD_RESTART_SECONDS` or 25. */
  readonly seconds?: number;
  /** Orders per second offered. Default 8. */
  readonly ordersPerSecond?: number;
  /** How long the server stays down, ms. Default 4000. */
  readonly downMs?: number;
}

/** An order of the load: when its first request went out, and (once accepted) its id and attempts. */
interface Placed {
  readonly sentAt: number;
  readonly accepted: Promise<{ id: string; tries: number }>;
}

/** A service's warning or error log line, with its time: how a lost broker or database connection shows. */
const TROUBLE = /"level":"(?:warn|error)","time":"([^"]+)"/;
/** The one warning a healthy run logs too (the notification service ignores some event types). */
const SKIPPED = '"msg":"event skipped';

const FINAL = new Set(['CONFIRMED', 'CANCELLED']);

/** Whether order `id` is final now; false while the order service cannot answer. */
async function isFinal(shop: Shop, id: string): Promise<boolean> {
  try {
    const response = await fetch(`${shop.orderUrl}/orders/${id}`, { signal: AbortSignal.timeout(2000) });
    return response.ok && FINAL.has(((await response.json()) as { status: string }).status);
  } catch {
    return false;
  }
}

/**
 * Milliseconds from the server serving again until the first order offered after that was final: how long
 * the shop took to work normally again, end to end.
 */
async function recoveryMs(
  shop: Shop,
  placed: Placed[],
  servingAt: number,
  deadline: number,
): Promise<number> {
  let first: Placed | undefined;
  while ((first = placed.find((p) => p.sentAt >= servingAt)) === undefined) {
    if (Date.now() > deadline) assert.fail('no order offered after the server came back');
    await sleep(20);
  }
  const { id } = await first.accepted;
  while (!(await isFinal(shop, id))) {
    if (Date.now() > deadline) assert.fail(`order ${id}, offered after the restart, never became final`);
    await sleep(20);
  }
  return Date.now() - servingAt;
}

/** Registers the restart test for one engine and one server. */
export async function describeBrokerRestart(options: BrokerRestartOptions): Promise<void> {
  const seconds = options.seconds ?? Number(process.env.HERALD_RESTART_SECONDS ?? 25);
  const rate = options.ordersPerSecond ?? 8;
  const downMs = options.downMs ?? 4000;
  const { engine, restart } = options;
  const skip = await skipReason({
    engine,
    ...(options.postgres === undefined ? {} : { postgres: options.postgres }),
  });
  const title = `${restart.server} restarted under load, shop on ${engine.name}: ${seconds} s of orders, down ${downMs} ms`;
  describe(title, { timeout: (seconds + 300) * 1000, ...(skip === undefined ? {} : { skip }) }, () => {
    it('settles every accepted order, and the services agree: nothing lost, nothing twice', async () => {
      const shop = await newShop({ engine, ...(options.postgres === true ? { postgres: true } : {}) });
      try {
        await shop.startAll();
        const startedAt = Date.now();
        const endAt = startedAt + seconds * 1000;
        // Down in the middle: a third of the run before, the rest (and the recovery) after.
        const restarted: Promise<RestartTimes> = sleep((seconds * 1000) / 3).then(() =>
          restart.restart(downMs),
        );
        let times: RestartTimes | undefined;
        let restartOver = false;
        void restarted
          .then((t) => (times = t))
          .catch(() => undefined)
          .finally(() => (restartOver = true));
        const loadGoesOn = (): boolean =>
          Date.now() < endAt || !restartOver || (times !== undefined && Date.now() < times.servingAt + 5000);

        const placed: Placed[] = [];
        // The load goes on until the end, and for at least 5 s after the server is back.
        for (let n = 0; loadGoesOn(); n++) {
          placed.push({ sentAt: Date.now(), accepted: placeOrder(shop, n, Date.now() + 180_000) });
          await sleep(1000 / rate);
        }
        const { stoppedAt, startedAt: restartedAt, servingAt } = await restarted;
        const recovered = await recoveryMs(shop, placed, servingAt, Date.now() + 120_000);
        const accepted = await Promise.all(placed.map((p) => p.accepted));
        const ids = accepted.map((a) => a.id);
        assert.equal(new Set(ids).size, ids.length, 'each idempotency key made one order');

        const states = await waitUntilSettled(shop, ids);
        await assertConsistent(shop, ids, states);
        const sends = notificationSends(shop);
        assert.deepEqual(
          [...sends].filter(([, n]) => n > 1),
          [],
          'no notification sent twice',
        );
        assert.equal(sends.size, ids.length, 'one notification sent per order');

        // The restart reached the services: their transports (or stores) reported the lost connection.
        const errorsLogged = shop.output.filter((line) => {
          const trouble = TROUBLE.exec(line);
          return trouble !== null && Date.parse(trouble[1]!) >= stoppedAt && !line.includes(SKIPPED);
        }).length;
        assert.ok(errorsLogged > 0, `no service noticed the ${restart.server} restart\n${shop.tail()}`);
        // The transports came through the restart whole: every service still stops cleanly (and leaves its group).
        const exits = await shop.stopAll();
        assert.deepEqual(
          exits,
          exits.map(() => 0),
          'every service stops cleanly on SIGTERM after the restart',
        );

        const statuses = [...states.values()].map((s) => s.status);
        const figures = {
          engine: engine.name,
          server: restart.server,
          restartedBy: restart.how,
          state: shop.storage,
          seconds,
          ordersPerSecond: rate,
          ordersAccepted: ids.length,
          confirmed: statuses.filter((s) => s === 'CONFIRMED').length,
          cancelled: statuses.filter((s) => s === 'CANCELLED').length,
          downtimeMs: restartedAt - stoppedAt,
          unavailableMs: servingAt - stoppedAt,
          recoveryMs: recovered,
          clientRetries: accepted.reduce((sum, a) => sum + a.tries - 1, 0),
          notificationsSent: sends.size,
          warningsLogged: errorsLogged,
          // Asserted above: every accepted order final and accounted for once in every service's database.
          lost: 0,
          duplicated: 0,
          at: new Date().toISOString(),
        };
        const name = restart.server === 'postgresql' ? 'postgres-restart' : 'broker-restart';
        writeFigures(
          `${name}-${engine.name}${restart.variant === undefined ? '' : `-${restart.variant}`}`,
          figures,
        );
      } catch (error) {
        console.error(shop.tail(150));
        throw error;
      }
    });
  });
}
