import type { Kysely } from 'kysely';
import { insertKey } from '../auth/accounts.ts';
import { newApiKey, newId, newWebhookSecret } from '../auth/secrets.ts';
import { TopUpRefused, topUpCredits } from '../billing/ledger.ts';
import { creditsToMicro, microToCredits } from '../billing/money.ts';
import { ApiError, invalidField } from '../contract/errors.ts';
import type { Store } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import { type Actor, recordAudit } from './audit.ts';
import { olderThan, type Page, type Paging, toPage } from './paging.ts';

type Q = Kysely<Database>;

export type { Page, Paging };

/** A user as the admin API shows it (CONTRACT §10.2 "Shapes"). */
export type AdminUser = {
  name: string; group: string; role: string; disabled: boolean; balance: number; used: number; key_count: number;
  file_quota: number | null; file_quota_bytes: number | null; created: number;
};

/** A key as the admin API shows it; the secret only in a create answer. */
export type AdminKey = {
  id: string; user: string; name: string | null; prefix: string; credits: number | null; unlimited: boolean; models: string[] | null;
  rpm: number | null; max_unfinished: number | null; expires_at: number | null; disabled: boolean; created: number; last_used: number | null;
};

const seconds = (ms: number | null) => (ms === null ? null : Math.floor(Number(ms) / 1000));

function userQuery(q: Q) {
  return q
    .selectFrom('users')
    .select((eb) => [
      'users.id', 'users.name', 'users.user_group', 'users.role', 'users.disabled_at', 'users.balance_micro', 'users.used_micro', 'users.max_files',
      'users.max_file_bytes', 'users.created_at',
      eb.selectFrom('api_keys').select((k) => k.fn.countAll<number>().as('n')).whereRef('api_keys.user_id', '=', 'users.id').as('key_count'),
    ]);
}

type UserRow = Awaited<ReturnType<ReturnType<typeof userQuery>['executeTakeFirstOrThrow']>>;

function userView(row: UserRow): AdminUser {
  return {
    name: row.name, group: row.user_group, role: row.role, disabled: row.disabled_at !== null, balance: microToCredits(Number(row.balance_micro)),
    used: microToCredits(Number(row.used_micro)), key_count: Number(row.key_count ?? 0), file_quota: row.max_files, file_quota_bytes: row.max_file_bytes === null ? null : Number(row.max_file_bytes),
    created: seconds(row.created_at)!,
  };
}

/** Users, newest first. */
export async function listUsers(q: Q, paging: Paging): Promise<Page<AdminUser>> {
  let query = userQuery(q).orderBy('users.created_at', 'desc').orderBy('users.name', 'desc').limit(paging.limit + 1);
  if (paging.before) {
    const last = await q.selectFrom('users').select(['created_at', 'name']).where('name', '=', paging.before).executeTakeFirst();
    if (!last) throw invalidField('before', `no user "${paging.before.slice(0, 80)}"`);
    query = query.where(olderThan('users.created_at', 'users.name', { time: Number(last.created_at), key: last.name }));
  }
  return toPage(await query.execute(), paging.limit, userView, (user) => user.name);
}

/** The id of the user named `name`; 404 naming `field` when there is none. */
export async function userIdByName(q: Q, name: string, field: string): Promise<string> {
  const row = await q.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
  if (!row) throw new ApiError('not_found', `${field}: no user "${name.slice(0, 80)}"`, { param: field });
  return row.id;
}

export async function getUser(q: Q, name: string): Promise<AdminUser> {
  const row = await userQuery(q).where('users.name', '=', name).executeTakeFirst();
  if (!row) throw new ApiError('not_found', `name: no user "${name.slice(0, 80)}"`, { param: 'name' });
  return userView(row);
}

/** A new user with no key yet (keys are made with POST /admin/v1/keys); credits are a top-up row. */
export async function createUser(store: Store, actor: Actor, spec: { name: string; group?: string; role?: 'user' | 'admin'; credits?: number }, now: number): Promise<AdminUser> {
  await store.write(async (trx) => {
    if (await trx.selectFrom('users').select('id').where('name', '=', spec.name).executeTakeFirst()) throw invalidField('name', `user "${spec.name}" exists already`);
    const id = newId();
    await trx.insertInto('users').values({
      id, name: spec.name, user_group: spec.group ?? 'default', role: spec.role ?? 'user', webhook_secret: newWebhookSecret(), balance_micro: 0, used_micro: 0, created_at: now,
    }).execute();
    if (spec.credits) await topUpCredits(trx, { userId: id, keyId: null, amount: creditsToMicro(spec.credits), now });
    await recordAudit(trx, { actor, action: 'user.create', target: `user:${spec.name}`, after: { group: spec.group ?? 'default', role: spec.role ?? 'user', credits: spec.credits ?? 0 }, now });
  });
  return getUser(store.db, spec.name);
}

