import { Admin } from '@platformatic/kafka';
import { KAFKA_BROKERS } from './kafka-config.ts';

/** An admin client of the B2 broker (the caller closes it). */
export function kafkaAdmin(): Admin {
  return new Admin({ clientId: 'herald-bench-admin', bootstrapBrokers: KAFKA_BROKERS, retries: 2 });
}

/** Whether the broker answers a metadata request within a few seconds. */
export async function kafkaReachable(): Promise<boolean> {
  const admin = new Admin({
    clientId: 'herald-bench-probe',
    bootstrapBrokers: KAFKA_BROKERS,
    connectTimeout: 3000,
    retries: 0,
  });
  try {
    await admin.metadata({ topics: [] });
    return true;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => undefined);
  }
}
