// The CLI as a library: `run` for embedding, and the dead-letter operations the web console reuses.
export { run } from './main.ts';
export * from './dead-letter-ops.ts';
export { isEventDefinition, loadContracts } from './contracts.ts';
