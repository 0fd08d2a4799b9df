import { existsSync } from 'node:fs';
import { openTraceStore, type StoredSpan, type TraceStore } from '@herald/telemetry';

/** Where a trace can be seen: its spans from the local store, a link to the tracing backend, or why neither. */
export type TraceView =
  | { readonly source: 'local'; readonly traceId: string; readonly spans: readonly StoredSpan[] }
  | { readonly source: 'link'; readonly traceId: string; readonly url: string }
  | { readonly source: 'none'; readonly traceId: string | undefined; readonly reason: string };

/**
 * Reads traces for the timeline: from the local trace store (`traces.db`, which the services write when no OTLP
 * exporter is configured), opened once it exists; or, with a `traceUrl` template, a link into the OTLP backend's
 * UI. Never creates the store: a console pointed at the wrong folder says so rather than showing an empty one.
 */
export class TraceSource {
  #store: TraceStore | undefined;

  constructor(
    private readonly path: string,
    private readonly traceUrl: string | undefined,
  ) {}

  view(traceId: string | undefined): TraceView {
    if (traceId === undefined)
      return { source: 'none', traceId, reason: 'The events carry no traceparent: tracing is off.' };
    if (this.traceUrl !== undefined)
      return { source: 'link', traceId, url: this.traceUrl.replaceAll('{traceId}', traceId) };
    const store = this.#open();
    if (store === undefined)
      return {
        source: 'none',
        traceId,
        reason: `No local trace store at ${this.path} (traces go elsewhere: set HERALD_CONSOLE_TRACE_URL to link to them).`,
      };
    const spans = store.trace(traceId);
    if (spans.length === 0)
      return {
        source: 'none',
        traceId,
        reason: 'The trace is not in the local store (not yet written, or pruned).',
      };
    return { source: 'local', traceId, spans };
  }

  #open(): TraceStore | undefined {
    if (this.#store === undefined && existsSync(this.path)) this.#store = openTraceStore({ path: this.path });
    return this.#store;
  }

  close(): void {
    this.#store?.close();
    this.#store = undefined;
  }
}
