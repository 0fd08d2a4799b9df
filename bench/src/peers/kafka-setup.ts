import type { TrialContext, TrialResources } from '../system.ts';
import { kafkaAdmin } from './kafka-admin.ts';
import { createKafkaTopic, deleteKafkaTopics, fillKafkaTopic } from './kafka-fill.ts';

/**
 * The resources of a B2 trial, the same for every Kafka system: a new 3-partition topic named after the trial
 * (publish trials), or the topic filled for this repetition's consume trials, read by a new group per system.
 * `prefix` names the trial's groups (`<prefix>-<group>`) and Herald's own topics (`<prefix>.<group>.retry|dlq`);
 * the teardown deletes all of them.
 */
export async function kafkaSetup(context: TrialContext): Promise<TrialResources> {
  const prefix = `hb-${context.name}`;
  const consume = context.mode === 'consume';
  const topic = consume ? context.shared.topic! : prefix;
  if (!consume) await createKafkaTopic(topic);
  return {
    resources: { topic, prefix },
    async teardown() {
      await deleteKafkaTopics(consume ? [] : [topic], `${prefix}.`);
      const admin = kafkaAdmin();
      try {
        if (context.groups.length > 0 && consume) {
          await admin.deleteGroups({ groups: context.groups.map((g) => `${prefix}-${g}`) });
        }
      } catch {
        // Best effort: an empty group expires with the broker's offsets retention.
      } finally {
        await admin.close().catch(() => undefined);
      }
    },
  };
}

/** Stores the events of this repetition's consume trials once, for every system to read with its own group. */
export async function kafkaPrepareConsume(
  name: string,
  count: number,
  bytes: number,
): Promise<{ shared: Record<string, string>; teardown: () => Promise<void> }> {
  const topic = `hb-${name}`;
  try {
    await fillKafkaTopic(topic, count, bytes);
  } catch (error) {
    await deleteKafkaTopics([topic]);
    throw error;
  }
  return { shared: { topic }, teardown: () => deleteKafkaTopics([topic]) };
}
