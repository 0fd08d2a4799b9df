/**
 * End to end on Apache Kafka (`HERALD_BROKER=kafka://…`), with every service's state, outbox and inbox in its
 * own PostgreSQL schema (`DATABASE_URL`): the consistency checks read PostgreSQL. A topic prefix per run keeps
 * reruns apart. Needs the broker (`bash scripts/kafka/broker.sh start`) and PostgreSQL.
 */
import { kafkaEngine } from './e2e/engines.ts';
import { describeShopEndToEnd } from './e2e/shop-scenario.ts';

await describeShopEndToEnd({ engine: kafkaEngine, postgres: true });
