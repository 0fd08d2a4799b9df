/**
 * A promise rejected with `error` as it was caught, untouched. For the hot-path functions that return a promise
 * without being async functions (fewer promises per event): a synchronous throw inside them reaches the caller
 * as a rejection, the way an async function's would.
 */
export function rejection(error: unknown): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rethrows what was caught, as is
  return Promise.reject(error);
}
