import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { migrateToLatest, openStore, type Store } from '../../src/store/db.ts';

/** A migrated SQLite store in a temp dir for the enclosing suite; read `.store` inside tests. */
export function useTempStore(): { store: Store; dir: string } {
  const handle = {} as { store: Store; dir: string };
  before(async () => {
    handle.dir = mkdtempSync(path.join(tmpdir(), 'vidgate-store-'));
    handle.store = openStore({ data_dir: handle.dir });
    await migrateToLatest(handle.store.db);
  });
  after(async () => {
    await handle.store.close();
    rmSync(handle.dir, { recursive: true, force: true });
  });
  return handle;
}
