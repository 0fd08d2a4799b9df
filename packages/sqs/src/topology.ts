import {
  CreateTopicCommand,
  GetTopicAttributesCommand,
  ListTopicsCommand,
  SubscribeCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ErrorCodes, HeraldError } from '@herald/core';
import type { Names } from './names.ts';
import type { ResolvedSqsOptions } from './sqs-options.ts';
import { awsErrorInfo, isNotFound, toHeraldError } from './sqs-errors.ts';

/** An SQS queue: its name, URL (what the API takes) and ARN (what policies and subscriptions name). */
export interface QueueRef {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** A group's queue on one topic, with the group's dead-letter queue. */
export interface GroupQueues {
  readonly topic: string;
  readonly group: string;
  readonly queue: QueueRef;
  readonly deadLetter: QueueRef;
}

/** What the topology works with, from the transport. */
export interface TopologyContext {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly names: Names;
  readonly options: ResolvedSqsOptions;
}

/** The SQS queue policy letting one SNS topic send to the queue (AWS refuses SNS deliveries without it). */
export function snsDeliveryPolicy(queueArn: string, topicArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'herald',
    Statement: [
      {
        Sid: 'HeraldSnsDelivery',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  });
}

/** `arn:<partition>:sqs:<region>:<account>:<name>` for a sibling of `arn` named `name`. */
function siblingArn(arn: string, name: string): string {
  const parts = arn.split(':');
  parts[5] = name;
  return parts.join(':');
}

function missing(what: string, hint: string): HeraldError {
  return new HeraldError(ErrorCodes.CONFIG, `${what} does not exist (provision: false). ${hint}`, {
    permanent: true,
    details: { option: 'provision' },
  });
}

function isQueueNameTaken(error: unknown): boolean {
  const { name } = awsErrorInfo(error);
  return name === 'QueueNameExists' || name === 'QueueAlreadyExists';
}

/**
 * Finds, creates or checks the AWS resources behind Herald's topics and groups, once per process (the answers are
 * cached; a failure is retried on the next use). With `provision: true` every step is idempotent, so any number
 * of processes may run it at once; with `provision: false` it only reads (`GetQueueUrl`, `GetQueueAttributes`,
 * `GetTopicAttributes` or `ListTopics`) and names what is missing.
 */
export class Topology {
  readonly #context: TopologyContext;
  readonly #topics = new Map<string, Promise<string>>();
  readonly #groups = new Map<string, Promise<GroupQueues>>();
  readonly #deadLetterQueues = new Map<string, Promise<QueueRef>>();
  /** Every resource this process created or found, for tools and for tests that clean up. */
  readonly declared = { topics: new Map<string, string>(), queues: new Map<string, string>() };

  constructor(context: TopologyContext) {
    this.#context = context;
  }

  get #fifo(): boolean {
    return this.#context.options.fifo;
  }

  /** The ARN of a Herald topic's SNS topic, creating the topic (provision) or checking it exists. */
  topicArn(topic: string): Promise<string> {
    return this.#cached(this.#topics, topic, () => this.#topicArn(topic));
  }

  /** A group's queue on a topic and its dead-letter queue, created and subscribed (provision) or checked. */
  groupQueues(topic: string, group: string): Promise<GroupQueues> {
    return this.#cached(this.#groups, `${topic}\n${group}`, () => this.#groupQueues(topic, group));
  }

  /** Forgets what is known about a group's queue (it was deleted under us): the next use provisions again. */
  forgetGroup(topic: string, group: string): void {
    this.#groups.delete(`${topic}\n${group}`);
    this.#deadLetterQueues.delete(group);
  }

