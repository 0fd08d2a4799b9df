import { groupDeadLetters, listAll, type ErrorGroup } from '@herald/cli';
import { ErrorCodes, HeraldError, type DeadLetter, type DeadLetterQueue } from '@herald/core';

/**
 * Every dead letter the console can see: what the queue lists on its own, and the queues of the configured
 * consumer groups (`HERALD_CONSOLE_GROUPS`). Some transports list only the groups they were told of or used
 * themselves (RabbitMQ keeps one queue per group and cannot enumerate them), so naming the groups makes their dead
 * letters visible there too. Each dead letter once, oldest first.
 */
export class DeadLetterSource {
  constructor(
    readonly queue: DeadLetterQueue,
    private readonly groups: readonly string[],
  ) {}

  async all(): Promise<DeadLetter[]> {
    const lists = await Promise.all([
      listAll(this.queue),
      ...this.groups.map((group) => listAll(this.queue, { group })),
    ]);
    const byId = new Map<string, DeadLetter>();
    for (const deadLetter of lists.flat()) byId.set(deadLetter.id, deadLetter);
    return [...byId.values()].sort((a, b) => a.deadLetteredAt.localeCompare(b.deadLetteredAt));
  }

  /** The error groups, as `herald dlq list` groups them. */
  async errorGroups(): Promise<ErrorGroup[]> {
    return groupDeadLetters(await this.all());
  }

  /** The ids of the error group `key`; throws `HERALD_DEAD_LETTER_NOT_FOUND` when it has none. */
  async idsOf(key: string): Promise<string[]> {
    const found = (await this.errorGroups()).find((group) => group.key === key);
    if (found === undefined)
      throw new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter is in error group ${key}`, {
        permanent: true,
        details: { errorGroup: key },
      });
    return [...found.ids];
  }
}
