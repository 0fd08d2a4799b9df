/**
 * End to end on the embedded broker (the default): the four services as separate processes sharing one SQLite
 * log in a temporary data folder, each with its own SQLite state. See `e2e/shop-scenario.ts`.
 */
import { sqliteEngine } from './e2e/engines.ts';
import { describeShopEndToEnd } from './e2e/shop-scenario.ts';

await describeShopEndToEnd({ engine: sqliteEngine });