  /**
   * A group's dead-letter queue; `undefined` when it does not exist and `create` is false (the group never
   * subscribed here, or never anywhere).
   */
  async deadLetterQueue(group: string, create: boolean): Promise<QueueRef | undefined> {
    const known = this.#deadLetterQueues.get(group);
    if (known !== undefined) return known;
    if (create && this.#context.options.provision) {
      return this.#cached(this.#deadLetterQueues, group, () => this.#createDeadLetterQueue(group));
    }
    const name = this.#context.names.deadLetterQueue(group);
    const url = await this.queueUrl(name, `reading the dead-letter queue of group "${group}"`);
    if (url === undefined) return undefined;
    const ref = { name, url, arn: await this.#queueArn(url, name) };
    this.#deadLetterQueues.set(group, Promise.resolve(ref));
    return ref;
  }

  /** The URL of the queue named `name`, or `undefined` when there is no such queue. */
  async queueUrl(name: string, what: string): Promise<string | undefined> {
    try {
      const { QueueUrl } = await this.#context.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      if (QueueUrl === undefined) return undefined;
      this.declared.queues.set(name, QueueUrl);
      return QueueUrl;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toHeraldError(error, what, true);
    }
  }

  #cached<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let promise = cache.get(key);
    if (promise === undefined) {
      promise = load();
      cache.set(key, promise);
      promise.catch(() => {
        if (cache.get(key) === promise) cache.delete(key);
      });
    }
    return promise;
  }

  async #topicArn(topic: string): Promise<string> {
    const { sns, names, options } = this.#context;
    const name = names.topic(topic);
    const what = `SNS topic "${name}" (Herald topic "${topic}")`;
    let arn: string | undefined;
    if (options.provision) {
      try {
        const created = await sns.send(
          new CreateTopicCommand({
            Name: name,
            ...(this.#fifo ? { Attributes: { FifoTopic: 'true' } } : {}),
          }),
        );
        arn = created.TopicArn;
      } catch (error) {
        throw toHeraldError(error, `creating ${what}`, true);
      }
    } else if (options.accountId !== undefined) {
      const region = await sns.config.region();
      const partition = region.startsWith('cn-')
        ? 'aws-cn'
        : region.startsWith('us-gov-')
          ? 'aws-us-gov'
          : 'aws';
      const candidate = `arn:${partition}:sns:${region}:${options.accountId}:${name}`;
      try {
        await sns.send(new GetTopicAttributesCommand({ TopicArn: candidate }));
        arn = candidate;
      } catch (error) {
        if (!isNotFound(error)) throw toHeraldError(error, `checking ${what}`, true);
      }
    } else {
      arn = await this.#findTopic(name, what);
    }
    if (arn === undefined) {
      throw missing(what, 'Create it (FIFO topics end in ".fifo"), or let Herald provision it.');
    }
    this.declared.topics.set(name, arn);
    return arn;
  }

