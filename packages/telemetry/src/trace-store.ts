import Database from 'better-sqlite3';
import { configError, ensurePrivateFile } from '@herald/core';

/** One span as the local trace store keeps it. Times are microseconds since the epoch. */
export interface StoredSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** `INTERNAL`, `SERVER`, `CLIENT`, `PRODUCER` or `CONSUMER`. */
  readonly kind: string;
  /** The `service.name` of the process that recorded it. */
  readonly service: string;
  /** The instrumentation scope (`@herald/core`, `@herald/telemetry/http`...). */
  readonly scope: string;
  readonly startUs: number;
  readonly durationUs: number;
  /** `UNSET`, `OK` or `ERROR`. */
  readonly status: string;
  readonly statusMessage: string | undefined;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly events: readonly {
    readonly name: string;
    readonly timeUs: number;
    readonly attributes: Readonly<Record<string, unknown>>;
  }[];
  readonly links: readonly {
    readonly traceId: string;
    readonly spanId: string;
    readonly attributes: Readonly<Record<string, unknown>>;
  }[];
}

/** A trace as `recentTraces` lists it. */
export interface TraceSummary {
  readonly traceId: string;
  /** Start of the earliest span and end of the latest one stored, µs since the epoch. */
  readonly startUs: number;
  readonly endUs: number;
  /** The span without a parent, once stored (a trace whose root is elsewhere has none). */
  readonly rootName: string | undefined;
  readonly rootService: string | undefined;
  readonly spanCount: number;
  readonly errorCount: number;
  /** The services that recorded its spans, sorted. */
  readonly services: readonly string[];
}

/** A filter for {@link TraceStore.recentTraces}. */
export interface RecentTracesQuery {
  /** At most this many, newest first. Default 50, at most 1000. */
  readonly limit?: number;
  /** Only traces that started before this time (µs since the epoch): the cursor of the next page. */
  readonly beforeUs?: number;
  /** Only traces a span of this service belongs to. */
  readonly service?: string;
  /** Only traces with a span whose status is error. */
  readonly errorsOnly?: boolean;
}

/** How long the store keeps traces. Whichever bound is reached first prunes the oldest traces. */
export interface TraceRetention {
  /** Traces kept at most. Default 10,000. */
  readonly maxTraces?: number;
  /** Traces that started longer ago than this are dropped, ms. Default 24 h. */
  readonly maxAgeMs?: number;
  /** How often a writer prunes, at most, ms. Default 10 s. */
  readonly pruneIntervalMs?: number;
}

/** Options of {@link openTraceStore}. */
export interface TraceStoreOptions extends TraceRetention {
  /** The SQLite file, shared by every process of the machine (created with its folder if missing). */
  readonly path: string;
}

/**
 * Traces kept in a SQLite file so an operator console can show them without any tracing backend. Every service
 * process of the machine writes its spans to the same file (WAL mode; each batch is one short transaction), so one
 * trace holds the spans of all of them. Retention is bounded by count and age. See `docs/observability.md` for the
 * schema.
 */
