import type { Caller } from '../auth/accounts.ts';
import { newId } from '../auth/secrets.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { ApiError } from '../contract/errors.ts';
import { olderThan, type Page, type Paging, toPage } from './paging.ts';

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

/** An audit row as the admin API shows it (CONTRACT §10.2). */
export type AuditRow = { id: string; time: number; actor: string | null; key_id: string | null; action: string; target: string; before: unknown; after: unknown };

/** Admin actions, newest first. */
export async function listAudit(q: Q, paging: Paging): Promise<Page<AuditRow>> {
  let query = q.selectFrom('audit_log').leftJoin('users', 'users.id', 'audit_log.actor_user_id')
    .select(['audit_log.id', 'audit_log.created_at', 'users.name as actor', 'audit_log.key_id', 'audit_log.action', 'audit_log.target', 'audit_log.before_json', 'audit_log.after_json'])
    .orderBy('audit_log.created_at', 'desc').orderBy('audit_log.id', 'desc').limit(paging.limit + 1);
  if (paging.before) {
    const last = await q.selectFrom('audit_log').select(['created_at', 'id']).where('id', '=', paging.before).executeTakeFirst();
    if (!last) throw new ApiError('invalid_request', `before: no audit row "${paging.before.slice(0, 80)}"`, { param: 'before' });
    query = query.where(olderThan('audit_log.created_at', 'audit_log.id', { time: Number(last.created_at), key: last.id }));
  }
  return toPage(await query.execute(), paging.limit, (r) => ({
    id: r.id, time: Math.floor(Number(r.created_at) / 1000), actor: r.actor, key_id: r.key_id, action: r.action, target: r.target,
    before: r.before_json === null ? null : JSON.parse(r.before_json), after: r.after_json === null ? null : JSON.parse(r.after_json),
  }), (row) => row.id);
}
