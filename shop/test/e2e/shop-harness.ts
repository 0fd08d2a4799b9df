/**
 * The shop as separate processes for end-to-end tests: any engine (`Engine`), state in SQLite files or in
 * PostgreSQL, a fresh data folder, database and topic prefix per shop, free ports. Keeps each process's output
 * to print on failure, and removes everything it made when disposed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnService, type ServiceChild, type ServiceName } from '../../src/runtime/spawn-service.ts';
import { uniquePrefix, type Engine } from './engines.ts';
import {
  createRunDatabase,
  dropRunDatabase,
  postgresReader,
  sqliteReader,
  type StateReader,
} from './state.ts';

export const SERVICE_NAMES: ServiceName[] = [
  'order-service',
  'payment-service',
  'inventory-service',
  'notification-service',
];

/** Options of {@link Shop.create}. */
export interface ShopOptions {
  readonly engine: Engine;
  /** Keep the services' state in PostgreSQL (a database created for this shop) instead of SQLite files. */
  readonly postgres?: boolean;
  /**
   * `HERALD_TOPIC_PREFIX`. Default: unique to this shop (its topics are removed afterwards). `''` uses the
   * contracts' own names, shared with other runs, and removes nothing.
   */
  readonly topicPrefix?: string;
  /** `HERALD_BROKER` instead of the engine's. */
  readonly brokerUrl?: string;
  /** More environment variables for every service (`HERALD_ACCEPT_PLAIN_JSON`, say). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Every child of every shop of this test file, killed at the end whatever happened. */
const everyChild = new Set<ServiceChild>();

/** Kills what is still running (after a failed test). */
export async function killLeftovers(): Promise<void> {
  for (const child of everyChild) child.process.kill('SIGKILL');
  await Promise.all([...everyChild].map((child) => child.exited));
}

/** One shop: its processes (several instances of a service if asked), data folder, database and prefix. */
export class Shop {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'herald-shop-e2e-'));
  readonly topicPrefix: string;
  /** Running (or stopped) instances by label: the service name, or `payment-service#2` for extra instances. */
  readonly children = new Map<string, ServiceChild>();
  readonly output: string[] = [];
  readonly outputByInstance = new Map<string, string[]>();
  /** The URL each instance serves on (by label), once it is ready. */
  readonly urls = new Map<string, string>();
  orderUrl = '';
  reader!: StateReader;
  private database: { name: string; url: string } | undefined;

  private constructor(
    readonly engine: Engine,
    private readonly options: ShopOptions,
  ) {
    this.topicPrefix = options.topicPrefix ?? uniquePrefix(engine.name);
  }

  /** The units of every SKU the inventory was seeded with: `INVENTORY_INITIAL_STOCK` when set, else the catalogue's. */
  initialStockOf(product: { readonly initialStock: number }): number {
    const seeded = this.options.env?.INVENTORY_INITIAL_STOCK;
    return seeded === undefined ? product.initialStock : Number(seeded);
  }

  static async create(options: ShopOptions): Promise<Shop> {
    const shop = new Shop(options.engine, options);
    if (options.postgres === true) {
      shop.database = await createRunDatabase();
      shop.reader = postgresReader(shop.database.url);
    } else {
      shop.reader = sqliteReader(shop.dataDir);
    }
    return shop;
  }

  get storage(): 'postgres' | 'sqlite' {
    return this.database === undefined ? 'sqlite' : 'postgres';
  }

  env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HERALD_DATA_DIR: this.dataDir,
      HERALD_BROKER: this.options.brokerUrl ?? this.engine.brokerUrl(this.dataDir),
      HERALD_TOPIC_PREFIX: this.topicPrefix,
      DATABASE_URL: this.database?.url ?? '',
      PORT: '0',
      PAYMENT_LIMIT: '5000.00',
      ...this.options.env,
    };
  }

  /** Starts an instance of `name` (labelled `label`, default the name); resolves with its URL once it serves. */
  async start(name: ServiceName, label: string = name): Promise<string> {
    const child = spawnService(name, { env: this.env(), stdio: 'pipe', readyTimeoutMs: 60_000 });
    everyChild.add(child);
    void child.exited.then(() => everyChild.delete(child));
    const own: string[] = [];
    this.outputByInstance.set(label, own);
    for (const stream of [child.process.stdout, child.process.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        own.push(chunk);
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) this.output.push(`[${label}] ${line}\n`);
      });
    }
    this.children.set(label, child);
    const url = await child.ready;
    this.urls.set(label, url);
    if (name === 'order-service') this.orderUrl = url;
    return url;
  }

  async startAll(): Promise<void> {
    await Promise.all(SERVICE_NAMES.map((name) => this.start(name)));
  }

  async kill(label: string): Promise<void> {
    const child = this.children.get(label)!;
    child.process.kill('SIGKILL');
    await child.exited;
  }

  /** Graceful stop: SIGTERM to every running instance; resolves with their exit codes. */
  async stopAll(): Promise<(number | NodeJS.Signals)[]> {
    const running = [...this.children.values()].filter(
      (c) => c.process.exitCode === null && c.process.signalCode === null,
    );
    for (const child of running) child.process.kill('SIGTERM');
    return Promise.all(running.map((child) => child.exited));
  }

  /** How many lines of an instance's output match `pattern`. */
  countOutput(label: string, pattern: RegExp): number {
    return (this.outputByInstance.get(label) ?? [])
      .join('')
      .split('\n')
      .filter((line) => pattern.test(line)).length;
  }

  tail(lines = 80): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }

  /** Kills what still runs, then removes the data folder, the database and the broker's topics of this shop. */
  async dispose(): Promise<void> {
    for (const child of this.children.values()) child.process.kill('SIGKILL');
    await Promise.all([...this.children.values()].map((child) => child.exited));
    await this.reader.close();
    rmSync(this.dataDir, { recursive: true, force: true });
    const problems: unknown[] = [];
    if (this.database !== undefined)
      await dropRunDatabase(this.database.name).catch((e: unknown) => problems.push(e));
    // Without a prefix the names are shared with other runs: nothing to remove.
    if (this.topicPrefix !== '')
      await this.engine.cleanUp(this.topicPrefix).catch((e: unknown) => problems.push(e));
    if (problems.length > 0) console.error(`cleanup of ${this.topicPrefix} was incomplete`, problems);
  }
}
