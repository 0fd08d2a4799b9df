import type { DeadLetter, DeadLetterQueue } from '@herald/core';
import { UsageError, type GlobalOptions, type Io } from './cli-context.ts';
import { loadContractGroups } from './contracts.ts';
import { listAll } from './dead-letter-ops.ts';

/**
 * Why a transport's dead-letter queue cannot be listed without naming the groups: `deadLetters.list()` without a
 * group looks only at the groups the asking process subscribed, and the CLI subscribes none.
 */
export const UNLISTABLE_DEAD_LETTERS: Readonly<Record<string, string>> = {
  rabbitmq:
    'the rabbitmq transport cannot enumerate dead-letter queues: AMQP 0-9-1 has no command to list queues (only the ' +
    "management plugin's HTTP API can, which Herald does not use), so it can read only the <group>:dead-letter " +
    'queues of groups it is told of',
};

/** Where the groups come from, for the messages. */
export interface GroupScope {
  readonly groups: readonly string[];
  /** `--group`, `--contracts`, or `undefined` when no group was named. */
  readonly from: string | undefined;
}

/**
 * The dead letters of the groups in `scope` (each listed by name), or of every group when none is named and the
 * transport can enumerate them. Throws a {@link UsageError} saying why and what to pass on a transport that
 * cannot ({@link UNLISTABLE_DEAD_LETTERS}) when no group is named.
 */
export async function listScopedDeadLetters(
  queue: DeadLetterQueue,
  transport: string,
  scope: GroupScope,
  topic?: string,
): Promise<DeadLetter[]> {
  const query = topic === undefined ? {} : { topic };
  if (scope.groups.length === 0) {
    const why = UNLISTABLE_DEAD_LETTERS[transport];
    if (why !== undefined) {
      throw new UsageError(
        `${why}. Give --group <group> (a consumer group, e.g. payment-service; repeatable), or --contracts <module> ` +
          'whose exports name the groups (an object of { group: "..." } entries, as the shop\'s SERVICES)',
      );
    }
    return listAll(queue, query);
  }
  const lists = await Promise.all(scope.groups.map((group) => listAll(queue, { ...query, group })));
  return lists.flat();
}

/**
 * The groups a command works on: `--group` values when given, else the groups the contracts module names
 * ({@link loadContractGroups}), else none.
 */
export async function groupScope(
  explicit: readonly string[],
  globals: GlobalOptions,
  io: Io,
): Promise<GroupScope> {
  if (explicit.length > 0) return { groups: [...new Set(explicit)], from: '--group' };
  const specifier = globals.contracts ?? io.env.HERALD_CONTRACTS;
  if (specifier === undefined || specifier === '') return { groups: [], from: undefined };
  const groups = await loadContractGroups(specifier);
  return groups.length === 0 ? { groups: [], from: undefined } : { groups, from: '--contracts' };
}