export type UserChange = { group?: string; role?: 'user' | 'admin'; disabled?: boolean; file_quota?: number | null; file_quota_bytes?: number | null };

/** Changes a user; disabling one stops every key of it at once (the auth check reads the user). */
export async function updateUser(store: Store, actor: Actor, name: string, change: UserChange, now: number): Promise<AdminUser> {
  await store.write(async (trx) => {
    const before = await userQuery(trx).where('users.name', '=', name).executeTakeFirst();
    if (!before) throw new ApiError('not_found', `name: no user "${name.slice(0, 80)}"`, { param: 'name' });
    if (change.disabled && before.id === actor.userId) throw invalidField('disabled', 'an admin cannot disable its own user');
    await trx.updateTable('users').set({
      ...(change.group !== undefined ? { user_group: change.group } : {}),
      ...(change.role !== undefined ? { role: change.role } : {}),
      ...(change.disabled !== undefined ? { disabled_at: change.disabled ? (before.disabled_at ?? now) : null } : {}),
      ...(change.file_quota !== undefined ? { max_files: change.file_quota } : {}),
      ...(change.file_quota_bytes !== undefined ? { max_file_bytes: change.file_quota_bytes } : {}),
    }).where('id', '=', before.id).execute();
    const after = await userQuery(trx).where('users.id', '=', before.id).executeTakeFirstOrThrow();
    await recordAudit(trx, { actor, action: 'user.update', target: `user:${name}`, before: userView(before), after: userView(after), now });
  });
  return getUser(store.db, name);
}

/** A top-up (negative takes back, never below zero): a ledger row and an audit row in one transaction; answers the new balance. */
export async function topUpUser(store: Store, actor: Actor, name: string, credits: number, note: string | undefined, now: number): Promise<{ user: string; balance: number }> {
  await store.write(async (trx) => {
    const user = await trx.selectFrom('users').select(['id', 'balance_micro']).where('name', '=', name).executeTakeFirst();
    if (!user) throw new ApiError('not_found', `name: no user "${name.slice(0, 80)}"`, { param: 'name' });
    try {
      await topUpCredits(trx, { userId: user.id, keyId: null, amount: creditsToMicro(credits), now, note });
    } catch (error) {
      if (error instanceof TopUpRefused) throw invalidField('credits', `the balance is ${microToCredits(Number(user.balance_micro))}; it cannot go below zero`);
      throw error;
    }
    await recordAudit(trx, { actor, action: 'topup', target: `user:${name}`, before: { balance: microToCredits(Number(user.balance_micro)) }, after: { credits, note: note ?? null }, now });
  });
  return { user: name, balance: (await getUser(store.db, name)).balance };
}

function keyQuery(q: Q) {
  return q
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id', 'users.name as user', 'api_keys.name', 'api_keys.key_prefix', 'api_keys.allowance_micro', 'api_keys.spent_micro', 'api_keys.unlimited',
      'api_keys.allowed_models', 'api_keys.rpm', 'api_keys.max_unfinished', 'api_keys.expires_at', 'api_keys.disabled_at', 'api_keys.created_at', 'api_keys.last_used_at',
    ]);
}

type KeyRow = Awaited<ReturnType<ReturnType<typeof keyQuery>['executeTakeFirstOrThrow']>>;

function keyView(row: KeyRow): AdminKey {
  return {
    id: row.id, user: row.user, name: row.name, prefix: row.key_prefix,
    credits: row.allowance_micro === null ? null : microToCredits(Number(row.allowance_micro) - Number(row.spent_micro)),
    unlimited: row.unlimited === 1, models: row.allowed_models ? row.allowed_models.split(',') : null, rpm: row.rpm, max_unfinished: row.max_unfinished,
    expires_at: seconds(row.expires_at), disabled: row.disabled_at !== null, created: seconds(row.created_at)!, last_used: seconds(row.last_used_at),
  };
}

/** One key as the admin API shows it, or undefined. */
export async function findAdminKey(q: Q, id: string): Promise<AdminKey | undefined> {
  const row = await keyQuery(q).where('api_keys.id', '=', id).executeTakeFirst();
  return row && keyView(row);
}

