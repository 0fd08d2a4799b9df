import { AsyncLocalStorage } from 'node:async_hooks';
import type { CloudEvent } from './message.ts';

const handling = new AsyncLocalStorage<CloudEvent>();

/**
 * Runs `fn` with `event` as the event being handled, so that any publish inside it (through any publisher or
 * outbox) takes its causation and correlation from that event.
 */
export function runHandling<R>(event: CloudEvent, fn: () => R): R {
  return handling.run(event, fn);
}

/** The event whose handler is running in this async context, if any. */
export function currentEvent(): CloudEvent | undefined {
  return handling.getStore();
}

/** Correlation and causation for a new event published while `parent` is handled. */
export function lineageFrom(parent: CloudEvent): { correlationid: string; causationid: string } {
  return { correlationid: parent.correlationid ?? parent.id, causationid: parent.id };
}
