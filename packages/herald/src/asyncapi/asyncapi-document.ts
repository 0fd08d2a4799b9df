import { configError } from '../errors.ts';
import type { EventDefinition } from '../event-definition.ts';
import { cloudEventHeaders, HEADER_BINDINGS, headerName, type HeaderBinding } from './cloudevents-headers.ts';
import { partitionKeyField } from './partition-key.ts';
import { PAYLOAD_SCHEMA_FORMAT, payloadJsonSchema } from './payload-schema.ts';

/** An AsyncAPI 3.0 Server Object (the fields Herald passes through as given). */
export interface AsyncApiServer {
  /** Host and optional port, e.g. `127.0.0.1:19092`. */
  readonly host: string;
  /** e.g. `kafka`, `amqp`, `nats`, `sqs`. */
  readonly protocol: string;
  readonly protocolVersion?: string;
  readonly pathname?: string;
  readonly title?: string;
  readonly description?: string;
}

/** Options of {@link asyncApiDocument}. */
export interface AsyncApiOptions {
  /** `info.title`. */
  readonly title: string;
  /** `info.version`: the version of the application's API, not of AsyncAPI. */
  readonly version: string;
  /** `info.description` (CommonMark). */
  readonly description?: string;
  /** `servers`, by name (letters, digits, `_`, `-`). */
  readonly servers?: Readonly<Record<string, AsyncApiServer>>;
  /** Whose header names the `headers` schemas use (see {@link HeaderBinding}). Default `kafka`. */
  readonly headers?: HeaderBinding;
  /** Also declare one `receive` operation per channel, for a document of an application that consumes. */
  readonly receive?: boolean;
}

/** An AsyncAPI document as plain JSON (serialise it with `JSON.stringify`). */
export type AsyncApiDocument = Record<string, unknown> & { readonly asyncapi: '3.0.0' };

const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

