import type { Kysely } from 'kysely';
import { randomChars } from '../contract/ids.ts';
import { insertRow } from '../store/precompiled.ts';
import type { Database } from '../store/schema.ts';

/** A Standard Webhooks message id: stable across every attempt of one delivery. */
function newMessageId(): string {
  return `msg_${randomChars(26)}`;
}

/**
 * Stores a callback to send, due now; call inside the transaction that ends the task, so the
 * callback exists exactly when the settlement does.
 */
export async function enqueueCallback(q: Kysely<Database>, message: { taskId: string; userId: string; url: string; body: string; now: number }): Promise<void> {
  await insertRow(q, 'callback_deliveries', {
    id: newMessageId(), task_id: message.taskId, user_id: message.userId, url: message.url, body: message.body, state: 'pending',
    attempts: 0, round_attempts: 0, next_attempt_at: message.now, lease_owner: null, lease_expires_at: null, delivered_at: null,
    created_at: message.now, updated_at: message.now,
  });
}
