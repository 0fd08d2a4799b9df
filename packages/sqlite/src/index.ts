// The embedded durable transport (sqlite-*.ts) and the SQLite outbox/inbox (outbox.ts, relay.ts, inbox.ts, unit-of-work.ts).
export * from './sqlite-transport.ts';
export * from './sqlite-log-store.ts';
export * from './sqlite-options.ts';
export * from './outbox.ts';
export * from './relay.ts';
export * from './inbox.ts';
export * from './unit-of-work.ts';
export { parseSqliteUrl, sqliteUrl } from './sqlite-url.ts';
