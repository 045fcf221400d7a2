import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { migrateToLatest, openStore, sqliteFile } from '../../src/store/db.ts';
import { until } from '../helpers/poll.ts';

describe('checkpoints of the SQLite store', () => {
  it('copy the WAL into the database file from a thread of its own, well before a commit would, and end with the store', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-checkpoint-'));
    try {
      const store = openStore({ data_dir: dir });
      await migrateToLatest(store.db);
      const file = sqliteFile(dir);
      const before = statSync(file).size;
      // About 2 MB of rows: some 500 WAL pages, far below the 10,000 at which a commit checkpoints by itself.
      const note = 'x'.repeat(2000);
      await Promise.all(Array.from({ length: 1000 }, (_, i) => store.write((trx) => trx.insertInto('users').values({
        id: `u${i}`, name: `${note}${i}`, user_group: 'default', webhook_secret: 'whsec_x', balance_micro: 0, used_micro: 0, created_at: 1,
      }).execute())));
      await until(() => statSync(file).size > before + 1_000_000, 'the rows reached the database file');
      await store.close();
      // The last connection to close removes the WAL: the checkpointer's thread has closed its own.
      assert.equal(existsSync(`${file}-wal`), false, 'no WAL left behind');
      const reopened = openStore({ data_dir: dir });
      const { n } = await reopened.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      await reopened.close();
      assert.equal(Number(n), 1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
