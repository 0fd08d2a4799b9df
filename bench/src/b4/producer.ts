import type pg from 'pg';
import { transaction } from '@herald/postgres';
import { nowUs } from '../clock.ts';
import type { ProducerDriver } from '../driver.ts';
import { fixedRate, saturate } from '../load.ts';
import type { PhaseCommand, PhaseDone } from './protocol.ts';
import type { BusinessWrite } from './writers.ts';

/** Business transactions in flight at once in the throughput phase (and connections of the producer's pool). */
export const PRODUCER_WINDOW = 8;

/**
 * Runs one phase: `count` business transactions (BEGIN, the system's write, COMMIT), as fast as
 * {@link PRODUCER_WINDOW} connections commit them (throughput) or at `rate` per second, open loop (latency). Each
 * transaction's commit time is taken when its COMMIT resolves.
 */
export async function runPhase(
  pool: pg.Pool,
  write: BusinessWrite,
  command: PhaseCommand,
): Promise<PhaseDone> {
  const commitUs = new Array<number>(command.count).fill(-1);
  const commit = async (seq: number): Promise<void> => {
    await transaction(pool, (client) => write(client, seq));
    commitUs[seq - command.from] = nowUs();
  };
  const driver: ProducerDriver = {
    async publishBatch(from, n) {
      for (let i = 0; i < n; i++) await commit(command.from + from + i);
    },
    publishOne: (seq) => commit(command.from + seq),
    close: () => Promise.resolve(),
  };
  const outcome =
    command.phase === 'throughput'
      ? await saturate(driver, command.count, 1, PRODUCER_WINDOW)
      : await fixedRate(driver, command.count, command.rate);
  return {
    type: 'phase-done',
    phase: command.phase,
    committed: outcome.acked,
    firstUs: outcome.firstUs,
    lastUs: outcome.lastUs,
    commitUs,
  };
}
