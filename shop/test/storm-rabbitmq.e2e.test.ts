/** The SIGKILL storm (see `e2e/sigkill-storm.ts`) with the services on rabbitmq. 30 s by default in `npm test`. */
import { rabbitmqEngine } from './e2e/engines.ts';
import { describeSigkillStorm } from './e2e/sigkill-storm.ts';

await describeSigkillStorm({
  engine: rabbitmqEngine,
  seconds: Number(process.env.HERALD_STORM_SECONDS ?? 30),
});
