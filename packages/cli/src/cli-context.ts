import {
  HeraldError,
  redactUrl,
  type DeadLetterQueue,
  type EventDefinition,
  type Transport,
} from '@herald/core';
import { brokerUrl, connect } from './connect.ts';
import { loadContracts } from './contracts.ts';

/** Exit codes of the CLI. */
export const ExitCodes = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake in how the command was called (exit code 2), as opposed to an operation that failed (1). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The global options every command reads. */
export interface GlobalOptions {
  readonly broker?: string;
  readonly contracts?: string;
}

/** Output streams, so tests can capture them. */
export interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
  /** Stdin, for `--data -`. Default `process.stdin`. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Stops a long-running command (`tail`) when aborted, as SIGINT and SIGTERM do. */
  readonly signal?: AbortSignal;
}

/** Runs `action` with an open transport, closing it afterwards whatever happens. */
export async function withTransport<T>(
  globals: GlobalOptions,
  io: Io,
  action: (transport: Transport) => Promise<T>,
): Promise<T> {
  const transport = await connect({
    broker: globals.broker,
    env: io.env,
    onError: (error) => io.stderr.write(`herald: transport error: ${describe(error)}\n`),
  });
  try {
    return await action(transport);
  } finally {
    await transport.close({ timeoutMs: 2000 });
  }
}

/** The transport's dead-letter queue, or an error saying the transport has none. */
export function deadLetterQueue(transport: Transport, globals: GlobalOptions, io: Io): DeadLetterQueue {
  if (!transport.capabilities.deadLetterQueue || transport.deadLetters === undefined) {
    throw new HeraldError(
      'HERALD_UNSUPPORTED',
      `The ${transport.name} transport (${redactUrl(brokerUrl({ broker: globals.broker, env: io.env }))}) keeps no dead-letter queue`,
      { permanent: true },
    );
  }
  return transport.deadLetters;
}

/** The event definitions of `--contracts` / `HERALD_CONTRACTS`, by type; empty when neither is set. */
export async function contracts(globals: GlobalOptions, io: Io): Promise<Map<string, EventDefinition>> {
  const specifier = globals.contracts ?? io.env.HERALD_CONTRACTS;
  return specifier === undefined || specifier === '' ? new Map() : loadContracts(specifier);
}

/**
 * An error as one line for stderr: its code and message, with the credentials of any URL in it masked (core masks
 * its own; a driver's message passes through here too).
 */
export function describe(error: unknown): string {
  if (error instanceof HeraldError) return redactUrl(`${error.code}: ${error.message}`);
  if (error instanceof Error) return redactUrl(error.message);
  return redactUrl(String(error));
}

/** Parses a positive integer option; a usage error otherwise. */
export function positiveInteger(name: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
      throw new UsageError(`${name} must be a positive integer, got "${text}"`);
    }
    return value;
  };
}

/** Parses a positive number option; a usage error otherwise. */
export function positiveNumber(name: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
      throw new UsageError(`${name} must be a positive number, got "${text}"`);
    }
    return value;
  };
}

/** Parses JSON given on the command line; a usage error naming the option otherwise. */
export function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(
      `${name} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
