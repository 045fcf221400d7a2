import type { Migration, MigrationProvider } from 'kysely/migration';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_jobs.ts';
import * as m0003 from './0003_money_and_callbacks.ts';
import * as m0004 from './0004_channels.ts';
import * as m0005 from './0005_query_turns.ts';
import * as m0006 from './0006_files.ts';
import * as m0007 from './0007_trust.ts';
import * as m0008 from './0008_operator.ts';
import * as m0009 from './0009_reports.ts';
import * as m0010 from './0010_storage.ts';
import * as m0011 from './0011_events.ts';

/** Migrations in order; their names are recorded in the store, so never rename one. */
const MIGRATIONS: Record<string, Migration> = { '0001_initial': m0001, '0002_jobs': m0002, '0003_money_and_callbacks': m0003, '0004_channels': m0004, '0005_query_turns': m0005, '0006_files': m0006, '0007_trust': m0007, '0008_operator': m0008, '0009_reports': m0009, '0010_storage': m0010, '0011_events': m0011 };

export const migrationProvider: MigrationProvider = { getMigrations: async () => MIGRATIONS };
