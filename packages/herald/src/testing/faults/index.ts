export * from './fault-options.ts';
export * from './fault-transport.ts';
export * from './fault-checks.ts';
