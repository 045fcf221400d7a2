import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createKey } from '../../src/auth/accounts.ts';
import { newApiKey } from '../../src/auth/secrets.ts';
import { reserveCredits, TopUpRefused, topUpCredits } from '../../src/billing/ledger.ts';
import type { Caller } from '../../src/auth/accounts.ts';
import { createOwnKey } from '../../src/auth/own-keys.ts';
import { chargeFor } from '../../src/billing/price-book.ts';
import { ApiError } from '../../src/contract/errors.ts';
import { ResultFiles } from '../../src/media/results.ts';
import { FileObjectStore } from '../../src/storage/file-store.ts';
import type { Store } from '../../src/store/db.ts';
import { TaskSettlement } from '../../src/tasks/settlement.ts';
import { TaskCreates } from '../../src/tasks/create-batch.ts';
import { insertTask, type TaskRow } from '../../src/tasks/task-store.ts';
import { markProcessing } from '../../src/tasks/transitions.ts';
import { checkLedgerInvariants } from '../helpers/ledger.ts';
import { describeOnEachStore } from '../helpers/store.ts';

const CREDIT = 1_000_000;

type Key = { keyId: string; userId: string; unlimited: boolean };

type Op =
  | { kind: 'create'; key: number; micro: number; seconds: number; maxUnfinished: number; callback: boolean }
  | { kind: 'complete'; task: number; billedFraction: number }
  | { kind: 'fail'; task: number }
  | { kind: 'cancel'; task: number }
  | { kind: 'topup'; key: number; micro: number; viaKey: boolean }
  | { kind: 'subkey'; key: number; micro: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const), key: fc.nat(7), micro: fc.integer({ min: 0, max: 60 * CREDIT }), seconds: fc.integer({ min: 1, max: 15 }),
    maxUnfinished: fc.constantFrom(0, 2, 4), callback: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('complete' as const), task: fc.nat(50), billedFraction: fc.double({ min: 0, max: 1.5, noNaN: true }) }),
  fc.record({ kind: fc.constant('fail' as const), task: fc.nat(50) }),
  fc.record({ kind: fc.constant('cancel' as const), task: fc.nat(50) }),
  fc.record({ kind: fc.constant('topup' as const), key: fc.nat(7), micro: fc.integer({ min: -20 * CREDIT, max: 80 * CREDIT }), viaKey: fc.boolean() }),
  // A user's own key with an allowance (POST /v1/keys): out of the creating key's, never new credits.
  fc.record({ kind: fc.constant('subkey' as const), key: fc.nat(7), micro: fc.integer({ min: 1, max: 70 * CREDIT }) }),
);

let sequence = 0;

function taskRow(key: Key, micro: number, seconds: number, callback: boolean, now: number): TaskRow {
  const id = `task-unified-${now}-${String(++sequence).padStart(8, '0')}`;
  return {
    id, user_id: key.userId, key_id: key.keyId, model: 'wan2.7-text-to-video', status: 'pending', progress: 0, quality: '720p', seed: 1,
    params_json: '{}', callback_url: callback ? 'https://hooks.example/cb' : null, output_width: 1280, output_height: 720, output_fps: 30,
    output_duration_ms: seconds * 1000, video_duration: seconds, billed_seconds: seconds, billing_rule: 'per_second',
    credits_reserved_micro: micro, credits_charged_micro: null, user_group: 'default', estimated_time: 10, error_code: null, error_message: null,
    result_path: null, created_at: now, updated_at: now, finished_at: null, engine: 'local', started_at: null, swept_at: null, can_cancel: 1, price_version: 0, result_url: null,
  };
}

/**
 * Applies one operation inside a transaction; refusals (402/429) are expected outcomes, not failures.
 * A create that does not crash goes through TaskCreates, as API creates do (batched with the others flagged `together`).
 */
