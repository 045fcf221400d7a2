import type { Kysely } from 'kysely';
import { insertRow, runCompiled } from '../store/precompiled.ts';
import type { Database, LedgerEntriesTable } from '../store/schema.ts';
import { ApiError } from '../contract/errors.ts';
import { microToCredits } from './money.ts';

type Q = Kysely<Database>;

/**
 * The ledger: every movement of credits is an append-only row, written in the transaction of
 * the change that causes it, next to the cached balances it moves. Amounts are positive
 * micro-credits, but for the signed `adjust` (a negative top-up) and `allowance` (moved between a
 * user's keys), and each keeps the user's balance after it:
 *   user balance = top-ups + adjusts − reservations + releases;  user used = charges;
 *   key spent = its reservations − its releases;                 key used = its charges;
 *   key allowance = its top-ups + adjusts + allowance moves (keys that have one).
 * Call every function inside a transaction (`store.write`).
 */

/** The key and user a task is billed to, and how much it reserved. */
export type BilledTask = { id: string; user_id: string; key_id: string; credits_reserved_micro: number };

export type Reservation = BilledTask & {
  /** The key is never refused for credits. */
  unlimited: boolean;
  /** At most this many unfinished tasks for the key; 0 = no limit. */
  maxUnfinished: number;
  now: number;
};

/** Holds a new task's quote: 429 when the key has too many unfinished tasks, 402 when credits fall short. */
export async function reserveCredits(q: Q, r: Reservation): Promise<void> {
  const amount = r.credits_reserved_micro;
  const limited = r.maxUnfinished > 0;
  // Hot: every create runs these, so they are compiled once (parameters in SQL order). The key's row before the user's: one lock order.
  const key = await runCompiled(q, limited ? 'reserve-key-limited' : 'reserve-key', (b) => {
    const update = b
      .updateTable('api_keys')
      .set((eb) => ({ spent_micro: eb('spent_micro', '+', 0), unfinished: eb('unfinished', '+', 1), last_used_at: 0 }))
      .where('id', '=', '')
      .where((eb) => eb.or([eb('unlimited', '=', 1), eb('allowance_micro', 'is', null), eb(eb('allowance_micro', '-', eb.ref('spent_micro')), '>=', 0)]));
    return limited ? update.where('unfinished', '<', 0) : update;
  }, limited ? [amount, 1, r.now, r.key_id, 1, amount, r.maxUnfinished] : [amount, 1, r.now, r.key_id, 1, amount]);
  if (key.numAffectedRows !== 1n) throw await keyRefusal(q, r);

  const user = await runCompiled(q, r.unlimited ? 'reserve-user-unlimited' : 'reserve-user', (b) => {
    const update = b.updateTable('users').set((eb) => ({ balance_micro: eb('balance_micro', '-', 0) })).where('id', '=', '');
    return (r.unlimited ? update : update.where('balance_micro', '>=', 0)).returning('balance_micro');
  }, r.unlimited ? [amount, r.user_id] : [amount, r.user_id, amount]);
  if (user.rows.length !== 1) {
    const row = await q.selectFrom('users').select('balance_micro').where('id', '=', r.user_id).executeTakeFirstOrThrow();
    throw balanceRefusal(amount, Number(row.balance_micro));
  }
  await appendEntry(q, r, 'reserve', amount, balanceOf(user.rows), r.now);
}

/**
 * Admission before any work (CONTRACT §8.1): whether the key could reserve `amount` now — its
 * unfinished-task limit, its allowance, its user's balance. Reads only; the reservation after
 * probing checks again under its locks. Throws the same 429 and 402 the reservation would
 * ("at least" when `amount` is a lower bound of the quote).
 */
export async function checkAdmission(q: Q, r: Reservation, lowerBound: boolean): Promise<void> {
  const key = await q.selectFrom('api_keys').select(['allowance_micro', 'spent_micro', 'unfinished']).where('id', '=', r.key_id).executeTakeFirstOrThrow();
  const balance = r.unlimited ? 0 : Number((await q.selectFrom('users').select('balance_micro').where('id', '=', r.user_id).executeTakeFirstOrThrow()).balance_micro);
  const shortfall = reservationShortfall(r, key, balance);
  if (shortfall) throw await refusal(q, r, shortfall, key, balance, lowerBound ? 'at least ' : '');
}

/** A key's money and limit columns, as a reservation checks them. */
export type KeyFunds = { allowance_micro: number | null; spent_micro: number; unfinished: number };

