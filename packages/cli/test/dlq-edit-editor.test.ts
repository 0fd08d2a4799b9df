import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPublisher, transportFromUrl } from '@herald/core';
import { run } from '../src/main.ts';
import { captureIo, waitFor } from './capture-io.ts';
import { contractsModule, deadLetteringRouter, tempDir } from './cli-process.ts';
import { Charged } from './fixtures/contracts.ts';

const editor = `sh "${join(import.meta.dirname, 'fixtures', 'edit-cents.sh')}"`;

describe('herald dlq edit --editor', () => {
  it("replays the data as $EDITOR left it, validated; refuses an editor's failure or non-JSON", async () => {
    const broker = `sqlite:${join(tempDir(), 'herald.db')}`;
    const transport = await transportFromUrl(broker);
    const handled: { orderId: string; cents: number }[] = [];
    const router = deadLetteringRouter(transport);
    router.on(Charged, (event) => {
      if (event.data.cents < 100) throw new Error('amount below the minimum');
      handled.push(event.data);
    });
    await router.start();
    try {
      await createPublisher({ transport, source: '/t' }).publish(Charged, { orderId: 'o-1', cents: 5 });
      await waitFor(async () => (await transport.deadLetters!.list()).length === 1, 'the dead letter');
      const [dead] = await transport.deadLetters!.list();
      const env = (extra: Record<string, string>) => ({
        HERALD_BROKER: broker,
        HERALD_CONTRACTS: contractsModule,
        EDITOR: editor,
        ...extra,
      });

      const noEditor = captureIo({ HERALD_BROKER: broker });
      assert.equal(await run(['dlq', 'edit', dead!.id, '--editor'], noEditor), 2, noEditor.err());
      assert.match(noEditor.err(), /--editor needs \$VISUAL or \$EDITOR/);

      const failing = captureIo(env({ EDIT_MODE: 'fail' }));
      assert.equal(await run(['dlq', 'edit', dead!.id, '--editor'], failing), 2, failing.err());
      assert.match(failing.err(), /the editor exited with 3/);

      const garbage = captureIo(env({ EDIT_MODE: 'garbage' }));
      assert.equal(await run(['dlq', 'edit', dead!.id, '--editor'], garbage), 2, garbage.err());
      assert.match(garbage.err(), /the edited data is not valid JSON/);

      const invalid = captureIo(env({ EDIT_CENTS: '-1' }));
      assert.equal(await run(['dlq', 'edit', dead!.id, '--editor'], invalid), 1);
      assert.match(invalid.err(), /HERALD_VALIDATION: Invalid cli\.test\.Charged: cents: /);
      assert.equal((await transport.deadLetters!.list()).length, 1, 'nothing replayed so far');
      assert.deepEqual(handled, []);

      const edited = captureIo(env({ EDIT_CENTS: '150' }));
      assert.equal(await run(['dlq', 'edit', dead!.id, '--editor'], edited), 0, edited.err());
      assert.match(edited.out(), new RegExp(`replayed ${dead!.id}`));
      await waitFor(() => handled.length === 1, 'the edited event to be handled');
      assert.deepEqual(handled, [{ orderId: 'o-1', cents: 150 }]);
      assert.deepEqual(await transport.deadLetters!.list(), []);
    } finally {
      await router.close();
      await transport.close();
    }
  });
});
