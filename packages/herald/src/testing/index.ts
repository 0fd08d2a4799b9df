export * from './contract-suite.ts';
export type { ConnectionFault } from './contract-cases/reconnect.ts';
export type { LeaseFault, LeaseScene } from './contract-cases/long-handlers.ts';
export * from './test-schema.ts';
export * from './wait.ts';
export * from './child-process.ts';
export * from './faults/index.ts';
export * from './contract-compatibility.ts';
export * from './transport-pool.ts';
