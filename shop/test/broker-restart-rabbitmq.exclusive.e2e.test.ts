/** RabbitMQ restarted under load (see `e2e/broker-restart.ts`); exclusive: it stops the shared broker. */
import { describeBrokerRestart } from './e2e/broker-restart.ts';
import { rabbitmqEngine } from './e2e/engines.ts';
import { rabbitmqRestart } from './e2e/server-restart.ts';

await describeBrokerRestart({ engine: rabbitmqEngine, restart: rabbitmqRestart });
