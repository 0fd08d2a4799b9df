import { validateData } from '../event-definition.ts';
import { named, type Middleware } from '../middleware.ts';

/**
 * Validates the event's data against its definition's schema and sets `context.data`. An invalid event throws a
 * permanent `HERALD_VALIDATION` error, which skips retries: the dead-letter middleware stores it with the reason.
 */
export function validation(): Middleware {
  return named('validation', (next) => async (context) => {
    if (context.definition !== undefined) {
      context.data = await validateData(context.definition, context.event.data);
    }
    await next(context);
  });
}
