/** The Kafka broker restarted under load (see `e2e/broker-restart.ts`); exclusive: it stops the shared broker. */
import { describeBrokerRestart } from './e2e/broker-restart.ts';
import { kafkaEngine } from './e2e/engines.ts';
import { kafkaRestart } from './e2e/server-restart.ts';

await describeBrokerRestart({ engine: kafkaEngine, restart: kafkaRestart });
