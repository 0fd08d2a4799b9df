import type { EventDefinition } from '../event-definition.ts';

/**
 * The CloudEvents protocol binding whose header names a document uses: `kafka` (`ce_<name>` headers,
 * `content-type`), `amqp` (`cloudEvents_<name>` application properties; the content type is the message's
 * `content-type` property, so not a header) or `nats` (`ce-<name>` headers, values percent-encoded).
 */
export type HeaderBinding = 'kafka' | 'amqp' | 'nats';

/** The header bindings {@link cloudEventHeaders} accepts. */
export const HEADER_BINDINGS: readonly HeaderBinding[] = ['kafka', 'amqp', 'nats'];

interface Attribute {
  readonly name: string;
  readonly schema: Record<string, unknown>;
  /** Whether Herald's publisher always writes it for this definition. */
  readonly required: boolean;
}

function attributes(definition: EventDefinition): Attribute[] {
  const keyed = definition.key !== undefined;
  const str = (description: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    type: 'string',
    description,
    ...extra,
  });
  return [
    { name: 'specversion', required: true, schema: str('CloudEvents version.', { const: '1.0' }) },
    { name: 'id', required: true, schema: str('Unique event id; Herald writes a UUIDv7 (time-ordered).') },
    { name: 'source', required: true, schema: str('The producing service, a URI reference.') },
    { name: 'type', required: true, schema: str('The event type.', { const: definition.type }) },
    { name: 'time', required: true, schema: str('When it happened (RFC 3339).', { format: 'date-time' }) },
    {
      name: 'datacontenttype',
      required: true,
      schema: str('Media type of the payload.', { const: 'application/json' }),
    },
    {
      name: 'subject',
      required: keyed || definition.subject !== undefined,
      schema: str('What the event is about; defaults to the partition key.'),
    },
    {
      name: 'partitionkey',
      required: keyed,
      schema: str(
        'CloudEvents partitioning extension: events with the same key are delivered in publish order.',
      ),
    },
    {
      name: 'correlationid',
      required: true,
      schema: str('The id shared by every event of one business flow (the first event’s id).'),
    },
    {
      name: 'causationid',
      required: false,
      schema: str('The id of the event or request that caused this one.'),
    },
    {
      name: 'traceparent',
      required: false,
      schema: str('W3C trace context (CloudEvents distributed tracing extension).'),
    },
    { name: 'tracestate', required: false, schema: str('W3C trace state, vendor-specific.') },
    { name: 'dataschema', required: false, schema: str('A URI identifying the schema of the payload.') },
  ];
}

/** The header (or application property) a CloudEvents attribute travels in; undefined when it is no header. */
export function headerName(binding: HeaderBinding, attribute: string): string | undefined {
  if (attribute === 'datacontenttype') {
    if (binding === 'kafka') return 'content-type';
    if (binding === 'amqp') return undefined;
  }
  const prefix = binding === 'kafka' ? 'ce_' : binding === 'amqp' ? 'cloudEvents_' : 'ce-';
  return prefix + attribute;
}

/**
 * The AsyncAPI `headers` schema (an object schema) of a definition's messages in CloudEvents binary mode, with
 * the header names of `binding`. `required` lists what Herald's publisher always writes for this definition: the
 * core attributes, `correlationid`, and `partitionkey`/`subject` when the definition derives a key. `type` is
 * the definition's type as a `const`. Extension attributes other than Herald's are allowed (any string).
 */
export function cloudEventHeaders(
  definition: EventDefinition,
  binding: HeaderBinding,
): Record<string, unknown> {
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  for (const attribute of attributes(definition)) {
    const name = headerName(binding, attribute.name);
    if (name === undefined) continue;
    properties[name] = attribute.schema;
    if (attribute.required) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: { type: 'string' } };
}
