/** Overload (see `e2e/overload.ts`) on the embedded broker (SQLite). */
import { sqliteEngine } from './e2e/engines.ts';
import { describeOverload } from './e2e/overload.ts';

await describeOverload({ engine: sqliteEngine });
