// Samples the resident memory of the shop's service processes while B6 runs.
import { rssKbOf } from '../proc-stats.ts';

/** Peak and last RSS per process, MiB, sampled every `everyMs` from /proc. */
export class MemorySampler {
  readonly peakMiB: Record<string, number> = {};
  readonly lastMiB: Record<string, number> = {};
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => ReadonlyMap<string, number | undefined>,
    everyMs = 250,
  ) {
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample(): void {
    for (const [name, pid] of this.pids()) {
      if (pid === undefined) continue;
      let kb: number;
      try {
        kb = rssKbOf(pid);
      } catch {
        continue; // the process is gone
      }
      const mib = Math.round((kb / 1024) * 10) / 10;
      this.lastMiB[name] = mib;
      this.peakMiB[name] = Math.max(this.peakMiB[name] ?? 0, mib);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }
}
