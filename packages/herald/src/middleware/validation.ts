import { validateDataEager } from '../event-definition.ts';
import { upcastData } from '../event-version.ts';
import { callNext, named, type Middleware } from '../middleware.ts';
import { rejection } from '../rejection.ts';

/**
 * Reads the event's data as its definition's current version, then validates it and sets `context.data`. Older
 * versions go through the definition's upcasters first (see `upcastData`); a version newer than the
 * definition's, or one with no upcaster path, throws a permanent `HERALD_UNKNOWN_VERSION` (dead-letter reason
 * `unknown-version`, or `upcast` when an upcaster threw). Invalid data throws a permanent `HERALD_VALIDATION`.
 * Both skip retries: the dead-letter middleware stores the event with the reason, for replay after a fix.
 * Each try starts again from the delivered data.
 */
export function validation(): Middleware {
  return named('validation', (next) => (context) => {
    const { definition } = context;
    if (definition === undefined) return callNext(next, context);
    let data: unknown;
    try {
      data = validateDataEager(definition, upcastData(definition, context.event));
    } catch (error) {
      return rejection(error);
    }
    // A synchronous schema (most): no promise of its own, straight on to the handler.
    if (!(data instanceof Promise)) {
      context.data = data;
      return callNext(next, context);
    }
    return data.then((value: unknown) => {
      context.data = value;
      return next(context);
    });
  });
}
