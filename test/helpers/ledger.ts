import assert from 'node:assert/strict';
import { isTerminal } from '../../src/contract/task-view.ts';
import type { Db } from '../../src/store/db.ts';

/** The ledger's invariants over the whole store: every task, user and key balances out; one callback per ended task. */
export async function checkLedgerInvariants(db: Db): Promise<void> {
  const sums = (await db
    .selectFrom('ledger_entries')
    .select(['id', 'user_id', 'key_id', 'task_id', 'kind', 'amount_micro', 'balance_after_micro'])
    .orderBy('id')
    .execute()).map((r) => ({ ...r, amount_micro: Number(r.amount_micro) }));
  const total = (filter: (r: (typeof sums)[number]) => boolean) => sums.filter(filter).reduce((sum, r) => sum + r.amount_micro, 0);

  for (const task of await db.selectFrom('tasks').selectAll().execute()) {
    const of = (kind: string) => total((r) => r.task_id === task.id && r.kind === kind);
    assert.equal(of('reserve'), Number(task.credits_reserved_micro), `${task.id}: one reservation of its quote`);
    if (isTerminal(task.status)) {
      assert.equal(of('charge') + of('release'), of('reserve'), `${task.id}: charged + released = reserved`);
      assert.equal(of('charge'), Number(task.credits_charged_micro), `${task.id}: the charge it shows`);
      if (task.status !== 'completed') assert.equal(of('charge'), 0, `${task.id}: ${task.status} tasks are not charged`);
    } else {
      assert.equal(of('charge') + of('release'), 0, `${task.id}: unfinished tasks are not settled`);
    }
    const deliveries = await db.selectFrom('callback_deliveries').select('id').where('task_id', '=', task.id).execute();
    const ended = isTerminal(task.status);
    assert.equal(deliveries.length, ended && task.callback_url ? 1 : 0, `${task.id}: one callback when it ends`);
  }
  for (const user of await db.selectFrom('users').selectAll().execute()) {
    const mine = (kind: string) => total((r) => r.user_id === user.id && r.kind === kind);
    assert.equal(Number(user.balance_micro), mine('topup') + mine('adjust') - mine('reserve') + mine('release'), `${user.name}: balance = sum of rows`);
    assert.equal(Number(user.used_micro), mine('charge'), `${user.name}: used = charges`);
    // Each row is written under the user's row lock, so in id order every row's balance_after is the running balance.
    let running = 0;
    for (const row of sums.filter((r) => r.user_id === user.id)) {
      running += row.kind === 'reserve' ? -row.amount_micro : row.kind === 'charge' || row.kind === 'allowance' ? 0 : row.amount_micro;
      assert.equal(Number(row.balance_after_micro), running, `${user.name}: ledger row ${row.id} (${row.kind}) keeps the balance after it`);
    }
  }
  for (const key of await db.selectFrom('api_keys').selectAll().execute()) {
    const mine = (kind: string) => total((r) => r.key_id === key.id && r.kind === kind);
    assert.equal(Number(key.spent_micro), mine('reserve') - mine('release'), 'key spent = reserved − released');
    assert.equal(Number(key.used_micro), mine('charge'), 'key used = charges');
    if (key.allowance_micro !== null) assert.equal(Number(key.allowance_micro), mine('topup') + mine('adjust') + mine('allowance'), 'key allowance = its top-ups, adjusts and allowance moves');
    const unfinished = await db.selectFrom('tasks').select('id').where('key_id', '=', key.id).where('status', 'in', ['pending', 'processing']).execute();
    assert.equal(key.unfinished, unfinished.length, 'unfinished counter = unfinished tasks');
  }
}
