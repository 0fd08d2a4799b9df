/**
 * PostgreSQL restarted under load while it keeps the four services' state (see `e2e/broker-restart.ts`), the
 * shop on the embedded broker; exclusive: it stops the shared PostgreSQL server.
 */
import { describeBrokerRestart } from './e2e/broker-restart.ts';
import { sqliteEngine } from './e2e/engines.ts';
import { postgresRestart } from './e2e/server-restart.ts';

await describeBrokerRestart({ engine: sqliteEngine, restart: postgresRestart, postgres: true });
