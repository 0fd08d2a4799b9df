/** The NATS server restarted under load (see `e2e/broker-restart.ts`); exclusive: it stops the shared server. */
import { describeBrokerRestart } from './e2e/broker-restart.ts';
import { natsEngine } from './e2e/engines.ts';
import { natsRestart } from './e2e/server-restart.ts';

await describeBrokerRestart({ engine: natsEngine, restart: natsRestart });
