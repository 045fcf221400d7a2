import assert from 'node:assert/strict';
import { it } from 'node:test';
import { chainedWrites, compiledInsert, compiledStatement, precompileOne } from '../../src/store/precompiled.ts';
import { TaskReader } from '../../src/tasks/task-store.ts';
import { describeOnEachStore } from '../helpers/store.ts';
import { seedTask } from '../helpers/tasks.ts';

const user = (id: string, balance: number) => ({ id, name: id, user_group: 'default', webhook_secret: `whsec_${id}`, balance_micro: balance, used_micro: 0, created_at: 1 });

describeOnEachStore('a multi-row insert compiled once', (temp, kind) => {
  it('stores each batch\'s own values when a batch of the same size reuses the statement', async () => {
    const { store } = temp;
    for (const batch of [['a1', 'a2', 'a3'], ['b1', 'b2', 'b3'], ['c1']]) {
      const rows = batch.map((id, i) => user(id, 100 * i));
      await store.db.executeQuery(compiledInsert(store.db, 'users', rows)!);
    }
    const stored = await store.db.selectFrom('users').select(['id', 'balance_micro', 'webhook_secret']).where('id', 'in', ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1']).orderBy('id').execute();
    assert.deepEqual(stored.map((r) => [r.id, Number(r.balance_micro), r.webhook_secret]), [
      ['a1', 0, 'whsec_a1'], ['a2', 100, 'whsec_a2'], ['a3', 200, 'whsec_a3'],
      ['b1', 0, 'whsec_b1'], ['b2', 100, 'whsec_b2'], ['b3', 200, 'whsec_b3'], ['c1', 0, 'whsec_c1'],
    ]);
  });

  it('takes each row\'s values by column, whatever order its keys were written in', async () => {
    const { store } = temp;
    const { id, name, ...rest } = user('e2', 7);
    await store.db.executeQuery(compiledInsert(store.db, 'users', [user('e1', 5), { ...rest, name, id }])!);
    const stored = await store.db.selectFrom('users').select(['id', 'name', 'balance_micro']).where('id', 'in', ['e1', 'e2']).orderBy('id').execute();
    assert.deepEqual(stored.map((r) => [r.id, r.name, Number(r.balance_micro)]), [['e1', 'e1', 5], ['e2', 'e2', 7]]);
  });

  it('on PostgreSQL, chains writes into one statement, each keeping its own values', { skip: kind !== 'postgres' }, async () => {
    const { db } = temp.store;
    await db.insertInto('users').values(user('f0', 50)).execute();
    const debit = (id: string, amount: number) => compiledStatement(db, 'test-debit', (b) => b.updateTable('users')
      .set((eb) => ({ balance_micro: eb('balance_micro', '-', 0) })).where('id', '=', ''), [amount, id]);
    const chained = chainedWrites([compiledInsert(db, 'users', [user('f1', 1), user('f2', 2)])!, debit('f0', 7), compiledInsert(db, 'users', [user('f3', 3)])!]);
    assert.match(chained.sql, /^with w0 as \(insert .*\), w1 as \(update .*\$15.*\$16.*\), w2 as \(insert .*\$23\)\) select 1 as written$/s);
    await db.executeQuery(chained);
    const stored = await db.selectFrom('users').select(['id', 'balance_micro', 'webhook_secret']).where('id', 'like', 'f%').orderBy('id').execute();
    assert.deepEqual(stored.map((r) => [r.id, Number(r.balance_micro), r.webhook_secret]), [['f0', 43, 'whsec_f0'], ['f1', 1, 'whsec_f1'], ['f2', 2, 'whsec_f2'], ['f3', 3, 'whsec_f3']]);
  });

  it('leaves to the builder rows that differ in their columns, or hold more than plain values', () => {
    const { db } = temp.store;
    assert.equal(compiledInsert(db, 'users', [user('d1', 0), { ...user('d2', 0), used_micro: undefined as never }]), null, 'a column missing from one row');
    assert.equal(compiledInsert(db, 'users', [user('d1', 0), { ...user('d2', 0), extra: 1 } as never]), null, 'a column only one row has');
    assert.equal(compiledInsert(db, 'users', [{ ...user('d1', 0), name: { toString: () => 'x' } as never }]), null, 'an object');
    assert.ok(compiledInsert(db, 'users', [user('d1', 0), { ...user('d2', 0), name: null as never }]), 'null is a plain value');
  });
});

describeOnEachStore('a hot one-row read', (temp, kind) => {
  it('answers the row its parameters name, or undefined', async () => {
    const { store } = temp;
    await store.db.insertInto('users').values([user('r1', 10), user('r2', 20)]).execute();
    const byId = precompileOne(store, store.db.selectFrom('users').select(['name', 'balance_micro']).where('id', '=', ''));
    assert.equal((await byId(['r2']))?.name, 'r2');
    assert.equal(Number((await byId(['r1']))?.balance_micro), 10);
    assert.equal(await byId(['nobody']), undefined);
  });

  it('refuses a read that does not name its columns', () => {
    const { db } = temp.store;
    assert.throws(() => precompileOne(temp.store, db.selectFrom('users').selectAll().where('id', '=', '')), /names its columns/);
    assert.throws(() => precompileOne(temp.store, db.selectFrom('users').selectAll('users').where('id', '=', '')), /names its columns/);
  });

  it('keeps answering, with the columns it named, after a migration adds a column to its table', async () => {
    const { store } = temp;
    await store.db.insertInto('users').values(user('m1', 3)).execute();
    await seedTask(store, 't-m1');
    const tasks = new TaskReader(store);
    const byId = precompileOne(store, store.db.selectFrom('users').select(['id', 'balance_micro']).where('id', '=', ''));
    assert.equal((await byId(['m1']))?.id, 'm1');
    assert.equal((await tasks.findTask('t-m1'))?.user_id, 'u1');
    await store.db.schema.alterTable('users').addColumn('added_later', 'text').execute();
    await store.db.schema.alterTable('tasks').addColumn('added_later', 'text').execute();
    assert.equal(Number((await byId(['m1']))?.balance_micro), 3);
    const again = await tasks.findTask('t-m1');
    assert.equal(again?.user_id, 'u1');
    assert.equal('added_later' in again!, false, 'the reader\'s columns stay the ones it named');
  });

  it('on SQLite, sees what is committed and neither waits for nor sees the writer\'s open transaction', { skip: kind !== 'sqlite' }, async () => {
    const { store } = temp;
    await store.db.insertInto('users').values(user('w1', 1)).execute();
    const balanceOf = precompileOne(store, store.db.selectFrom('users').select('balance_micro').where('id', '=', ''));
    let readInside: Promise<{ balance_micro: number } | undefined> | undefined;
    await store.write(async (trx) => {
      await trx.updateTable('users').set({ balance_micro: 2 }).where('id', '=', 'w1').execute();
      readInside = balanceOf(['w1']); // not awaited here: through the writer's connection it would wait for this transaction
    });
    assert.equal(Number((await readInside!)?.balance_micro), 1, 'the read inside saw the state before the transaction');
    assert.equal(Number((await balanceOf(['w1']))?.balance_micro), 2, 'and sees the commit once it is made');
  });
});
