/** Overload (see `e2e/overload.ts`) on RabbitMQ. */
import { rabbitmqEngine } from './e2e/engines.ts';
import { describeOverload } from './e2e/overload.ts';

await describeOverload({ engine: rabbitmqEngine });
