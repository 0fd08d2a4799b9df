import { createRouter, type RouterOptions } from '../create-router.ts';
import { defineEvent } from '../event-definition.ts';
import type { Router } from '../router.ts';
import { testSchema, type PingData } from './test-schema.ts';

/** What {@link startFailingRouter} builds: the router's options, less its handlers, and which events fail. */
export interface FailingRouterOptions extends RouterOptions {
  /** The topic of the one handled type, `Known` (data of {@link testSchema}). */
  readonly topic: string;
  /** Which `Known` events the handler throws on; every one when left out. */
  readonly fails?: (data: PingData) => boolean;
  /** The message of the TypeError the handler throws. */
  readonly message: string;
}

/**
 * Starts a router with one handler, for `Known` events on `topic`, that throws a TypeError with `message` for
 * the events `fails` picks (all of them by default) and returns normally for the others. For the tests of what
 * becomes of dead letters and skipped types: any other type on `topic` has no handler. The caller closes it.
 */
export async function startFailingRouter(options: FailingRouterOptions): Promise<Router> {
  const { topic, fails = () => true, message, ...routerOptions } = options;
  const Known = defineEvent({ type: 'Known', topic, schema: testSchema });
  const router = createRouter(routerOptions).on(Known, (event) => {
    if (fails(event.data)) throw new TypeError(message);
  });
  await router.start();
  return router;
}
