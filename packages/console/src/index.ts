// The Herald web console as a library: start it in your own process, or run `herald-console`.
export { startConsole, type RunningConsole, type StartConsoleOptions } from './console-server.ts';
export {
  consoleConfigFromEnv,
  DEFAULT_CONSOLE_PORT,
  isLoopback,
  parseServices,
  type ConsoleConfig,
  type WatchedService,
} from './config.ts';
export { LiveEvents, concerns, matches, type EventFilter, type ObservedEvent } from './live-events.ts';
export { parsePrometheusText, type Sample } from './prometheus-text.ts';
export {
  TopologySampler,
  type Topology,
  type GroupTopic,
  type ServiceStatus,
  type TopicStatus,
} from './topology.ts';
export { TraceSource, type TraceView } from './trace-source.ts';
export { adminGuard } from './admin-guard.ts';
export { DeadLetterSource } from './dead-letter-source.ts';
export type { FaultToggle } from './routes/services.ts';