/** Keys, newest first, of one user or all. */
export async function listAdminKeys(q: Q, filter: Paging & { user?: string }): Promise<Page<AdminKey>> {
  let query = keyQuery(q).orderBy('api_keys.created_at', 'desc').orderBy('api_keys.id', 'desc').limit(filter.limit + 1);
  if (filter.user) query = query.where('users.name', '=', filter.user);
  if (filter.before) {
    const last = await q.selectFrom('api_keys').select(['created_at', 'id']).where('id', '=', filter.before).executeTakeFirst();
    if (!last) throw invalidField('before', `no key "${filter.before.slice(0, 80)}"`);
    query = query.where(olderThan('api_keys.created_at', 'api_keys.id', { time: Number(last.created_at), key: last.id }));
  }
  return toPage(await query.execute(), filter.limit, keyView, (key) => key.id);
}

export type NewAdminKey = { user: string; name?: string; credits?: number; unlimited?: boolean; models?: string[]; rpm?: number; max_unfinished?: number; expires_at?: number };

/** A key for an existing user; the secret is in the answer only. Its credits are a top-up row; audit in the same transaction. */
export async function createAdminKey(store: Store, actor: Actor, spec: NewAdminKey, now: number): Promise<AdminKey & { key: string }> {
  const key = newApiKey();
  const keyId = await store.write(async (trx) => {
    const user = await trx.selectFrom('users').select('id').where('name', '=', spec.user).executeTakeFirst();
    if (!user) throw invalidField('user', `no user "${spec.user.slice(0, 80)}"; create it with POST /admin/v1/users`);
    const created = await insertKey(trx, key, {
      user: spec.user, name: spec.name, credits: spec.credits === undefined ? undefined : creditsToMicro(spec.credits), unlimited: spec.unlimited, models: spec.models,
      rpm: spec.rpm, maxUnfinished: spec.max_unfinished, expiresAt: spec.expires_at === undefined ? undefined : spec.expires_at * 1000,
    }, now);
    await recordAudit(trx, { actor, action: 'key.create', target: `key:${created.keyId}`, after: { user: spec.user, name: spec.name ?? null, credits: spec.credits ?? null, models: spec.models ?? null }, now });
    return created.keyId;
  });
  return { ...(await findAdminKey(store.db, keyId))!, key };
}

export type KeyChange = { disabled?: boolean; name?: string; credits?: number; models?: string[] | null; rpm?: number | null; max_unfinished?: number | null; expires_at?: number | null };

/** Changes a key; `credits` adds to its allowance (a top-up row, negative takes back); `disabled: true` is key.disable. */
export async function updateAdminKey(store: Store, actor: Actor, id: string, change: KeyChange, now: number): Promise<AdminKey> {
  await store.write(async (trx) => {
    const before = await keyQuery(trx).where('api_keys.id', '=', id).executeTakeFirst();
    if (!before) throw new ApiError('not_found', `id: no key "${id.slice(0, 80)}"`, { param: 'id' });
    await trx.updateTable('api_keys').set({
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.disabled !== undefined ? { disabled_at: change.disabled ? (before.disabled_at ?? now) : null } : {}),
      ...(change.models !== undefined ? { allowed_models: change.models?.length ? change.models.join(',') : null } : {}),
      ...(change.rpm !== undefined ? { rpm: change.rpm } : {}),
      ...(change.max_unfinished !== undefined ? { max_unfinished: change.max_unfinished } : {}),
      ...(change.expires_at !== undefined ? { expires_at: change.expires_at === null ? null : change.expires_at * 1000 } : {}),
    }).where('id', '=', id).execute();
    if (change.credits) {
      const owner = await trx.selectFrom('api_keys').select('user_id').where('id', '=', id).executeTakeFirstOrThrow();
      try {
        await topUpCredits(trx, { userId: owner.user_id, keyId: id, amount: creditsToMicro(change.credits), now });
      } catch (error) {
        if (error instanceof TopUpRefused) throw invalidField('credits', error.message.replace(/^--credits: /, ''));
        throw error;
      }
    }
    const after = await keyQuery(trx).where('api_keys.id', '=', id).executeTakeFirstOrThrow();
    const action = change.disabled === true && before.disabled_at === null ? 'key.disable' : 'key.update';
    await recordAudit(trx, { actor, action, target: `key:${id}`, before: keyView(before), after: keyView(after), now });
  });
  return (await findAdminKey(store.db, id))!;
}
