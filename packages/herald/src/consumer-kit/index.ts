export * from './settle-once.ts';
export * from './readiness.ts';
export * from './close-within.ts';
export * from './partition-committer.ts';
export * from './dead-letter-scan.ts';
export * from './lease.ts';
