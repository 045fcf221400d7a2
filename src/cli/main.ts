import { Command } from 'commander';
import { VERSION } from '../app.ts';
import { registerGenerateCommand } from './generate.ts';
import { registerKeysCommands } from './keys.ts';
import { migrateCommand } from './migrate.ts';
import { serveCommand, workerCommand } from './serve.ts';
import { registerTasksCommands } from './tasks.ts';

const program = new Command('vidgate').description('Self-hosted, EvoLink-compatible video generation gateway').version(VERSION);

program
  .command('serve')
  .description('start the API server and a worker (settings from VIDGATE_* and VIDGATE_CONFIG)')
  .option('--no-worker', 'run the API only; tasks wait for a `vidgate worker` on the same store')
  .action(serveCommand);

program.command('worker').description('run tasks from the store, without the API').action(workerCommand);

program.command('migrate').description('bring the store schema up to date and exit').action(migrateCommand);

registerKeysCommands(program);
registerGenerateCommand(program);
registerTasksCommands(program);

await program.parseAsync();
