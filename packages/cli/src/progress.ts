import type { ReplayProgress } from './dead-letter-ops.ts';

/**
 * A progress bar on `stream` for a replay of several dead letters, redrawn in place; nothing when the stream is
 * not a terminal (logs and pipes get the final summary only).
 */
export function progressBar(stream: NodeJS.WriteStream): {
  update(progress: ReplayProgress): void;
  done(): void;
} {
  const enabled = stream.isTTY;
  let drawn = false;
  return {
    update(p) {
      if (!enabled || p.total < 2) return;
      const width = 30;
      const filled = Math.round((p.done / p.total) * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      stream.write(
        `\r${bar} ${p.done}/${p.total} replayed ${p.replayed}, refused ${p.refused}, failed ${p.failed}`,
      );
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}
