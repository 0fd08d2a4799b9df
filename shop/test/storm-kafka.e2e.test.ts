/** The SIGKILL storm (see `e2e/sigkill-storm.ts`) with the services on kafka. 30 s by default in `npm test`. */
import { kafkaEngine } from './e2e/engines.ts';
import { describeSigkillStorm } from './e2e/sigkill-storm.ts';

await describeSigkillStorm({ engine: kafkaEngine, seconds: Number(process.env.HERALD_STORM_SECONDS ?? 30) });
