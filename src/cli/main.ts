import { Command } from 'commander';
import { VERSION } from '../app.ts';
import { migrateCommand } from './migrate.ts';
import { serveCommand } from './serve.ts';

const program = new Command('vidgate').description('Self-hosted, EvoLink-compatible video generation gateway').version(VERSION);

program
  .command('serve')
  .description('start the API server (settings from VIDGATE_* and VIDGATE_CONFIG)')
  .action(serveCommand);

program.command('migrate').description('bring the store schema up to date and exit').action(migrateCommand);

await program.parseAsync();
