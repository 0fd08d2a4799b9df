import { validateData } from '../event-definition.ts';
import { upcastData } from '../event-version.ts';
import { named, type Middleware } from '../middleware.ts';

/**
 * Reads the event's data as its definition's current version, then validates it and sets `context.data`. Older
 * versions go through the definition's upcasters first (see `upcastData`); a version newer than the
 * definition's, or one with no upcaster path, throws a permanent `HERALD_UNKNOWN_VERSION` (dead-letter reason
 * `unknown-version`, or `upcast` when an upcaster threw). Invalid data throws a permanent `HERALD_VALIDATION`.
 * Both skip retries: the dead-letter middleware stores the event with the reason, for replay after a fix.
 * Each try starts again from the delivered data.
 */
export function validation(): Middleware {
  return named('validation', (next) => async (context) => {
    if (context.definition !== undefined) {
      context.data = await validateData(context.definition, upcastData(context.definition, context.event));
    }
    await next(context);
  });
}
