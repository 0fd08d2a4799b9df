/** One row of the lanes tables: a transport, and the keys its events are spread over (0: no key, unordered). */
export interface LanesSystem {
  readonly id: string;
  readonly transport: 'sqlite' | 'memory';
  readonly keys: number;
  readonly label: string;
}

/** Keys of the ordered systems, after the unordered one (keys 0). */
export const LANES_KEYS: readonly number[] = [10, 100, 1000];

/** The systems of each transport, unordered first, in run order. */
export function lanesSystems(transports: readonly LanesSystem['transport'][]): LanesSystem[] {
  return transports.flatMap((transport) =>
    [0, ...LANES_KEYS].map((keys) => ({
      id: keys === 0 ? `${transport}-unordered` : `${transport}-keys-${keys}`,
      transport,
      keys,
      label:
        keys === 0
          ? `${transport}, no key (unordered)`
          : `${transport}, ${keys.toLocaleString('en-US')} keys`,
    })),
  );
}
