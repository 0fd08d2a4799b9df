/** Overload (see `e2e/overload.ts`) on Kafka. */
import { kafkaEngine } from './e2e/engines.ts';
import { describeOverload } from './e2e/overload.ts';

await describeOverload({ engine: kafkaEngine });
