/** A poison event and a flood of bad records (see `e2e/poison-flood.ts`) on RabbitMQ. */
import { rabbitmqEngine } from './e2e/engines.ts';
import { describePoisonFlood } from './e2e/poison-flood.ts';

await describePoisonFlood({ engine: rabbitmqEngine });
