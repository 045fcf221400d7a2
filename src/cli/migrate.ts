import { migrateToLatest, openStore } from '../store/db.ts';
import { settingsOrExit } from './settings.ts';

export async function migrateCommand(): Promise<void> {
  const store = openStore(settingsOrExit());
  try {
    const applied = await migrateToLatest(store.db);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the store is up to date\n');
  } finally {
    await store.close();
  }
}