function pointer(...segments: string[]): string {
  return '#/' + segments.map((s) => s.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

function checkOptions(options: AsyncApiOptions): void {
  if (typeof options?.title !== 'string' || options.title.trim() === '') {
    throw configError('title', 'a non-empty string', options?.title);
  }
  if (typeof options.version !== 'string' || options.version.trim() === '') {
    throw configError('version', 'a non-empty string (the API version, e.g. "1.0.0")', options.version);
  }
  if (options.headers !== undefined && !HEADER_BINDINGS.includes(options.headers)) {
    throw configError('headers', HEADER_BINDINGS.map((b) => `"${b}"`).join(', '), options.headers);
  }
  for (const [name, server] of Object.entries(options.servers ?? {})) {
    if (!ID_PATTERN.test(name)) throw configError('servers', 'names of letters, digits, "_" or "-"', name);
    if (typeof server?.host !== 'string' || typeof server.protocol !== 'string') {
      throw configError(`servers.${name}`, 'an object with string "host" and "protocol"', server);
    }
  }
}

/** Distinct definitions, one per type; the same type declared twice differently is a configuration error. */
function distinct(definitions: readonly EventDefinition[]): EventDefinition[] {
  const byType = new Map<string, EventDefinition>();
  for (const definition of definitions) {
    const seen = byType.get(definition.type);
    if (seen === undefined) byType.set(definition.type, definition);
    else if (seen !== definition) {
      throw configError(
        'definitions',
        `one definition per event type ("${definition.type}" is declared twice)`,
        [seen.topic, definition.topic],
      );
    }
  }
  return [...byType.values()];
}

function describe(definition: EventDefinition, binding: HeaderBinding, field: string | undefined): string {
  const parts = definition.description === undefined ? [] : [definition.description];
  if (definition.key === undefined) {
    parts.push('No partition key: events of this type have no order guarantee between them.');
  } else {
    const header = `\`${headerName(binding, 'partitionkey')}\``;
    const source = field === undefined ? "the definition's `key` function" : `the payload field \`${field}\``;
    parts.push(
      `Partition key: ${source}, sent as the ${header} header (CloudEvents partitioning extension) and, on ` +
        'Kafka, as the record key. Events with the same key are delivered in publish order.',
    );
  }
  return parts.join('\n\n');
}

function message(definition: EventDefinition, binding: HeaderBinding): Record<string, unknown> {
  const field = partitionKeyField(definition);
  const keyed = definition.key !== undefined;
  return {
    name: definition.type,
    title: definition.type,
    description: describe(definition, binding, field),
    contentType: 'application/json',
    headers: cloudEventHeaders(definition, binding),
    payload: { schemaFormat: PAYLOAD_SCHEMA_FORMAT, schema: payloadJsonSchema(definition) },
    ...(keyed
      ? {
          bindings: {
            kafka: {
              key: {
                type: 'string',
                description: field === undefined ? 'The partition key.' : `The partition key: \`${field}\`.`,
              },
              bindingVersion: '0.5.0',
            },
          },
          'x-herald-partition-key': {
            header: headerName(binding, 'partitionkey'),
            ...(field === undefined ? {} : { field }),
          },
        }
      : {}),
  };
}

/**
 * Generates an AsyncAPI 3.0.0 document from event definitions, as a plain JSON object:
 *
 * - one channel per topic (`address` = the topic), holding one message per event type;
 * - each message: `name` and `title` = the type, `contentType` `application/json`, the payload as the JSON
 *   Schema (draft-07) of what the schema accepts (see {@link payloadJsonSchema}), the CloudEvents binary-mode
 *   `headers` (see {@link cloudEventHeaders}), and the partition key: in the description, in an
 *   `x-herald-partition-key` extension (`header`, and `field` when the `key` function returns one payload field)
 *   and as `bindings.kafka.key`, since on Kafka the partition key is the record key;
 * - one `send` operation per message (`send<Type>`): the document describes the producers of these events.
 *   Consumers are not known from definitions (a router subscribes at run time), so `receive` operations are
 *   only added on request (`receive: true`): one per channel (`receive-<topic>`), over all its messages.
 *
 * Deterministic for the same definitions and options. Throws `HERALD_CONFIG` for bad options or two different
 * definitions of one type, and `HERALD_UNSUPPORTED` (naming the event) when a schema cannot give JSON Schema.
 */
export function asyncApiDocument(
  definitions: readonly EventDefinition[],
  options: AsyncApiOptions,
): AsyncApiDocument {
  checkOptions(options);
  if (!Array.isArray(definitions) || definitions.length === 0) {
    throw configError('definitions', 'a non-empty array of event definitions', definitions);
  }
  const binding = options.headers ?? 'kafka';
  const channels: Record<string, { address: string; messages: Record<string, unknown> }> = {};
  const operations: Record<string, unknown> = {};
  for (const definition of distinct(definitions)) {
    const channel = (channels[definition.topic] ??= { address: definition.topic, messages: {} });
    channel.messages[definition.type] = message(definition, binding);
    operations[`send${definition.type}`] = {
      action: 'send',
      title: `Publish ${definition.type}`,
      channel: { $ref: pointer('channels', definition.topic) },
      messages: [{ $ref: pointer('channels', definition.topic, 'messages', definition.type) }],
    };
  }
  if (options.receive === true) {
    for (const [topic, channel] of Object.entries(channels)) {
      operations[`receive-${topic}`] = {
        action: 'receive',
        title: `Consume ${topic}`,
        channel: { $ref: pointer('channels', topic) },
        messages: Object.keys(channel.messages).map((type) => ({
          $ref: pointer('channels', topic, 'messages', type),
        })),
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title,
      version: options.version,
      ...(options.description === undefined ? {} : { description: options.description }),
    },
    ...(options.servers === undefined ? {} : { servers: structuredClone(options.servers) }),
    defaultContentType: 'application/json',
    channels,
    operations,
  };
}
