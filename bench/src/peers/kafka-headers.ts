import { eventAttributes } from '../message.ts';

// What the raw Kafka peers send besides key and value: the event's CloudEvents attributes as the Kafka binding's
// binary-mode headers (`ce_<name>`, `content-type`), the headers Herald sends, so every system moves the same
// bytes. The raw consumers do not read them back; Herald's consumer decodes them into attributes.

/** The headers of event `seq` as name/value strings. */
export function kafkaHeaderPairs(seq: number): [string, string][] {
  return Object.entries(eventAttributes(seq)).map(([name, value]) => [
    name === 'datacontenttype' ? 'content-type' : `ce_${name}`,
    value,
  ]);
}
