export * from './errors.ts';
export * from './names.ts';
export * from './message.ts';
export * from './codec.ts';
export * from './plain-json-codec.ts';
export * from './event-definition.ts';
export * from './transport.ts';
export * from './keyed-executor.ts';
export * from './offset-tracker.ts';
export * from './consumer-kit/index.ts';
export * from './partitioner.ts';
export * from './backoff.ts';
export * from './wakeup.ts';
export * from './causation.ts';
export * from './publisher.ts';
export * from './scheduled-delivery.ts';
export * from './middleware.ts';
export * from './middleware/validation.ts';
export * from './event-version.ts';
export * from './middleware/retry.ts';
export * from './middleware/redelivery.ts';
export * from './middleware/dead-letter.ts';
export * from './middleware/idempotency.ts';
export * from './middleware/timeout.ts';
export * from './logger.ts';
export * from './router.ts';
export * from './batch-handler.ts';
export * from './create-router.ts';
export * from './default-pipeline.ts';
export * from './unit-of-work.ts';
export { TraceAttributes, TraceEvents, messagingSystem } from './tracing/semantic-conventions.ts';
export {
  eventSpanContext,
  formatTraceparent,
  heraldTracer,
  parseTraceparent,
  tracingActive,
  TRACER_NAME,
  type TraceHeaders,
} from './tracing/trace-context.ts';
export { observeDelivery, observeHandler, type DeliveryObserver } from './tracing/delivery-observer.ts';
export { tracing, type TracingOptions } from './tracing/tracing-middleware.ts';
export { sendRecords } from './tracing/producer.ts';
export * from './metrics/messaging-metrics.ts';
export * from './metrics/metrics-middleware.ts';
export * from './log/log-store.ts';
export * from './log/assignment.ts';
export * from './log/log-transport.ts';
export * from './memory/memory-log-store.ts';
export * from './memory/memory-transport.ts';
export * from './url/redact-url.ts';
export * from './url/transport-url.ts';
export * from './url/url-parameters.ts';
export * from './topic-prefix.ts';
export * from './private-file.ts';
export * from './asyncapi/asyncapi-document.ts';
export * from './asyncapi/cloudevents-headers.ts';
export * from './asyncapi/payload-schema.ts';
export {
  CONTRACT_SNAPSHOT_FORMAT,
  contractSnapshot,
  formatContractSnapshot,
  parseContractSnapshot,
  readableVersion,
  type ContractSnapshot,
  type RecordedContract,
  type RecordedSchema,
} from './contracts/contract-snapshot.ts';
export * from './contracts/contract-finding.ts';
export * from './contracts/compare-contracts.ts';
export { compareSchemas } from './contracts/schema-compare.ts';
export type { SchemaChange } from './contracts/schema-nodes.ts';