/** Why `r` cannot be reserved against these rows (the checks the reservation's UPDATEs make), or null when it fits. */
export function reservationShortfall(r: Reservation, key: KeyFunds, balance: number): 'unfinished' | 'allowance' | 'balance' | null {
  if (r.maxUnfinished > 0 && key.unfinished >= r.maxUnfinished) return 'unfinished';
  if (r.unlimited) return null;
  if (key.allowance_micro !== null && Number(key.allowance_micro) - Number(key.spent_micro) < r.credits_reserved_micro) return 'allowance';
  return balance < r.credits_reserved_micro ? 'balance' : null;
}

/** The answer to a shortfall: 429 with Retry-After for the unfinished-task limit, else 402 naming what fell short. */
export async function refusal(q: Q, r: Reservation, shortfall: 'unfinished' | 'allowance' | 'balance', key: KeyFunds, balance: number, least = ''): Promise<ApiError> {
  if (shortfall === 'unfinished') {
    const retryAfter = await secondsUntilOneFinishes(q, r.key_id, r.now);
    return new ApiError('rate_limit_exceeded', `this key already has ${key.unfinished} unfinished tasks, its limit; retry when one finishes`, {
      headers: { 'retry-after': String(retryAfter) },
    });
  }
  if (shortfall === 'allowance') {
    const left = Number(key.allowance_micro) - Number(key.spent_micro);
    return new ApiError('insufficient_quota', `credits: this task needs ${least}${credits(r.credits_reserved_micro)} and this key's allowance has ${credits(left)} left`);
  }
  return balanceRefusal(r.credits_reserved_micro, balance, least);
}

/** Ends a task's reservation: `charge` is spent, the rest goes back. Fails and cancels charge 0. */
export async function settleCredits(q: Q, task: BilledTask, charge: number, now: number): Promise<void> {
  const reserved = Number(task.credits_reserved_micro);
  if (charge < 0 || charge > reserved) throw new Error(`charge ${charge} outside the reservation ${reserved} of ${task.id}`);
  const release = reserved - charge;
  // The key's row before the user's, as everywhere: one lock order, so concurrent writers never deadlock.
  await q
    .updateTable('api_keys')
    .set((eb) => ({ spent_micro: eb('spent_micro', '-', release), used_micro: eb('used_micro', '+', charge), unfinished: eb('unfinished', '-', 1) }))
    .where('id', '=', task.key_id)
    .execute();
  const user = await q
    .updateTable('users')
    .set((eb) => ({ balance_micro: eb('balance_micro', '+', release), used_micro: eb('used_micro', '+', charge) }))
    .where('id', '=', task.user_id)
    .returning('balance_micro')
    .execute();
  const balance = balanceOf(user);
  if (charge > 0) await appendEntry(q, task, 'charge', charge, balance - release, now);
  if (release > 0) await appendEntry(q, task, 'release', release, balance, now);
}

/** A top-up that would take back more than is left. */
export class TopUpRefused extends Error {}

/**
 * Adds credits to a user, and to the key's allowance when given a key that has one. A negative
 * amount takes credits back, but never more than the balance (or the allowance) has left.
 */
export async function topUpCredits(q: Q, top: { userId: string; keyId: string | null; amount: number; now: number; note?: string }): Promise<void> {
  if (top.keyId) { // the key's row before the user's: the lock order of every ledger write
    let key = q
      .updateTable('api_keys')
      .set((eb) => ({ allowance_micro: eb('allowance_micro', '+', top.amount) }))
      .where('id', '=', top.keyId)
      .where('allowance_micro', 'is not', null);
    if (top.amount < 0) key = key.where((eb) => eb(eb('allowance_micro', '-', eb.ref('spent_micro')), '>=', -top.amount));
    const changed = (await key.executeTakeFirst()).numUpdatedRows === 1n;
    // Unchanged is fine for a key without an allowance; for one with, it was refused.
    if (!changed && top.amount < 0 && (await hasAllowance(q, top.keyId))) {
      throw new TopUpRefused(`--credits: the key's allowance has less than ${credits(-top.amount)} left to take back`);
    }
  }
  let user = q.updateTable('users').set((eb) => ({ balance_micro: eb('balance_micro', '+', top.amount) })).where('id', '=', top.userId);
  if (top.amount < 0) user = user.where('balance_micro', '>=', -top.amount);
  const changed = await user.returning('balance_micro').execute();
  if (changed.length !== 1) throw new TopUpRefused(`--credits: the balance has less than ${credits(-top.amount)} left to take back`);
  await insertRow(q, 'ledger_entries', {
    user_id: top.userId, key_id: top.keyId, task_id: null, kind: top.amount < 0 ? 'adjust' : 'topup', amount_micro: top.amount, created_at: top.now,
    balance_after_micro: balanceOf(changed), note: top.note ?? null,
  });
}

