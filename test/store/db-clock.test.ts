import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/db.ts';
import { databaseClock, measureOffset } from '../../src/store/db-clock.ts';
import { tempPostgresDatabase } from '../helpers/store.ts';

describe('the database clock on PostgreSQL (CONTRACT §8.8)', { skip: !process.env.VIDGATE_TEST_DATABASE_URL && 'no test PostgreSQL' }, () => {
  let database: Awaited<ReturnType<typeof tempPostgresDatabase>>;
  let store: Store;
  before(async () => {
    database = await tempPostgresDatabase();
    store = openStore({ data_dir: '', database_url: database.url });
  });
  after(async () => {
    await store.close();
    await database.drop();
  });

  it("reads the server's time: lease times written by any node agree with the server's", async () => {
    const clock = await databaseClock(store.db);
    try {
      const offset = await measureOffset(store.db);
      assert.ok(Math.abs(offset) < 1000, `this machine's clock and the server's agree (offset ${offset} ms)`);
      const { rows } = await sql<{ ms: string }>`select (extract(epoch from clock_timestamp()) * 1000)::bigint as ms`.execute(store.db);
      assert.ok(Math.abs(clock.now() - Number(rows[0].ms)) < 1000);
    } finally {
      clock.close();
    }
  });
});
