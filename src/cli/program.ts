import { Command } from 'commander';
import { VERSION } from '../version.ts';
import { registerGenerateCommand } from './generate.ts';
import { registerKeysCommands } from './keys.ts';
import { registerTasksCommands } from './tasks.ts';
import { registerUsageCommand } from './usage.ts';

/** The `vidgate` command line: every command and option, nothing run yet. */
export function buildProgram(): Command {
  const program = new Command('vidgate').description('Self-hosted, EvoLink-compatible video generation gateway').version(VERSION);
  // A bad command line (unknown option, missing or invalid value) exits 2; commander would say 1. Subcommands inherit this.
  program.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

  // The server's modules load only for the commands that run it: help and the client commands start fast.
  program
    .command('serve')
    .description('start the API server and a worker (settings from VIDGATE_* and VIDGATE_CONFIG)')
    .option('--no-worker', 'run the API only; tasks wait for a `vidgate worker` on the same store')
    .action(async (options) => (await import('./serve.ts')).serveCommand(options));
  program.command('worker').description('run tasks from the store, without the API').action(async () => (await import('./serve.ts')).workerCommand());
  program.command('migrate').description('bring the store schema up to date and exit').action(async () => (await import('./migrate.ts')).migrateCommand());
  registerKeysCommands(program);
  registerGenerateCommand(program);
  registerTasksCommands(program);
  registerUsageCommand(program);
  return program;
}
