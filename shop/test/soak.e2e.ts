/**
 * The soak (`npm run soak`; not part of `npm test`): the four services as separate processes on one engine under
 * a steady stream of orders for `HERALD_SOAK_MINUTES` (default 10) on `HERALD_SOAK_ENGINE` (`sqlite`, the default,
 * `kafka`, `rabbitmq` or `nats`), `HERALD_SOAK_RATE` orders a second (default 8). Every service's resident memory
 * is sampled each second. At the end every order must be settled and every invariant hold (see
 * `assertConsistent`), and no service may have grown: its peak RSS under the overload test's bound, and its RSS
 * over the last third of the run at most that test's growth bound above the first third (a leak of a few KiB per
 * order shows as tens of MiB over a soak). Figures to `test-artifacts/reliability/soak-<engine>.json`, written
 * only once everything held.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kafkaEngine, natsEngine, rabbitmqEngine, sqliteEngine, type Engine } from './e2e/engines.ts';
import { latencySummary, steadyLoad, writeFigures } from './e2e/order-load.ts';
import { GROWTH_BOUND_MIB, PEAK_RSS_BOUND_MIB } from './e2e/overload.ts';
import { MemorySampler } from './e2e/service-probe.ts';
import { assertConsistent, newShop, skipReason, waitUntilSettled } from './e2e/shop-scenario.ts';

const ENGINES: Record<string, Engine> = {
  sqlite: sqliteEngine,
  kafka: kafkaEngine,
  rabbitmq: rabbitmqEngine,
  nats: natsEngine,
};

const engineName = process.env.HERALD_SOAK_ENGINE ?? 'sqlite';
const engine = ENGINES[engineName];
if (engine === undefined)
  throw new Error(
    `HERALD_SOAK_ENGINE: expected one of ${Object.keys(ENGINES).join(', ')}, got "${engineName}"`,
  );
const minutes = Number(process.env.HERALD_SOAK_MINUTES ?? 10);
const rate = Number(process.env.HERALD_SOAK_RATE ?? 8);
if (!(minutes > 0) || !(rate > 0))
  throw new Error(`HERALD_SOAK_MINUTES and HERALD_SOAK_RATE must be > 0, got ${minutes} and ${rate}`);

const skip = await skipReason({ engine });
describe(
  `soak on ${engine.name}: ${rate} orders/s for ${minutes} min`,
  { timeout: (minutes * 60 + 300) * 1000, ...(skip === undefined ? {} : { skip }) },
  () => {
    it('settles every order with every invariant held, and no service grows', async () => {
      // Stock for the whole soak: with the catalogue's few units, orders after the first minutes would all be
      // cancelled for lack of stock, and the soak would measure cancellations only.
      const shop = await newShop({ engine, env: { INVENTORY_INITIAL_STOCK: '1000000' } });
      try {
        await shop.startAll();
        const memory = new MemorySampler(shop, 1000);
        const startedAt = Date.now();
        const endAt = startedAt + minutes * 60_000;
        const { orders, latencies } = await steadyLoad(shop, {
          ordersPerSecond: rate,
          until: () => Date.now() >= endAt,
          deadline: endAt + 120_000,
          label: 'soak',
        });
        memory.stop();
        const ids = orders.map((o) => o.id);
        assert.equal(new Set(ids).size, ids.length, 'each idempotency key made one order');
        const states = await waitUntilSettled(shop, ids);
        await assertConsistent(shop, ids, states);

        const rss = memory.figures();
        const problems: string[] = [];
        for (const [label, figures] of Object.entries(rss)) {
          if (figures.peakMiB > PEAK_RSS_BOUND_MIB)
            problems.push(`${label}: peak RSS ${figures.peakMiB} MiB > ${PEAK_RSS_BOUND_MIB} MiB`);
          if (figures.lastThirdMiB - figures.firstThirdMiB > GROWTH_BOUND_MIB)
            problems.push(
              `${label}: RSS grew from ${figures.firstThirdMiB} to ${figures.lastThirdMiB} MiB (> ${GROWTH_BOUND_MIB} MiB)`,
            );
        }
        assert.deepEqual(problems, [], 'memory bounded');
        const path = writeFigures(`soak-${engine.name}`, {
          engine: engine.name,
          minutes,
          ordersPerSecondOffered: rate,
          orders: ids.length,
          ordersPerSecondAccepted: Math.round((ids.length / (minutes * 60)) * 10) / 10,
          confirmed: [...states.values()].filter((s) => s.status === 'CONFIRMED').length,
          cancelled: [...states.values()].filter((s) => s.status === 'CANCELLED').length,
          clientRetries: orders.reduce((sum, o) => sum + o.tries - 1, 0),
          settleLatencyMs: latencySummary(latencies),
          rssBoundMiB: PEAK_RSS_BOUND_MIB,
          growthBoundMiB: GROWTH_BOUND_MIB,
          rssMiB: rss,
          at: new Date().toISOString(),
        });
        console.log(`soak figures: ${path}`);
      } catch (error) {
        console.error(shop.tail(120));
        throw error;
      }
    });
  },
);
