import { migrateToLatest, openStore } from '../store/db.ts';
import { settingsOrExit } from './settings.ts';
import { startOrExit } from './startup-errors.ts';

export async function migrateCommand(): Promise<void> {
  const settings = settingsOrExit();
  const store = await startOrExit(settings, 'store', async () => openStore(settings));
  try {
    const applied = await startOrExit(settings, 'store', () => migrateToLatest(store.db));
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the store is up to date\n');
  } finally {
    await store.close();
  }
}
