/** The SIGKILL storm (see `e2e/sigkill-storm.ts`) on the embedded broker, the default. */
import { sqliteEngine } from './e2e/engines.ts';
import { describeSigkillStorm } from './e2e/sigkill-storm.ts';

await describeSigkillStorm({ engine: sqliteEngine });
