export * from './contract-suite.ts';
export * from './test-schema.ts';
export * from './wait.ts';
export * from './child-process.ts';
export * from './faults/index.ts';
