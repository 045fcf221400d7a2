import { settingsOrExit } from './settings.ts';
import { openMigratedStore } from './startup-errors.ts';

export async function migrateCommand(): Promise<void> {
  const { store, applied } = await openMigratedStore(settingsOrExit());
  try {
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the store is up to date\n');
  } finally {
    await store.close();
  }
}
