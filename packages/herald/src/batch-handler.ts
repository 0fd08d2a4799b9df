import { configError } from './errors.ts';
import type { EventData, EventDefinition } from './event-definition.ts';
import type { CloudEvent } from './message.ts';
import type { Handler, HandlerContext } from './router.ts';

/** One event of a batch, with the context its own handler call would have had. */
export interface BatchEntry<D extends EventDefinition> {
  readonly event: CloudEvent<EventData<D>>;
  /** Its attempt, its delivery, and `publish` with causation and correlation taken from this event. */
  readonly context: HandlerContext;
}

/**
 * What a batch handler returns: nothing when every entry succeeded, or the entries that failed, by event id,
 * with their errors. Only those fail (retried, redelivered, then dead-lettered, each on its own); the others
 * are acked. Throwing fails the whole batch.
 */
export type BatchFailures = ReadonlyMap<string, unknown>;

/** Handles a batch of typed events at once (a bulk insert, one API call for many). */
export type BatchHandler<D extends EventDefinition> = (
  entries: readonly BatchEntry<D>[],
) => Promise<BatchFailures | undefined> | BatchFailures | undefined;

/** Options of `router.onBatch`. */
export interface BatchOptions {
  /** The most events in one batch. Default 100; at most the router's `concurrency` (deliveries in flight). */
  readonly maxSize?: number;
  /** How long the first event of a batch waits for more before the batch is handled. Default 50 ms. */
  readonly maxWaitMs?: number;
}

interface Pending<D extends EventDefinition> {
  readonly entry: BatchEntry<D>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the events of one type into batches for a {@link BatchHandler}, as an ordinary per-event
 * {@link Handler}: each event's call resolves or throws with its own outcome once its batch is handled, so every
 * middleware (validation, idempotency, retry, redelivery, dead letters, tracing) still works per event, and a
 * retried event joins a later batch. Batches run one at a time, in arrival order. Order per key is the
 * transport's: a transport that keeps a key's order delivers its next event only after the previous one
 * settled, so a batch holds at most one event per key.
 */
export function batchingHandler<D extends EventDefinition>(
  type: string,
  handler: BatchHandler<D>,
  options: BatchOptions,
  concurrency: number,
): Handler<D> {
  const maxSize = options.maxSize ?? Math.min(100, concurrency);
  if (!Number.isInteger(maxSize) || maxSize < 1) throw configError('maxSize', 'an integer >= 1', maxSize);
  if (maxSize > concurrency) {
    throw configError(
      'maxSize',
      `at most the router's concurrency (${concurrency}: raise createRouter({ concurrency }) for bigger batches of ${type})`,
      maxSize,
    );
  }
  const maxWaitMs = options.maxWaitMs ?? 50;
  if (!(maxWaitMs >= 0) || !Number.isFinite(maxWaitMs)) {
    throw configError('maxWaitMs', 'a number of milliseconds >= 0', maxWaitMs);
  }

  let waiting: Pending<D>[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();

  const runBatch = async (batch: Pending<D>[]): Promise<void> => {
    let failures: BatchFailures | undefined;
    try {
      failures = await handler(batch.map((p) => p.entry));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const pending of batch) {
      const id = pending.entry.event.id;
      if (failures?.has(id) === true)
        pending.reject(failures.get(id) ?? new Error(`${type} ${id} failed in its batch`));
      else pending.resolve();
    }
  };

  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    running = running.then(() => runBatch(batch));
  };

  return (event, context) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ entry: { event, context }, resolve, reject });
      if (waiting.length >= maxSize) flush();
      else timer ??= setTimeout(flush, maxWaitMs);
    });
}
