import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ApiError } from '../contract/errors.ts';
import type { Database } from '../store/schema.ts';

/** How long an Idempotency-Key keeps its task (CONTRACT §4). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** A create request's Idempotency-Key and the hash of its (validated) body. */
export type IdempotentRequest = { key: string; hash: string };

export function idempotentRequest(key: string, body: unknown): IdempotentRequest {
  return { key, hash: createHash('sha256').update(canonicalJson(body)).digest('hex') };
}

/** JSON with object keys sorted, so the same body always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The task an unexpired key already made for this body; 409 when it was made for another body. */
export async function findIdempotentTask(q: Kysely<Database>, userId: string, request: IdempotentRequest, now: number): Promise<string | null> {
  const row = await q
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'task_id'])
    .where('user_id', '=', userId)
    .where('key', '=', request.key)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!row) return null;
  if (row.request_hash !== request.hash) {
    throw new ApiError('idempotency_conflict', 'Idempotency-Key: already used with a different request body in the last 24 hours', {
      param: 'Idempotency-Key',
    });
  }
  return row.task_id;
}

/**
 * Binds the key to a new task, in the task's transaction; false when another request holds it
 * (the caller rolls back and replays that one). An expired key is taken over.
 */
export async function claimIdempotencyKey(q: Kysely<Database>, userId: string, request: IdempotentRequest, taskId: string, now: number): Promise<boolean> {
  const values = { request_hash: request.hash, task_id: taskId, expires_at: now + IDEMPOTENCY_TTL_MS };
  const result = await q
    .insertInto('idempotency_keys')
    .values({ user_id: userId, key: request.key, ...values })
    .onConflict((oc) => oc.columns(['user_id', 'key']).doUpdateSet(values).where('idempotency_keys.expires_at', '<=', now))
    .executeTakeFirst();
  return result.numInsertedOrUpdatedRows === 1n;
}

/** Another request with the same key committed first. */
export class IdempotencyRace extends Error {}
