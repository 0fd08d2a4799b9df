import { configError } from './errors.ts';

/** Topic and group names every Herald transport accepts: a letter or digit, then letters, digits, `.`, `_`, `-`. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws `HERALD_CONFIG` naming `option` when `name` is not a valid topic or group name. */
export function checkName(option: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw configError(option, 'a name of letters, digits, ".", "_" or "-"', name);
  }
}
