import { runHandling } from './causation.ts';
import { encodeEvent } from './codec.ts';
import { configError } from './errors.ts';
import type { EventData, EventDefinition, EventInput } from './event-definition.ts';
import type { CloudEvent } from './message.ts';
import { checkSource, createEvent, type PublishOptions } from './publisher.ts';
import type { Handler } from './router.ts';
import type { TransportRecord } from './transport.ts';

/**
 * The outbox side of one unit of work, bound to its transaction. Its functions are closures: destructuring them
 * is safe.
 */
export interface UnitOfWorkScope {
  /** The event being handled: set by {@link UnitOfWork.handle}, `undefined` in {@link UnitOfWork.run}. */
  readonly event: CloudEvent | undefined;
  /**
   * Validates `data`, builds the event and stores it in the outbox in this transaction: it is published (at least
   * once, by the outbox relay) if and only if the transaction commits. Inside {@link UnitOfWork.handle} (or any
   * handler) the event takes its correlation and causation from the handled event. Rejects with
   * `HERALD_VALIDATION` for invalid data, and `HERALD_CONFIG` when the unit of work has no `source`.
   */
  readonly emit: <D extends EventDefinition>(
    definition: D,
    data: EventInput<D>,
    options?: PublishOptions,
  ) => Promise<CloudEvent<EventData<D>>>;
  /** Stores an already-built event for `topic` in the outbox in this transaction (the guarantee of `emit`). */
  readonly add: (topic: string, event: CloudEvent) => Promise<void>;
}

/**
 * One database transaction holding a state change, its inbox record and the events it emits. Implemented by
 * `sqliteUnitOfWork` (`@herald/sqlite`) and `postgresUnitOfWork` (`@herald/postgres`) with the same guarantees:
 * everything `work` writes through `tx` and `scope` commits together or not at all, and a throw rolls it all back
 * and rejects with the error, unchanged. `Tx` is what the database gives a transaction (a better-sqlite3
 * connection, a `pg` client), or a caller's own type (see {@link mapUnitOfWork}).
 */
export interface UnitOfWork<Tx> {
  /** Runs `work` in one transaction (a command, such as placing an order), and resolves with its result. */
  run<T>(work: (tx: Tx, scope: UnitOfWorkScope) => Promise<T>): Promise<T>;
  /**
   * Runs `work` for `event` in one transaction that first records `(group, event.id)` in the inbox, and resolves
   * `true`; resolves `false` without running `work` when the pair is recorded already (a redelivery, or a
   * concurrent delivery of the same event that committed first). So the effects of `work` in this database
   * happen once per group and event; effects elsewhere (an HTTP call) happen at least once.
   */
  handle(
    group: string,
    event: CloudEvent,
    work: (tx: Tx, scope: UnitOfWorkScope) => Promise<void>,
  ): Promise<boolean>;
}

/**
 * What a database gives {@link createUnitOfWork}: the three primitives a unit of work is made of. Implementations
 * live in the database packages; applications use their factories.
 */
export interface UnitOfWorkBackend<Tx> {
  /**
   * Runs `work` in one transaction: commits when it resolves, rolls back when it throws and rethrows the error
   * unchanged. Transactions that cannot share the connection must take turns.
   */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Records `(group, eventId)` in the inbox in `tx`, first thing in the transaction. Resolves `false` when it is
   * recorded already (by a committed transaction, or by a concurrent one that then commits: the claim waits for
   * it).
   */
  claim(tx: Tx, group: string, eventId: string): Promise<boolean>;
  /** Stores encoded records in the outbox in `tx`, in order. */
  append(tx: Tx, records: readonly TransportRecord[]): Promise<void>;
}

/** Options of {@link createUnitOfWork}. */
export interface CreateUnitOfWorkOptions {
  /** CloudEvents `source` of the events built by {@link UnitOfWorkScope.emit}. Without it, `emit` rejects. */
  readonly source?: string | undefined;
}

/**
 * Builds a {@link UnitOfWork} on a database's primitives, so every database runs a unit of work the same way:
 * the inbox claim first (a duplicate costs one insert and never runs `work`), then `work`, with outbox writes in
 * the same transaction and the handled event as causation. For database package authors.
 */
export function createUnitOfWork<Tx>(
  backend: UnitOfWorkBackend<Tx>,
  options: CreateUnitOfWorkOptions = {},
): UnitOfWork<Tx> {
  const { source } = options;
  if (source !== undefined) checkSource(source);
  const scopeOf = (tx: Tx, event: CloudEvent | undefined): UnitOfWorkScope => ({
    event,
    async emit(definition, data, publishOptions) {
      if (source === undefined) {
        throw configError('source', 'a source to build events with (for emit)', source);
      }
      const built = await createEvent(source, definition, data, publishOptions);
      await backend.append(tx, [encodeEvent(definition.topic, built)]);
      return built;
    },
    add: (topic, added) => backend.append(tx, [encodeEvent(topic, added)]),
  });
  return {
    run: (work) => backend.transaction((tx) => work(tx, scopeOf(tx, undefined))),
    handle: (group, event, work) =>
      runHandling(event, () =>
        backend.transaction(async (tx) => {
          if (!(await backend.claim(tx, group, event.id))) return false;
          await work(tx, scopeOf(tx, event));
          return true;
        }),
      ),
  };
}

/**
 * A view of `unit` whose work receives `bind(tx, scope)` instead of the database's transaction: an application's
 * store bound to the transaction, say. Same transactions, same guarantees.
 */
export function mapUnitOfWork<From, To>(
  unit: UnitOfWork<From>,
  bind: (tx: From, scope: UnitOfWorkScope) => To,
): UnitOfWork<To> {
  return {
    run: (work) => unit.run((tx, scope) => work(bind(tx, scope), scope)),
    handle: (group, event, work) => unit.handle(group, event, (tx, scope) => work(bind(tx, scope), scope)),
  };
}

/**
 * A router handler that runs `work` as {@link UnitOfWork.handle} with the router's group: a redelivered event is
 * acked without running it; a throw rolls back the state, the inbox record and the emitted events, and fails the
 * delivery (retry, redelivery, dead letter).
 */
export function unitOfWorkHandler<Tx, D extends EventDefinition>(
  unit: UnitOfWork<Tx>,
  work: (event: CloudEvent<EventData<D>>, tx: Tx, scope: UnitOfWorkScope) => Promise<void>,
): Handler<D> {
  return async (event, context) => {
    await unit.handle(context.group, event, (tx, scope) => work(event, tx, scope));
  };
}
