import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseFiguresName, readFigures } from '../../scripts/reliability/figures.ts';
import { END, renderFigures, START, withFigures } from '../../scripts/reliability/render.ts';

const run = {
  date: '2026-12-03',
  machine: '2 cores',
  versions: ['Node v24.0.0'],
  command: '`npm run reliability`',
};

describe('npm run reliability: the figures page', () => {
  it('names figures files by kind and engine, and ignores anything else', () => {
    assert.deepEqual(parseFiguresName('sigkill-storm-kafka.json'), {
      kind: 'sigkill-storm',
      engine: 'kafka',
    });
    assert.deepEqual(parseFiguresName('postgres-restart-sqlite.json'), {
      kind: 'postgres-restart',
      engine: 'sqlite',
    });
    assert.equal(parseFiguresName('sigkill-storm-kafka.json.tmp'), undefined);
    assert.equal(parseFiguresName('notes-unknownengine.json'), undefined);
  });

  it('reads every figures file of a folder, sorted by kind then engine order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-figures-'));
    writeFileSync(join(dir, 'sigkill-storm-nats.json'), JSON.stringify({ ordersAccepted: 3 }));
    writeFileSync(join(dir, 'sigkill-storm-sqlite.json'), JSON.stringify({ ordersAccepted: 1 }));
    writeFileSync(join(dir, 'overload-kafka.json'), JSON.stringify({ peakRssMb: 90 }));
    writeFileSync(join(dir, 'README.txt'), 'not figures');
    assert.deepEqual(
      readFigures(dir).map((f) => `${f.kind}/${f.engine}`),
      ['overload/kafka', 'sigkill-storm/sqlite', 'sigkill-storm/nats'],
    );
    assert.deepEqual(readFigures(join(dir, 'absent')), []);
  });

  it('shows a storm as one row per engine with its kills per service, and the run it came from', () => {
    const section = renderFigures(
      [
        {
          kind: 'sigkill-storm',
          engine: 'kafka',
          values: {
            seconds: 30,
            ordersAccepted: 1206,
            confirmed: 1000,
            cancelled: 206,
            kills: {
              'order-service': 2,
              'payment-service': 1,
              'inventory-service': 0,
              'notification-service': 4,
            },
            totalKills: 7,
            clientRetries: 12,
            notificationsSent: 1206,
          },
        },
      ],
      run,
    );
    assert.match(section, /Measured by `npm run reliability` on 2026-12-03: 2 cores; Node v24\.0\.0\./);
    assert.match(section, /\*\*SIGKILL storm\*\*/);
    assert.match(section, /\| kafka \| 30 \| 1,206 \| 1,000 \| 206 \| 7 \(2\/1\/0\/4\) \| 12 \| 1,206 \|/);
  });

  it('shows a kind it has no view for with every field as measured, and says when there is nothing', () => {
    const section = renderFigures(
      [{ kind: 'chaos', engine: 'nats', values: { lost: 0, peak: { order: 91.5 }, at: 'x' } }],
      run,
    );
    assert.match(section, /\| engine \| lost \| peak \|/);
    assert.match(section, /\| nats \| 0 \| order: 91\.5 \|/);
    assert.match(renderFigures([], run), /No figures yet/);
  });

  it('replaces only what lies between the markers, the same way every time', async () => {
    const doc = `# Reliability\n\nBefore.\n\n${START}\n\nold figures\n\n${END}\n\nAfter.\n`;
    const once = await withFigures(doc, 'new figures');
    assert.equal(once, `# Reliability\n\nBefore.\n\n${START}\n\nnew figures\n\n${END}\n\nAfter.\n`);
    assert.equal(await withFigures(once, 'new figures'), once);
    await assert.rejects(withFigures('# no markers\n', 'x'), /lacks the .* markers/);
  });
});
