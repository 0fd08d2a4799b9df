import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The pid of a running server binary (`redis-server`, `nats-server`), or undefined when none runs. */
export function pidOf(binary: string): number | undefined {
  try {
    const pids = execFileSync('pidof', [binary], { encoding: 'utf8' }).trim().split(/\s+/);
    return pids.length === 1 ? Number(pids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU time the process has used, µs (10 ms resolution: /proc counts clock ticks). */
export function cpuUsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_S;
}

/** Resident set size of the process now, KiB. */
export function rssKbOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** Watches a broker process over a trial: CPU used between start and stop, and its peak RSS (sampled). */
export class BrokerMeter {
  readonly #pid: number;
  #cpuStart = 0;
  #peakRssKb = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(pid: number) {
    this.#pid = pid;
  }

  start(): void {
    this.#cpuStart = cpuUsOf(this.#pid);
    this.#peakRssKb = rssKbOf(this.#pid);
    this.#timer = setInterval(() => {
      this.#peakRssKb = Math.max(this.#peakRssKb, rssKbOf(this.#pid));
    }, 50);
  }

  stop(): { cpuUs: number; peakRssKb: number } {
    clearInterval(this.#timer);
    this.#peakRssKb = Math.max(this.#peakRssKb, rssKbOf(this.#pid));
    return { cpuUs: cpuUsOf(this.#pid) - this.#cpuStart, peakRssKb: this.#peakRssKb };
  }
}

/** CPU time every process of the machine has used (all cores, from /proc/stat), µs. */
export function machineBusyUs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1e6) /
    CLOCK_TICKS_PER_S
  );
}