export interface TraceStore {
  readonly path: string;
  /** Stores spans (a span stored twice replaces the first copy) and prunes when the interval has passed. */
  write(spans: readonly StoredSpan[]): void;
  /** The spans of one trace, by start time; empty when unknown or pruned. */
  trace(traceId: string): StoredSpan[];
  /** The newest traces, by start time. */
  recentTraces(query?: RecentTracesQuery): TraceSummary[];
  /** Applies the retention now. Returns how many traces were dropped. */
  prune(nowMs?: number): number;
  close(): void;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS traces (
  trace_id     TEXT PRIMARY KEY,
  start_us     INTEGER NOT NULL,
  end_us       INTEGER NOT NULL,
  root_name    TEXT,
  root_service TEXT,
  span_count   INTEGER NOT NULL,
  error_count  INTEGER NOT NULL,
  services     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_us);
CREATE TABLE IF NOT EXISTS spans (
  trace_id       TEXT NOT NULL,
  span_id        TEXT NOT NULL,
  parent_span_id TEXT,
  name           TEXT NOT NULL,
  kind           TEXT NOT NULL,
  service        TEXT NOT NULL,
  scope          TEXT NOT NULL,
  start_us       INTEGER NOT NULL,
  duration_us    INTEGER NOT NULL,
  status         TEXT NOT NULL,
  status_message TEXT,
  attributes     TEXT NOT NULL,
  events         TEXT NOT NULL,
  links          TEXT NOT NULL,
  PRIMARY KEY (trace_id, span_id)
) WITHOUT ROWID;
`;

interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  service: string;
  scope: string;
  start_us: number;
  duration_us: number;
  status: string;
  status_message: string | null;
  attributes: string;
  events: string;
  links: string;
}

interface TraceRow {
  trace_id: string;
  start_us: number;
  end_us: number;
  root_name: string | null;
  root_service: string | null;
  span_count: number;
  error_count: number;
  services: string;
}

/** What one written batch adds to a trace's summary row. */
interface TraceDelta {
  startUs: number;
  endUs: number;
  rootName: string | null;
  rootService: string | null;
  spans: number;
  errors: number;
  services: Set<string>;
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw configError(option, 'an integer >= 1', value);
  return value;
}

/**
 * Opens (creating if missing: the file 0600, new folders 0700, see `ensurePrivateFile`) the local trace store at
 * `options.path`. Options are checked at once
 * (`HERALD_CONFIG`).
 */
export function openTraceStore(options: TraceStoreOptions): TraceStore {
  if (typeof options.path !== 'string' || options.path === '')
    throw configError('path', 'the path of the trace store file', options.path);
  const maxTraces = positiveInteger('maxTraces', options.maxTraces, 10_000);
  const maxAgeMs = positiveInteger('maxAgeMs', options.maxAgeMs, 24 * 60 * 60 * 1000);
  const pruneIntervalMs = options.pruneIntervalMs ?? 10_000;
  if (!(pruneIntervalMs >= 0)) throw configError('pruneIntervalMs', 'a number >= 0', pruneIntervalMs);
  // Spans carry event attributes and ids: the file (so its WAL and shared memory) 0600, new folders 0700.
  ensurePrivateFile(options.path);
  const db = new Database(options.path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw configError('path', `a trace store of schema version ${SCHEMA_VERSION} or older`, version);
  }
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);

  const insertSpan = db.prepare<[SpanRow]>(
    `INSERT OR REPLACE INTO spans (trace_id, span_id, parent_span_id, name, kind, service, scope, start_us,
       duration_us, status, status_message, attributes, events, links)
     VALUES (@trace_id, @span_id, @parent_span_id, @name, @kind, @service, @scope, @start_us, @duration_us,
       @status, @status_message, @attributes, @events, @links)`,
  );
  // Merges a batch's delta into the trace's summary: span counts add up, times widen, services union.
  const upsertTrace = db.prepare<[TraceRow]>(
    `INSERT INTO traces (trace_id, start_us, end_us, root_name, root_service, span_count, error_count, services)
     VALUES (@trace_id, @start_us, @end_us, @root_name, @root_service, @span_count, @error_count, @services)
     ON CONFLICT (trace_id) DO UPDATE SET
       start_us = min(traces.start_us, excluded.start_us),
       end_us = max(traces.end_us, excluded.end_us),
       root_name = coalesce(excluded.root_name, traces.root_name),
       root_service = coalesce(excluded.root_service, traces.root_service),
       span_count = traces.span_count + excluded.span_count,
       error_count = traces.error_count + excluded.error_count,
       services = (SELECT json_group_array(value) FROM (
         SELECT value FROM json_each(traces.services) UNION SELECT value FROM json_each(excluded.services)
         ORDER BY value))`,
  );
  const selectTrace = db.prepare<[string], SpanRow>(
    'SELECT * FROM spans WHERE trace_id = ? ORDER BY start_us, span_id',
  );
  const cutoffByCount = db
    .prepare<[number], number>('SELECT start_us FROM traces ORDER BY start_us DESC LIMIT 1 OFFSET ?')
    .pluck();
  const deleteSpans = db.prepare<[number]>(
    'DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM traces WHERE start_us <= ?)',
  );
  const deleteTraces = db.prepare<[number]>('DELETE FROM traces WHERE start_us <= ?');
  let lastPrune = 0;

  // Called with `.immediate`: several processes write this file, and a deferred transaction that reads before it
  // writes fails at once with SQLITE_BUSY instead of waiting for the lock (the busy timeout cannot apply).
  const writeBatch = db.transaction((spans: readonly StoredSpan[]) => {
    const deltas = new Map<string, TraceDelta>();
    for (const span of spans) {
      const endUs = span.startUs + span.durationUs;
      const isRoot = span.parentSpanId === undefined;
      insertSpan.run({
        trace_id: span.traceId,
        span_id: span.spanId,
        parent_span_id: span.parentSpanId ?? null,
        name: span.name,
        kind: span.kind,
        service: span.service,
        scope: span.scope,
        start_us: span.startUs,
        duration_us: span.durationUs,
        status: span.status,
        status_message: span.statusMessage ?? null,
        attributes: JSON.stringify(span.attributes),
        events: JSON.stringify(span.events),
        links: JSON.stringify(span.links),
      });
      let delta = deltas.get(span.traceId);
      if (delta === undefined) {
        delta = {
          startUs: span.startUs,
          endUs,
          rootName: null,
          rootService: null,
          spans: 0,
          errors: 0,
          services: new Set(),
        };
        deltas.set(span.traceId, delta);
      }
      delta.startUs = Math.min(delta.startUs, span.startUs);
      delta.endUs = Math.max(delta.endUs, endUs);
      delta.spans++;
      if (span.status === 'ERROR') delta.errors++;
      delta.services.add(span.service);
      if (isRoot) {
        delta.rootName = span.name;
        delta.rootService = span.service;
      }
    }
    for (const [traceId, delta] of deltas) {
      upsertTrace.run({
        trace_id: traceId,
        start_us: delta.startUs,
        end_us: delta.endUs,
        root_name: delta.rootName,
        root_service: delta.rootService,
        span_count: delta.spans,
        error_count: delta.errors,
        services: JSON.stringify([...delta.services].sort()),
      });
    }
  });

  const pruneNow = db.transaction((nowMs: number): number => {
    const byAge = (nowMs - maxAgeMs) * 1000 - 1;
    const byCount = cutoffByCount.get(maxTraces);
    const cutoff = byCount === undefined ? byAge : Math.max(byAge, byCount);
    deleteSpans.run(cutoff);
    return deleteTraces.run(cutoff).changes;
  });

  const store: TraceStore = {
    path: options.path,
    write(spans) {
      if (spans.length > 0) writeBatch.immediate(spans);
      const now = Date.now();
      if (now - lastPrune >= pruneIntervalMs) store.prune(now);
    },
    trace(traceId) {
      return selectTrace.all(traceId).map(fromRow);
    },
    recentTraces(query = {}) {
      const limit = Math.min(positiveInteger('limit', query.limit, 50), 1000);
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (query.beforeUs !== undefined) {
        where.push('start_us < ?');
        params.push(query.beforeUs);
      }
      if (query.service !== undefined) {
        where.push('EXISTS (SELECT 1 FROM json_each(traces.services) WHERE value = ?)');
        params.push(query.service);
      }
      if (query.errorsOnly === true) where.push('error_count > 0');
      const sql = `SELECT * FROM traces ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
        ORDER BY start_us DESC LIMIT ?`;
      return db
        .prepare<(string | number)[], TraceRow>(sql)
        .all(...params, limit)
        .map((row) => ({
          traceId: row.trace_id,
          startUs: row.start_us,
          endUs: row.end_us,
          rootName: row.root_name ?? undefined,
          rootService: row.root_service ?? undefined,
          spanCount: row.span_count,
          errorCount: row.error_count,
          services: JSON.parse(row.services) as string[],
        }));
    },
    prune(nowMs = Date.now()) {
      lastPrune = nowMs;
      return pruneNow.immediate(nowMs);
    },
    close() {
      if (db.open) db.close();
    },
  };
  return store;
}

function fromRow(row: SpanRow): StoredSpan {
  return {
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: row.parent_span_id ?? undefined,
    name: row.name,
    kind: row.kind,
    service: row.service,
    scope: row.scope,
    startUs: row.start_us,
    durationUs: row.duration_us,
    status: row.status,
    statusMessage: row.status_message ?? undefined,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    events: JSON.parse(row.events) as StoredSpan['events'],
    links: JSON.parse(row.links) as StoredSpan['links'],
  };
}
