/**
 * End to end on RabbitMQ (`HERALD_BROKER=amqp://…`), state in SQLite files. A topic prefix per run keeps reruns
 * apart; the run's queues and exchanges are deleted afterwards.
 */
import { rabbitmqEngine } from './e2e/engines.ts';
import { describeShopEndToEnd } from './e2e/shop-scenario.ts';

await describeShopEndToEnd({ engine: rabbitmqEngine });
