import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { configError, redactUrl } from '@herald/core';

/** Options of {@link sqs}. Every one is optional: region, credentials and endpoint follow the AWS SDK's chain. */
export interface SqsTransportOptions {
  /**
   * FIFO topics and queues: order per key (`MessageGroupId` = partition key), deduplication by event id, a
   * retried event kept ahead of its key. Standard topics and queues (`false`) have no order and may deliver
   * twice, for more throughput. Every process of a system must use the same value (the names differ: `.fifo`).
   * Default `true`.
   */
  readonly fifo?: boolean;
  /** The AWS region. Default: the SDK's chain (`AWS_REGION`, the shared config file…). */
  readonly region?: string;
  /**
   * An endpoint for both SNS and SQS instead of AWS's (a local emulator, a VPC endpoint): `http://host:port`.
   * Default: the SDK's (the `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL_SNS` variables, else AWS).
   */
  readonly endpoint?: string;
  /** Credentials. Default: the SDK's chain (environment, shared files, SSO, container or instance role). */
  readonly credentials?: SQSClientConfig['credentials'];
  /**
   * Create the topics, queues, dead-letter queues, queue policies and subscriptions when they are first used
   * (idempotent). With `false`, use existing ones and check at start-up that they exist, failing with
   * `HERALD_CONFIG` naming what is missing: it then runs with read/send/receive permissions only. Default `true`.
   */
  readonly provision?: boolean;
  /**
   * The AWS account that owns the topics, used with `provision: false` to build topic ARNs; without it the
   * transport finds them with `sns:ListTopics`.
   */
  readonly accountId?: string;
  /** Prepended to every topic and queue name (letters, digits, `-`, `_`; up to 40). Default `''`. */
  readonly prefix?: string;
  /**
   * How long a received message stays invisible to the group's other members, s. A handler that runs longer
   * keeps it invisible (the transport extends it every third of this); a member that dies gives its messages
   * back after at most this long. Default 30.
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Long polling: how long one ReceiveMessage waits for messages, s (1–20). A close waits for a poll under way
   * (up to its `timeoutMs`), so this also bounds how long an idle member takes to shut down. Default 10.
   */
  readonly waitTimeSeconds?: number;
  /**
   * The queues' redrive policy: after this many receives without being settled (a handler that crashes its
   * process every time) SQS moves a message to the group's dead-letter queue by itself. Must exceed the
   * router's `maxDeliveries`. Default 20.
   */
  readonly maxReceiveCount?: number;
  /** How long queues (and dead-letter queues) keep a message, s (60–1209600). Default 1209600 (14 days). */
  readonly retentionSeconds?: number;
  /** Messages a subscription holds at once (received, not settled). Default: `max(10, 2 × concurrency)`. */
  readonly prefetch?: number;
  /** Bring your own clients (custom middleware, HTTP agent); `region`, `endpoint` and `credentials` are then ignored. */
  readonly sqsClient?: SQSClient;
  readonly snsClient?: SNSClient;
  /** Errors no caller can receive (a failed receive, a lost heartbeat). Default: `console.error`. */
  readonly onError?: (error: unknown) => void;
}

/** {@link SqsTransportOptions} checked, with defaults applied. */
export interface ResolvedSqsOptions {
  readonly fifo: boolean;
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly provision: boolean;
  readonly accountId: string | undefined;
  readonly prefix: string;
  readonly visibilityTimeoutSeconds: number;
  readonly waitTimeSeconds: number;
  readonly maxReceiveCount: number;
  readonly retentionSeconds: number;
  readonly prefetch: number | undefined;
}

const PREFIX_PATTERN = /^[A-Za-z0-9_-]{0,40}$/;
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT_PATTERN = /^\d{12}$/;

function integer(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

function boolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw configError(option, 'true or false', value);
  return value;
}

/**
 * Checks the options and applies defaults. Throws `HERALD_CONFIG` naming the option and the accepted values, so
 * a typo fails at start-up.
 */
export function resolveOptions(options: SqsTransportOptions = {}): ResolvedSqsOptions {
  if (typeof options !== 'object' || options === null) throw configError('options', 'an object', options);
  const { region, endpoint, accountId } = options;
  if (region !== undefined && (typeof region !== 'string' || !REGION_PATTERN.test(region))) {
    throw configError('region', 'an AWS region such as "us-east-1"', region);
  }
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = typeof endpoint === 'string' ? new URL(endpoint) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw configError(
        'endpoint',
        'an http:// or https:// URL',
        typeof endpoint === 'string' ? redactUrl(endpoint) : endpoint,
      );
    }
  }
  if (accountId !== undefined && (typeof accountId !== 'string' || !ACCOUNT_PATTERN.test(accountId))) {
    throw configError('accountId', 'a 12-digit AWS account id', accountId);
  }
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw configError('prefix', 'up to 40 letters, digits, "-" or "_"', prefix);
  }
  const visibilityTimeoutSeconds = integer(
    'visibilityTimeoutSeconds',
    options.visibilityTimeoutSeconds,
    30,
    2,
    43_200,
  );
  return {
    fifo: boolean('fifo', options.fifo, true),
    region,
    endpoint,
    provision: boolean('provision', options.provision, true),
    accountId,
    prefix,
    visibilityTimeoutSeconds,
    waitTimeSeconds: integer('waitTimeSeconds', options.waitTimeSeconds, 10, 1, 20),
    maxReceiveCount: integer('maxReceiveCount', options.maxReceiveCount, 20, 1, 1000),
    retentionSeconds: integer('retentionSeconds', options.retentionSeconds, 1_209_600, 60, 1_209_600),
    prefetch:
      options.prefetch === undefined ? undefined : integer('prefetch', options.prefetch, 10, 1, 10_000),
  };
}
