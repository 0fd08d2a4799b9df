// A nats-server of the test's own (its own port and store), which a test may stop and start again without
// touching the shared server: the contract suite's reconnect case restarts it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@herald/core/testing';
import { connect } from '@nats-io/transport-node';

/** The installed nats-server, or undefined. */
export const natsServerBinary = [
  '/usr/sbin/nats-server',
  '/usr/local/bin/nats-server',
  '/usr/bin/nats-server',
].find((path) => spawnSync(path, ['--version']).status === 0);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A private JetStream server on a free loopback port, its store in a temporary directory kept across restarts. */
export class PrivateNatsServer {
  readonly #binary: string;
  readonly #store = mkdtempSync(join(tmpdir(), 'herald-nats-'));
  #port: number | undefined;
  #process: ChildProcess | undefined;
  #starting: Promise<void> | undefined;

  constructor(binary: string) {
    this.#binary = binary;
  }

  /** `host:port`, once started. */
  get servers(): string {
    if (this.#port === undefined) throw new Error('the private nats-server is not started');
    return `127.0.0.1:${this.#port}`;
  }

  /** Starts the server if it is not running, and resolves once it accepts connections. */
  start(): Promise<void> {
    this.#starting ??= this.#start().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  async #start(): Promise<void> {
    if (this.#running()) return;
    this.#port ??= await freePort();
    this.#process = spawn(
      this.#binary,
      ['-a', '127.0.0.1', '-p', String(this.#port), '-js', '-sd', this.#store],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        try {
          await (await connect({ servers: this.servers, timeout: 500 })).close();
          return true;
        } catch {
          return false;
        }
      },
      15_000,
      'the private nats-server',
    );
  }

  #running(): boolean {
    const child = this.#process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Stops the server (SIGTERM, a clean shutdown) and resolves once it has exited. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (child === undefined || !this.#running()) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Stops the server and starts it again on the same port and store. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Kills the server and removes its store. */
  remove(): void {
    this.#process?.kill('SIGKILL');
    rmSync(this.#store, { recursive: true, force: true });
  }
}
