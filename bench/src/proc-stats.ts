import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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

/**
 * The pid of the process listening on a loopback TCP port (the Kafka broker is a `java` among others), from
 * /proc/net/tcp and each process's open sockets; undefined when none is found or readable.
 */
export function pidListeningOn(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is "IP:PORT" in hex; state 0A is LISTEN; field 9 is the socket's inode.
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A' && f[9] !== undefined)
        inodes.add(`socket:[${f[9]}]`);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // The descriptor closed meanwhile.
      }
    }
  }
  return undefined;
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
