import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../src/store/db.ts';
import { useTempStore } from '../helpers/store.ts';

describe('group commit on SQLite', () => {
  const temp = useTempStore();

  const user = (id: string) => ({ id, name: id, user_group: 'default', webhook_secret: 'whsec_x', balance_micro: 0, used_micro: 0, created_at: 1 });

  it('commits concurrent writes, rolling back only the one that fails', async () => {
    const { store } = temp;
    const results = await Promise.allSettled([
      store.write((trx) => trx.insertInto('users').values(user('u1')).execute()),
      store.write(async (trx) => {
        await trx.insertInto('users').values(user('u2')).execute();
        throw new Error('boom');
      }),
      store.write((trx) => trx.insertInto('users').values(user('u1')).execute()), // duplicate key
      store.write((trx) => trx.insertInto('users').values(user('u3')).execute()),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const names = (await store.db.selectFrom('users').select('name').orderBy('name').execute()).map((r) => r.name);
    assert.deepEqual(names, ['u1', 'u3']);
  });

  it('resolves only after the data is committed and visible to a new connection', async () => {
    const { store, dir } = temp;
    const writes = Array.from({ length: 50 }, (_, i) => store.write((trx) => trx.insertInto('users').values(user(`bulk${i}`)).execute()));
    await Promise.all(writes);
    const other = openStore({ data_dir: dir });
    const row = await other.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('name', 'like', 'bulk%').executeTakeFirstOrThrow();
    await other.close();
    assert.equal(Number(row.n), 50);
  });

  it('returns each piece of work its own value', async () => {
    const { store } = temp;
    const values = await Promise.all([1, 2, 3].map((n) => store.write(async () => n * 10)));
    assert.deepEqual(values, [10, 20, 30]);
  });
});