  async #findTopic(name: string, what: string): Promise<string | undefined> {
    let next: string | undefined;
    do {
      let page;
      try {
        page = await this.#context.sns.send(
          new ListTopicsCommand(next === undefined ? {} : { NextToken: next }),
        );
      } catch (error) {
        throw toHeraldError(error, `looking for ${what} (sns:ListTopics; or set "accountId")`, true);
      }
      const found = page.Topics?.find((t) => t.TopicArn?.endsWith(`:${name}`))?.TopicArn;
      if (found !== undefined) return found;
      next = page.NextToken;
    } while (next !== undefined);
    return undefined;
  }

  async #queueArn(url: string, name: string): Promise<string> {
    try {
      const { Attributes } = await this.#context.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      const arn = Attributes?.QueueArn;
      if (arn === undefined) throw new Error('no QueueArn in the answer');
      return arn;
    } catch (error) {
      throw toHeraldError(error, `reading the attributes of SQS queue "${name}"`, true);
    }
  }

  /** Creates a queue, or brings an existing one with other attributes to ours (`FifoQueue` excepted). */
  async #createQueue(name: string, attributes: Partial<Record<QueueAttributeName, string>>): Promise<string> {
    const { sqs } = this.#context;
    const all = { ...attributes, ...(this.#fifo ? { FifoQueue: 'true' } : {}) };
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: all }));
      if (QueueUrl === undefined) throw new Error('no QueueUrl in the answer');
      this.declared.queues.set(name, QueueUrl);
      return QueueUrl;
    } catch (error) {
      if (!isQueueNameTaken(error)) throw toHeraldError(error, `creating SQS queue "${name}"`, true);
    }
    const url = await this.queueUrl(name, `finding SQS queue "${name}"`);
    if (url === undefined) throw toHeraldError(new Error('vanished'), `creating SQS queue "${name}"`, true);
    try {
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
    } catch (error) {
      throw toHeraldError(error, `updating the attributes of SQS queue "${name}"`, true);
    }
    return url;
  }

  #createDeadLetterQueue(group: string): Promise<QueueRef> {
    const name = this.#context.names.deadLetterQueue(group);
    return this.#createQueue(name, {
      MessageRetentionPeriod: String(this.#context.options.retentionSeconds),
    }).then(async (url) => ({ name, url, arn: await this.#queueArn(url, name) }));
  }

  async #groupQueues(topic: string, group: string): Promise<GroupQueues> {
    return this.#context.options.provision
      ? this.#provisionGroup(topic, group)
      : this.#checkGroup(topic, group);
  }

  async #provisionGroup(topic: string, group: string): Promise<GroupQueues> {
    const { names, options, sns } = this.#context;
    const [topicArn, deadLetter] = await Promise.all([
      this.topicArn(topic),
      this.deadLetterQueue(group, true) as Promise<QueueRef>,
    ]);
    const name = names.queue(topic, group);
    // The queue's ARN is known before it exists (same account and region as its dead-letter queue), so the
    // policy letting the topic deliver goes in with the creation: no window where SNS deliveries are refused.
    const arn = siblingArn(deadLetter.arn, name);
    const url = await this.#createQueue(name, {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(options.retentionSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: deadLetter.arn,
        maxReceiveCount: options.maxReceiveCount,
      }),
      Policy: snsDeliveryPolicy(arn, topicArn),
      // High-throughput FIFO: the per-second limits apply per message group (key), not per queue.
      ...(this.#fifo ? { DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' } : {}),
    });
    try {
      await sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: arn,
          Attributes: { RawMessageDelivery: 'true' },
          ReturnSubscriptionArn: true,
        }),
      );
    } catch (error) {
      throw toHeraldError(error, `subscribing SQS queue "${name}" to SNS topic of "${topic}"`, true);
    }
    return { topic, group, queue: { name, url, arn }, deadLetter };
  }

  async #checkGroup(topic: string, group: string): Promise<GroupQueues> {
    const { names } = this.#context;
    const name = names.queue(topic, group);
    const deadLetterName = names.deadLetterQueue(group);
    const [url, deadLetterUrl] = await Promise.all([
      this.queueUrl(name, `checking SQS queue "${name}"`),
      this.queueUrl(deadLetterName, `checking SQS queue "${deadLetterName}"`),
    ]);
    if (url === undefined) {
      throw missing(
        `SQS queue "${name}" (group "${group}" on topic "${topic}")`,
        `Create it${this.#fifo ? ' (FIFO)' : ''}, subscribed to SNS topic "${names.topic(topic)}" with raw ` +
          `message delivery and a redrive policy to "${deadLetterName}", or let Herald provision it.`,
      );
    }
    if (deadLetterUrl === undefined) {
      throw missing(
        `SQS dead-letter queue "${deadLetterName}" (group "${group}")`,
        `Create it${this.#fifo ? ' (FIFO)' : ''}, or let Herald provision it.`,
      );
    }
    const [arn, deadLetterArn] = await Promise.all([
      this.#queueArn(url, name),
      this.#queueArn(deadLetterUrl, deadLetterName),
    ]);
    const deadLetter = { name: deadLetterName, url: deadLetterUrl, arn: deadLetterArn };
    this.#deadLetterQueues.set(group, Promise.resolve(deadLetter));
    return { topic, group, queue: { name, url, arn }, deadLetter };
  }
}
