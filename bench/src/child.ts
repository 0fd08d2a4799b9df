import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ConsumerResult, ParentMessage, ProducerResult, WorkerArgs } from './protocol.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const STDERR_TAIL = 4000;

/**
 * A child process of a trial, seen from the orchestrator: by default a producer or consumer of worker.ts; a suite
 * with processes of its own (B4, lanes) passes its `entry` module and the type `R` of its `result` message.
 */
export class Child<R = ProducerResult | ConsumerResult> {
  readonly name: string;
  readonly #process: ChildProcess;
  #stderr = '';
  #exited: Promise<void>;
  #failure: Promise<never>;
  readonly ready: Promise<void>;
  readonly result: Promise<R>;
  /** Latest count of distinct events a consumer reported. */
  distinct = 0;
  onProgress: () => void = () => undefined;
  /** Messages of a type this class does not handle itself (a suite's own protocol). */
  onMessage: (message: { readonly type: string }) => void = () => undefined;

  constructor(name: string, args: WorkerArgs | object, cwd: string, entry: string = WORKER) {
    this.name = name;
    this.#process = fork(entry, [JSON.stringify(args)], {
      cwd,
      // Herald from its built `dist/` (what users install; `npm run bench` builds it first), like the peers, which run
      // as plain JavaScript; under the tests, NODE_OPTIONS carries the `@herald/source` condition to the child.
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.#process.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-STDERR_TAIL);
    });
    this.#exited = new Promise((resolve) => this.#process.once('exit', () => resolve()));
    let fail: (error: Error) => void = () => undefined;
    this.#failure = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.#failure.catch(() => undefined);
    this.#process.once('exit', (code, signal) => {
      fail(new Error(`${name} exited (${signal ?? code}) before finishing${this.#tail()}`));
    });
    let readyResolve: () => void = () => undefined;
    let resultResolve: (result: R) => void = () => undefined;
    this.ready = Promise.race([new Promise<void>((r) => (readyResolve = r)), this.#failure]);
    this.result = Promise.race([new Promise<R>((r) => (resultResolve = r)), this.#failure]);
    this.ready.catch(() => undefined);
    this.result.catch(() => undefined);
    this.#process.on('message', (message: ChildMessage) => {
      switch (message.type) {
        case 'ready':
          readyResolve();
          break;
        case 'progress':
          this.distinct = message.distinct;
          this.onProgress();
          break;
        case 'producer-result':
        case 'consumer-result':
        case 'result':
          resultResolve(message.result as R);
          break;
        case 'error':
          fail(new Error(`${name} failed: ${message.message}`));
          break;
        default:
          this.onMessage(message);
      }
    });
  }

  #tail(): string {
    const tail = this.#stderr.trim();
    return tail === '' ? '' : `\n${tail}`;
  }

  send(message: ParentMessage | { readonly type: string; readonly [field: string]: unknown }): void {
    if (this.#process.connected) this.#process.send(message);
  }

  /** Waits for the process to exit, killing it after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.#process.exitCode === null && this.#process.signalCode === null) this.#process.kill('SIGKILL');
  }
}
