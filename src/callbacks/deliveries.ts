import { pickedBy } from '../store/dialect.ts';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { CallbackAttemptsTable, CallbackDeliveriesTable, Database, DeliveryState } from '../store/schema.ts';

export type DeliveryRow = Selectable<CallbackDeliveriesTable>;
export type AttemptRow = Selectable<CallbackAttemptsTable>;
type Q = Kysely<Database>;

/**
 * The callback outbox's statements, shaped like the job queue's: claim leases due deliveries,
 * and an attempt's outcome is written only under the lease that made it.
 */

// Written out, not bound, so the planner can use the partial index callback_deliveries_due.
const DUE_STATES = sql<boolean>`state in ('pending', 'sending')`;

/** Leases up to `limit` due deliveries (pending ones whose time came, sending ones whose sender died). */
export async function claimDueDeliveries(q: Q, o: { owner: string; limit: number; now: number; leaseMs: number }): Promise<DeliveryRow[]> {
  if (o.limit <= 0) return [];
  const expires = o.now + o.leaseMs;
  return q
    .updateTable('callback_deliveries')
    .set((eb) => ({
      state: 'sending', lease_owner: o.owner, lease_expires_at: expires, next_attempt_at: expires,
      attempts: eb('attempts', '+', 1), round_attempts: eb('round_attempts', '+', 1), updated_at: o.now,
    }))
    .where(pickedBy(q, 'id', q.selectFrom('callback_deliveries').select('id').where(DUE_STATES).where('next_attempt_at', '<=', o.now).orderBy('next_attempt_at').limit(o.limit)))
    .where(DUE_STATES)
    .where('next_attempt_at', '<=', o.now)
    .returningAll()
    .execute();
}

export type AttemptOutcome = { startedAt: number; durationMs: number; statusCode: number | null; error: string | null };

/**
 * Records an attempt and what follows it: delivered, another try at `retryAt`, or failed for
 * good (`retryAt` null). False when the lease was lost, and nothing is written.
 */
export async function recordAttempt(q: Q, d: DeliveryRow, outcome: AttemptOutcome, retryAt: number | null, now: number): Promise<boolean> {
  const delivered = outcome.error === null;
  const state: DeliveryState = delivered ? 'delivered' : retryAt === null ? 'failed' : 'pending';
  const result = await q
    .updateTable('callback_deliveries')
    .set({
      state, next_attempt_at: retryAt ?? now, lease_owner: null, lease_expires_at: null, updated_at: now,
      delivered_at: delivered ? now : null,
    })
    .where('id', '=', d.id)
    .where('state', '=', 'sending')
    .where('lease_owner', '=', d.lease_owner)
    .where('lease_expires_at', '>', now)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) return false;
  await q
    .insertInto('callback_attempts')
    .values({ delivery_id: d.id, attempt: d.attempts, started_at: outcome.startedAt, duration_ms: outcome.durationMs, status_code: outcome.statusCode, error: outcome.error })
    .execute();
  return true;
}

/** Sends a finished delivery again from the start of its schedule, with the same id and body; false while one is under way. */
export async function resendDelivery(q: Q, deliveryId: string, now: number): Promise<boolean> {
  const result = await q
    .updateTable('callback_deliveries')
    .set({ state: 'pending', round_attempts: 0, next_attempt_at: now, updated_at: now })
    .where('id', '=', deliveryId)
    .where('state', 'in', ['delivered', 'failed'])
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** A task's deliveries, oldest first, each with its attempts. */
export async function listDeliveries(q: Q, taskId: string): Promise<(DeliveryRow & { attempt_rows: AttemptRow[] })[]> {
  const deliveries = await q.selectFrom('callback_deliveries').selectAll().where('task_id', '=', taskId).orderBy('created_at').execute();
  if (deliveries.length === 0) return [];
  const attempts = await q
    .selectFrom('callback_attempts')
    .selectAll()
    .where('delivery_id', 'in', deliveries.map((d) => d.id))
    .orderBy('attempt')
    .execute();
  return deliveries.map((d) => ({ ...d, attempt_rows: attempts.filter((a) => a.delivery_id === d.id) }));
}
