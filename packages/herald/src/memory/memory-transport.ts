import { logTransport, type LogTransportOptions } from '../log/log-transport.ts';
import type { Transport } from '../transport.ts';
import { MemoryLogStore, type MemoryLogStoreOptions } from './memory-log-store.ts';

/** Options of {@link memory}. */
export interface MemoryTransportOptions extends MemoryLogStoreOptions, LogTransportOptions {}

/**
 * An in-process transport with the semantics of the durable ones (partitions, consumer groups, order per key,
 * delayed redelivery, dead letters, seek), for unit tests that run in milliseconds. Nothing survives the
 * process, and only this process sees it.
 */
export function memory(options: MemoryTransportOptions = {}): Transport {
  return logTransport(new MemoryLogStore(options), { pollIntervalMs: 50, commitIntervalMs: 5, ...options });
}
