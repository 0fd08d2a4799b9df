import {
  buildEvent,
  checkName,
  encodeEvent,
  ErrorCodes,
  HeraldError,
  validateData,
  type CloudEvent,
  type EventDefinition,
  type PublishReceipt,
  type Transport,
} from '@herald/core';

/** The CloudEvents `source` of events the CLI publishes unless told otherwise. */
export const CLI_SOURCE = '/herald-cli';

/** What to publish, as an operator gives it. */
export interface OperatorEvent {
  readonly topic: string;
  readonly type: string;
  readonly data: unknown;
  /** The partition key; default: the definition's key of the data, else none. */
  readonly key?: string;
  readonly source?: string;
  readonly subject?: string;
  readonly id?: string;
  /** The known event definitions, by type (from `--contracts`). */
  readonly definitions: ReadonlyMap<string, EventDefinition>;
  /** Publish a type that is not among `definitions`, unvalidated. Default false: refused. */
  readonly force?: boolean;
}

/** What {@link publishOperatorEvent} published. */
export interface OperatorPublication {
  readonly event: CloudEvent;
  readonly receipt: PublishReceipt;
  /** Whether the data was validated against a known definition (false only with `force`). */
  readonly validated: boolean;
}

const anything: EventDefinition['schema'] = {
  '~standard': { version: 1, vendor: 'herald-cli', validate: (value) => ({ value }) },
};

/**
 * Builds the event an operator asked for, as a service would: a known type's data is validated against its
 * schema (the schema's output is published, as `Publisher.publish` does) and must go to its definition's topic;
 * the key defaults to the definition's. Throws permanent `HERALD_VALIDATION` naming each failing field, naming
 * the definition's topic for another topic, and refusing a type not among `definitions` unless `force` (then the
 * data goes as given). Throws `HERALD_CONFIG` for a topic name no transport accepts.
 */
export async function buildOperatorEvent(
  request: OperatorEvent,
): Promise<{ event: CloudEvent; validated: boolean }> {
  checkName('topic', request.topic);
  const known = request.definitions.get(request.type);
  const options = {
    ...(request.key === undefined ? {} : { key: request.key }),
    ...(request.subject === undefined ? {} : { subject: request.subject }),
    ...(request.id === undefined ? {} : { id: request.id }),
  };
  const source = request.source ?? CLI_SOURCE;
  if (known !== undefined) {
    if (known.topic !== request.topic) {
      throw new HeraldError(
        ErrorCodes.VALIDATION,
        `${request.type} is published on topic "${known.topic}" by its definition, not "${request.topic}"`,
        { permanent: true, details: { type: request.type, topic: request.topic, expected: known.topic } },
      );
    }
    const value = await validateData(known, request.data);
    return { event: buildEvent(source, known, value, options), validated: true };
  }
  if (request.force !== true) {
    const names = [...request.definitions.keys()];
    const knownText =
      names.length === 0
        ? 'no event definitions are loaded (give --contracts <module> or set HERALD_CONTRACTS)'
        : `known types: ${names.join(', ')}`;
    throw new HeraldError(
      ErrorCodes.VALIDATION,
      `Unknown event type "${request.type}", so its data cannot be validated (${knownText}); pass --force to publish it as given`,
      { permanent: true, details: { type: request.type } },
    );
  }
  const adHoc: EventDefinition = { type: request.type, topic: request.topic, schema: anything };
  return { event: buildEvent(source, adHoc, request.data, options), validated: false };
}

/**
 * Publishes an operator's event ({@link buildOperatorEvent}) straight to the transport, and resolves once the
 * transport acknowledged it, with where it landed.
 */
export async function publishOperatorEvent(
  transport: Transport,
  request: OperatorEvent,
): Promise<OperatorPublication> {
  const { event, validated } = await buildOperatorEvent(request);
  const [receipt] = await transport.publish([encodeEvent(request.topic, event)]);
  if (receipt === undefined) {
    throw new HeraldError(ErrorCodes.TRANSPORT, `The ${transport.name} transport returned no receipt`);
  }
  return { event, receipt, validated };
}
