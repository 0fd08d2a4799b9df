import { Command, CommanderError } from 'commander';
import { describe, ExitCodes, UsageError, type GlobalOptions, type Io } from './cli-context.ts';
import { addAsyncApiCommand } from './commands/asyncapi.ts';
import { addContractsCommands } from './commands/contracts.ts';
import { addDlqCommands } from './commands/dlq.ts';
import { addOperationCommands } from './commands/ops.ts';
import { addPublishCommand } from './commands/publish.ts';
import { addStatusCommand } from './commands/status.ts';
import { addTailCommand } from './commands/tail.ts';

/**
 * Runs the CLI on `argv` (without node and the script) and resolves to the exit code: 0 done, 1 an operation
 * failed, 2 the command was called wrongly. Errors go to stderr as `herald: CODE: message`.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let exitCode: number = ExitCodes.ok;
  const exit = (code: number): void => {
    exitCode = Math.max(exitCode, code);
  };
  const program = new Command('herald')
    .description(
      'Operate a Herald system: dead letters, status, tail, publish, consumer group replays, AsyncAPI, contract checks',
    )
    .option('--broker <url>', 'the broker URL (default: $HERALD_BROKER, else sqlite:.data/herald.db)')
    .option('--contracts <module>', 'a module exporting event definitions (default: $HERALD_CONTRACTS)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  addDlqCommands(program, globals, io, exit);
  addStatusCommand(program, globals, io);
  addOperationCommands(program, globals, io);
  addTailCommand(program, globals, io);
  addPublishCommand(program, globals, io);
  addAsyncApiCommand(program, globals, io);
  addContractsCommands(program, globals, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`herald: ${error.message} (add --help for usage)\n`);
      return ExitCodes.usage;
    }
    io.stderr.write(`herald: ${describe(error)}\n`);
    return ExitCodes.failed;
  }
}
