import type { Caller } from '../auth/accounts.ts';
import { newId } from '../auth/secrets.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

type Q = Kysely<Database>;

/** Who did an admin action: the admin's user and key. */
export type Actor = Pick<Caller, 'userId' | 'keyId'>;

/** The audit actions (CONTRACT §10.2). */
export type AuditAction = 'user.create' | 'user.update' | 'key.create' | 'key.update' | 'key.disable' | 'topup' | 'price.update' | 'channel.pause' | 'channel.resume';

/** Writes one audit row inside the change's own transaction, so the change and its record stand or fall together. */
export async function recordAudit(
  q: Q,
  entry: { actor: Actor; action: AuditAction; target: string; before?: unknown; after?: unknown; now: number },
): Promise<void> {
  await q.insertInto('audit_log').values({
    id: newId(),
    created_at: entry.now,
    actor_user_id: entry.actor.userId,
    key_id: entry.actor.keyId,
    action: entry.action,
    target: entry.target,
    before_json: entry.before === undefined ? null : JSON.stringify(entry.before),
    after_json: entry.after === undefined ? null : JSON.stringify(entry.after),
  }).execute();
}