/**
 * Moves `amount` of allowance from one of a user's keys to another (a sub-key, CONTRACT §10.3): two
 * `allowance` rows that cancel out and leave the user's balance as it was. The giving key loses it only when
 * it has an allowance of its own (else the new key's allowance is a cap within the balance). False
 * when the giving key has less than `amount` left.
 */
export async function moveAllowance(q: Q, move: { userId: string; fromKeyId: string; toKeyId: string; amount: number; now: number }): Promise<boolean> {
  const from = await q.updateTable('api_keys').set((eb) => ({ allowance_micro: eb('allowance_micro', '-', move.amount) }))
    .where('id', '=', move.fromKeyId).where('allowance_micro', 'is not', null)
    .where((eb) => eb(eb('allowance_micro', '-', eb.ref('spent_micro')), '>=', move.amount)).executeTakeFirst();
  if (from.numUpdatedRows !== 1n && (await hasAllowance(q, move.fromKeyId))) return false;
  await q.updateTable('api_keys').set((eb) => ({ allowance_micro: eb(eb.fn.coalesce('allowance_micro', eb.lit(0)), '+', move.amount) })).where('id', '=', move.toKeyId).execute();
  // An unchanged balance, read under the user's row lock so the two rows sit in ledger order.
  const user = await q.updateTable('users').set((eb) => ({ balance_micro: eb.ref('balance_micro') })).where('id', '=', move.userId).returning('balance_micro').execute();
  const balance = balanceOf(user);
  for (const [keyId, amount, other] of [[move.fromKeyId, -move.amount, move.toKeyId], [move.toKeyId, move.amount, move.fromKeyId]] as const) {
    await insertRow(q, 'ledger_entries', {
      user_id: move.userId, key_id: keyId, task_id: null, kind: 'allowance', amount_micro: amount, created_at: move.now, balance_after_micro: balance,
      note: amount < 0 ? `allowance to key ${other}` : `allowance from key ${other}`,
    });
  }
  return true;
}

async function hasAllowance(q: Q, keyId: string): Promise<boolean> {
  const row = await q.selectFrom('api_keys').select('id').where('id', '=', keyId).where('allowance_micro', 'is not', null).executeTakeFirst();
  return row !== undefined;
}

async function appendEntry(q: Q, task: BilledTask, kind: LedgerEntriesTable['kind'], amount: number, balanceAfter: number, now: number): Promise<void> {
  await insertRow(q, 'ledger_entries', {
    user_id: task.user_id, key_id: task.key_id, task_id: task.id, kind, amount_micro: amount, created_at: now, balance_after_micro: balanceAfter, note: null,
  });
}

/** The balance an UPDATE … RETURNING balance_micro left (bigint comes back as a string on PostgreSQL). */
function balanceOf(rows: readonly unknown[]): number {
  return Number((rows[0] as { balance_micro: number | string }).balance_micro);
}

function balanceRefusal(amount: number, balance: number, least = ''): ApiError {
  return new ApiError('insufficient_quota', `credits: this task needs ${least}${credits(amount)} and the balance is ${credits(balance)}`);
}

/** Why the key's reservation was refused: its unfinished-task limit (429) or its allowance (402). */
async function keyRefusal(q: Q, r: Reservation): Promise<ApiError> {
  const key = await q.selectFrom('api_keys').select(['allowance_micro', 'spent_micro', 'unfinished']).where('id', '=', r.key_id).executeTakeFirstOrThrow();
  return refusal(q, r, r.maxUnfinished > 0 && key.unfinished >= r.maxUnfinished ? 'unfinished' : 'allowance', key, 0);
}

/** The estimate of the key's soonest-finishing task, in whole seconds (at least 1). */
async function secondsUntilOneFinishes(q: Q, keyId: string, now: number): Promise<number> {
  const row = await q
    .selectFrom('tasks')
    .select((eb) => eb.fn.min(eb(eb('created_at', '+', eb('estimated_time', '*', 1000)), '-', now)).as('ms'))
    .where('key_id', '=', keyId)
    .where('status', 'in', ['pending', 'processing'])
    .executeTakeFirst();
  return Math.max(1, Math.ceil(Number(row?.ms ?? 1000) / 1000));
}

function credits(micro: number): string {
  return `${microToCredits(micro)} credits`;
}
