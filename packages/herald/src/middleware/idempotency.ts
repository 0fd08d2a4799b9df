import { named, type Middleware } from '../middleware.ts';

/**
 * An inbox: remembers which events a group has handled. Implementations that share a transaction with the
 * handler's state (the SQLite and PostgreSQL inboxes) make effects happen exactly once.
 */
export interface Inbox {
  /**
   * Runs `work` unless `(group, eventId)` is recorded, and records it when `work` succeeds. Resolves `false`
   * (without running `work`) for a duplicate.
   */
  runOnce(group: string, eventId: string, work: () => Promise<void>): Promise<boolean>;
}

/**
 * An in-memory inbox for tests and the memory transport. Concurrent deliveries of one event id wait for each
 * other, so `work` never runs twice at once.
 */
export function memoryInbox(): Inbox & { readonly size: number } {
  const done = new Set<string>();
  const running = new Map<string, Promise<boolean>>();
  return {
    get size() {
      return done.size;
    },
    async runOnce(group, eventId, work) {
      const key = `${group}\u0000${eventId}`;
      for (let inFlight = running.get(key); inFlight; inFlight = running.get(key)) {
        await inFlight.catch(() => undefined);
      }
      if (done.has(key)) return false;
      const attempt = work().then(() => {
        done.add(key);
        return true;
      });
      running.set(key, attempt);
      try {
        return await attempt;
      } finally {
        running.delete(key);
      }
    },
  };
}

/**
 * Skips events the group has handled already (by CloudEvents `id`), through an {@link Inbox}. Duplicates are
 * acked without calling the handler.
 */
export function idempotency(options: { inbox: Inbox }): Middleware {
  const { inbox } = options;
  return named('idempotency', (next) => async (context) => {
    await inbox.runOnce(context.group, context.event.id, () => next(context));
  });
}
