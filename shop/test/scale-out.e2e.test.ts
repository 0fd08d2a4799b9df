/**
 * Scale out: three payment instances in one consumer group share the work and one state (one PostgreSQL schema
 * on Kafka; one SQLite file on the embedded broker, where the outbox relay's lease lets one instance publish at a
 * time); one is SIGKILLed mid-run; every order still ends right and nothing is charged twice.
 */
import { kafkaEngine, sqliteEngine } from './e2e/engines.ts';
import { describeScaleOut } from './e2e/shop-scenario.ts';

await describeScaleOut({ engine: sqliteEngine });
await describeScaleOut({ engine: kafkaEngine, postgres: true });
