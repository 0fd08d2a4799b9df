/** Overload (see `e2e/overload.ts`) on NATS JetStream. */
import { natsEngine } from './e2e/engines.ts';
import { describeOverload } from './e2e/overload.ts';

await describeOverload({ engine: natsEngine });
