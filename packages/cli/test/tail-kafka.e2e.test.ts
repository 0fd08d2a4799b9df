import assert from 'node:assert/strict';
import { Admin } from '@platformatic/kafka';
import { tailWorkflow } from './tail-workflow.ts';

const url = process.env.KAFKA_URL ?? 'kafka://127.0.0.1:19092';

tailWorkflow({
  name: 'Kafka',
  url,
  afterTail: async ({ group, stderr }) => {
    assert.match(stderr, new RegExp(`removed group ${group}`));
    const admin = new Admin({ clientId: 'cli-test', bootstrapBrokers: [url.slice('kafka://'.length)] });
    try {
      const groups = await admin.listGroups();
      assert.ok(![...groups.keys()].includes(group), `group ${group} is deleted`);
      const topics = await admin.listTopics();
      assert.deepEqual(
        topics.filter((t) => t.includes(group)),
        [],
        'its retry and dead-letter topics are deleted',
      );
    } finally {
      await admin.close();
    }
  },
});
