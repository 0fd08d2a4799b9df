/**
 * End to end on NATS JetStream (`HERALD_BROKER=nats://…`), state in SQLite files. A topic prefix per run keeps
 * reruns apart; the run's streams are deleted afterwards.
 */
import { natsEngine } from './e2e/engines.ts';
import { describeShopEndToEnd } from './e2e/shop-scenario.ts';

await describeShopEndToEnd({ engine: natsEngine });
