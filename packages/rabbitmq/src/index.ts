export { rabbitmq, type RabbitMqTransport } from './rabbitmq-transport.ts';
export type { RabbitMqOptions } from './rabbitmq-options.ts';
export type { RabbitMqTlsOptions } from './tls-options.ts';
export {
  CLOUDEVENTS_PREFIX,
  HeraldHeaders,
  messageAttributes,
  messageToRecord,
  recordToPublication,
  type AmqpPublication,
} from './amqp-binding.ts';
export { DELAY_TIERS_MS, Topology } from './topology.ts';
export { amqpUrl, parseAmqpUrl } from './amqp-url.ts';