async function apply(store: Store, creates: TaskCreates, settlement: TaskSettlement, keys: Key[], tasks: TaskRow[], op: Op, crash: boolean, now: number): Promise<void> {
  if (op.kind === 'subkey') return makeSubKey(store, keys, op, now);
  if (op.kind === 'create' && !crash) return createBatched(creates, keys, tasks, op, now);
  const work = async (trx: Parameters<Parameters<Store['write']>[0]>[0]) => {
    switch (op.kind) {
      case 'create': {
        const key = keys[op.key % keys.length];
        const row = taskRow(key, op.micro, op.seconds, op.callback, now);
        await insertTask(trx, row, [], 3);
        await reserveCredits(trx, { ...row, unlimited: key.unlimited, maxUnfinished: op.maxUnfinished, now });
        if (!crash) tasks.push(row);
        break;
      }
      case 'complete': {
        const task = tasks[op.task % Math.max(1, tasks.length)];
        if (!task) return;
        await markProcessing(trx, task.id, now);
        await settlement.complete(trx, task, { path: `results/${task.id}.mp4`, billedSeconds: Math.round(task.billed_seconds * op.billedFraction) }, now);
        break;
      }
      case 'fail':
      case 'cancel': {
        const task = tasks[op.task % Math.max(1, tasks.length)];
        if (!task) return;
        if (op.kind === 'fail') await settlement.fail(trx, task.id, 'service_error', 'x', now);
        else await settlement.cancel(trx, task.id, now);
        break;
      }
      case 'topup': {
        const key = keys[op.key % keys.length];
        await topUpCredits(trx, { userId: key.userId, keyId: op.viaKey ? key.keyId : null, amount: op.micro, now });
      }
    }
    if (crash) throw new Error('crash before commit');
  };
  try {
    await store.write(work);
  } catch (error) {
    if (crash && (error as Error).message === 'crash before commit') return;
    if (error instanceof ApiError && ['insufficient_quota', 'rate_limit_exceeded'].includes(error.code)) return;
    if (error instanceof TopUpRefused) return;
    throw error;
  }
}

async function createBatched(creates: TaskCreates, keys: Key[], tasks: TaskRow[], op: Extract<Op, { kind: 'create' }>, now: number): Promise<void> {
  const key = keys[op.key % keys.length];
  const row = taskRow(key, op.micro, op.seconds, op.callback, now);
  try {
    await creates.add({ task: row, inputs: [], reservation: { ...row, unlimited: key.unlimited, maxUnfinished: op.maxUnfinished, now } });
    tasks.push(row);
  } catch (error) {
    if (!(error instanceof ApiError && ['insufficient_quota', 'rate_limit_exceeded'].includes(error.code))) throw error;
  }
}

/** Makes a sub-key as POST /v1/keys does; refusals are expected outcomes. */
async function makeSubKey(store: Store, keys: Key[], op: Extract<Op, { kind: 'subkey' }>, now: number): Promise<void> {
  const parent = keys[op.key % keys.length];
  const user = await store.db.selectFrom('users').select('name').where('id', '=', parent.userId).executeTakeFirstOrThrow();
  const caller = { userId: parent.userId, keyId: parent.keyId, userName: user.name, unlimited: parent.unlimited, allowedModels: null } as unknown as Caller;
  try {
    const made = await createOwnKey(store, caller, { credits: op.micro / CREDIT }, now);
    keys.push({ keyId: made.id, userId: parent.userId, unlimited: false });
  } catch (error) {
    if (!(error instanceof ApiError && error.param === 'credits')) throw error;
  }
}

