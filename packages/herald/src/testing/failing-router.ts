import { createRouter, type RouterOptions } from '../create-router.ts';
import { defineEvent } from '../event-definition.ts';
import { memory } from '../memory/memory-transport.ts';
import type { Router } from '../router.ts';
import type { Transport } from '../transport.ts';
import { uniqueName } from './wait.ts';
import { testSchema, type PingData } from './test-schema.ts';

/** What {@link startFailingRouter} builds: the router's options but its place, and which events fail. */
export interface FailingRouterOptions extends Omit<RouterOptions, 'transport' | 'group' | 'source'> {
  /** The prefix of the unique topic of the one handled type, `Known` (data of {@link testSchema}). */
  readonly topicPrefix: string;
  /** Which `Known` events the handler throws on; every one when left out. */
  readonly fails?: (data: PingData) => boolean;
  /** The message of the TypeError the handler throws. */
  readonly message: string;
}

/** The started router of {@link startFailingRouter} and where it runs. */
export interface FailingRouter {
  readonly router: Router;
  /** A memory transport of its own; the caller closes it (and the router). */
  readonly transport: Transport;
  readonly topic: string;
  readonly group: string;
}

/**
 * Starts a router of a unique group (source `/test`) on a memory transport of its own, with one handler, for
 * `Known` events on a unique topic, that throws a TypeError with `message` for the events `fails` picks (all of
 * them by default) and returns normally for the others. For the tests of what becomes of dead letters and
 * skipped types: any other type on the topic has no handler. When the router does not start, the transport is
 * closed and the error rethrown.
 */
export async function startFailingRouter(options: FailingRouterOptions): Promise<FailingRouter> {
  const { topicPrefix, fails = () => true, message, ...routerOptions } = options;
  const transport = memory();
  const topic = uniqueName(topicPrefix);
  const group = uniqueName('g');
  const Known = defineEvent({ type: 'Known', topic, schema: testSchema });
  const router = createRouter({ ...routerOptions, transport, group, source: '/test' }).on(Known, (event) => {
    if (fails(event.data)) throw new TypeError(message);
  });
  try {
    await router.start();
  } catch (error) {
    await transport.close();
    throw error;
  }
  return { router, transport, topic, group };
}