describeOnEachStore('the ledger', (temp) => {

  it('keeps charged + released = reserved and balances = their rows, over random creates, ends, crashes, top-ups and sub-keys', async () => {
    const settlement = new TaskSettlement(new ResultFiles(new FileObjectStore(temp.dir), { publicUrl: 'http://127.0.0.1:1' }));
    const creates = new TaskCreates(temp.store, 3);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(opArb, fc.boolean(), fc.boolean()), { maxLength: 40 }), async (steps) => {
        const { db } = temp.store;
        const user = `user-${++run}`;
        const keys: Key[] = [];
        for (const spec of [{ credits: 100 * CREDIT }, {}, { unlimited: true }, { credits: 0 }]) {
          const created = await createKey(db, newApiKey(), { user, userCredits: keys.length === 0 ? 50 * CREDIT : undefined, ...spec }, 1);
          keys.push({ keyId: created.keyId, userId: created.userId, unlimited: spec.unlimited === true });
        }
        const tasks: TaskRow[] = [];
        // Steps flagged `together` go in one batch, sharing a group commit (each in its own savepoint).
        let batch: Promise<void>[] = [];
        for (const [op, crash, together] of steps) {
          batch.push(apply(temp.store, creates, settlement, keys, tasks, op, crash, 1_000 + run));
          if (!together) {
            await Promise.all(batch);
            batch = [];
          }
        }
        await Promise.all(batch);
        await checkLedgerInvariants(temp.store.db);
        const moves = await db.selectFrom('ledger_entries').select('amount_micro').where('user_id', '=', keys[0].userId).where('kind', '=', 'allowance').execute();
        assert.equal(moves.reduce((sum, row) => sum + Number(row.amount_micro), 0), 0, 'making keys never adds or takes credits: its rows cancel out');
        for (const key of keys) {
          const row = await db.selectFrom('api_keys').select(['allowance_micro', 'spent_micro']).where('id', '=', key.keyId).executeTakeFirstOrThrow();
          if (row.allowance_micro !== null) assert.ok(Number(row.spent_micro) <= Number(row.allowance_micro), 'a key never spends past its allowance');
        }
      }),
      { numRuns: 100 },
    );
  });

  it('settles a task once: a second end changes nothing', async () => {
    const { db } = temp.store;
    const settlement = new TaskSettlement(new ResultFiles(new FileObjectStore(temp.dir), { publicUrl: 'http://127.0.0.1:1' }));
    const created = await createKey(db, newApiKey(), { user: 'once', userCredits: 100 * CREDIT }, 1);
    const key = { keyId: created.keyId, userId: created.userId, unlimited: false };
    const row = taskRow(key, 40 * CREDIT, 5, true, 5);
    await temp.store.write(async (trx) => {
      await insertTask(trx, row, [], 3);
      await reserveCredits(trx, { ...row, unlimited: false, maxUnfinished: 0, now: 5 });
      await markProcessing(trx, row.id, 5);
    });
    const first = await temp.store.write((trx) => settlement.complete(trx, row, { path: 'results/x.mp4', billedSeconds: 3 }, 6));
    assert.equal(first?.credits_charged_micro, 24 * CREDIT);
    assert.equal(await temp.store.write((trx) => settlement.complete(trx, row, { path: 'results/x.mp4', billedSeconds: 5 }, 7)), undefined);
    assert.equal(await temp.store.write((trx) => settlement.cancel(trx, row.id, 7)), undefined);
    assert.equal(await temp.store.write((trx) => settlement.fail(trx, row.id, 'service_error', 'x', 7)), undefined);
    const user = await db.selectFrom('users').selectAll().where('id', '=', key.userId).executeTakeFirstOrThrow();
    assert.deepEqual([Number(user.balance_micro), Number(user.used_micro)], [76 * CREDIT, 24 * CREDIT]);
    await checkLedgerInvariants(temp.store.db);
  });

  it('charges per second of what the engine billed, never past the reservation; per call, the quote', () => {
    const perSecond = { billing_rule: 'per_second', credits_reserved_micro: 86 * CREDIT, billed_seconds: 10 };
    assert.equal(chargeFor(perSecond, 10), 86 * CREDIT);
    assert.equal(chargeFor(perSecond, 4), 34.4 * CREDIT);
    assert.equal(chargeFor(perSecond, 12), 86 * CREDIT);
    assert.equal(chargeFor(perSecond, 0), 0);
    assert.equal(chargeFor({ ...perSecond, billing_rule: 'per_call' }, 4), 86 * CREDIT);
  });
});
