import { topUpCredits } from '../billing/ledger.ts';
import type { Transaction } from 'kysely';
import type { Db } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import { hashApiKey, keyPrefix, newId, newWebhookSecret } from './secrets.ts';

/** The caller an API key identifies, as the request handlers see it. */
export type Caller = {
  keyId: string;
  userId: string;
  userGroup: string;
  /** null = every model. */
  allowedModels: ReadonlySet<string> | null;
  /** Never refused for credits. */
  unlimited: boolean;
  /** Task creations per minute and unfinished tasks at once; null = the settings' defaults. */
  rpm: number | null;
  maxUnfinished: number | null;
  /** `admin` keys also call /admin/v1 (CONTRACT §10.1). */
  role: 'user' | 'admin';
  userName: string;
};

/** The key with this secret when it is enabled, not expired and its user not disabled; else null. */
export async function findCallerByKey(db: Db, key: string, now = Date.now()): Promise<Caller | null> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id as key_id', 'users.id as user_id', 'users.name as user_name', 'users.user_group', 'users.role', 'api_keys.allowed_models', 'api_keys.unlimited',
      'api_keys.rpm', 'api_keys.max_unfinished',
    ])
    .where('api_keys.key_hash', '=', hashApiKey(key))
    .where('api_keys.disabled_at', 'is', null)
    .where('users.disabled_at', 'is', null)
    .where((eb) => eb.or([eb('api_keys.expires_at', 'is', null), eb('api_keys.expires_at', '>', now)]))
    .executeTakeFirst();
  if (!row) return null;
  return {
    keyId: row.key_id,
    userId: row.user_id,
    userGroup: row.user_group,
    allowedModels: row.allowed_models ? new Set(row.allowed_models.split(',')) : null,
    unlimited: row.unlimited === 1,
    rpm: row.rpm,
    maxUnfinished: row.max_unfinished,
    role: row.role === 'admin' ? 'admin' : 'user',
    userName: row.user_name,
  };
}

export type NewKey = {
  user: string;
  /** The user's group, when the user is new (default `default`). */
  group?: string;
  /** Micro-credits that come with the key: its own allowance, added to the user's balance too. */
  credits?: number;
  /** Never refused for credits (no allowance of its own). */
  unlimited?: boolean;
  /** Micro-credits added to the user's balance only (the bootstrap key's starting credits). */
  userCredits?: number;
  models?: string[];
  rpm?: number;
  maxUnfinished?: number;
  /** The user's webhook secret, when the user is new (default random). */
  webhookSecret?: string;
  /** The user's role, when the user is new; an existing user keeps its own. */
  role?: 'user' | 'admin';
  /** What the key is for. */
  name?: string;
  /** Unix ms after which the key is refused. */
  expiresAt?: number;
};

export type CreatedKey = { keyId: string; userId: string; userGroup: string; webhookSecret: string };

/** A key spec that can't be stored; the message names the option. */
export class KeySpecError extends Error {}

/**
 * Stores a key (its hash only) for the named user, creating the user on first use. The key's
 * credits are a top-up ledger row, written in the same transaction.
 */
export async function createKey(db: Db, key: string, spec: NewKey, now: number): Promise<CreatedKey> {
  return db.transaction().execute((trx) => insertKey(trx, key, spec, now));
}

/** createKey inside the caller's transaction. */
export async function insertKey(trx: Transaction<Database>, key: string, spec: NewKey, now: number): Promise<CreatedKey> {
  if (spec.unlimited && spec.credits !== undefined) throw new KeySpecError('--credits and --unlimited exclude each other');
  let user = await trx.selectFrom('users').select(['id', 'webhook_secret', 'user_group']).where('name', '=', spec.user).executeTakeFirst();
  if (user && spec.group && spec.group !== user.user_group) {
    throw new KeySpecError(`--group: user ${spec.user} is in group ${user.user_group}; a user has one group`);
  }
  // An admin key makes its user an admin (keys create --admin); a plain key never demotes one.
  if (user && spec.role === 'admin') await trx.updateTable('users').set({ role: 'admin' }).where('id', '=', user.id).execute();
  if (!user) {
    user = { id: newId(), webhook_secret: spec.webhookSecret ?? newWebhookSecret(), user_group: spec.group ?? 'default' };
    await trx.insertInto('users').values({ ...user, name: spec.user, balance_micro: 0, used_micro: 0, created_at: now, role: spec.role ?? 'user' }).execute();
  }
  const keyId = newId();
  await trx
    .insertInto('api_keys')
    .values({
      id: keyId,
      user_id: user.id,
      key_hash: hashApiKey(key),
      key_prefix: keyPrefix(key),
      allowed_models: spec.models?.length ? spec.models.join(',') : null,
      disabled_at: null,
      created_at: now,
      allowance_micro: spec.credits === undefined ? null : 0,
      spent_micro: 0,
      used_micro: 0,
      unlimited: spec.unlimited ? 1 : 0,
      unfinished: 0,
      rpm: spec.rpm ?? null,
      max_unfinished: spec.maxUnfinished ?? null,
      name: spec.name ?? null,
      expires_at: spec.expiresAt ?? null,
    })
    .execute();
  if (spec.credits) await topUpCredits(trx, { userId: user.id, keyId, amount: spec.credits, now });
  if (spec.userCredits) await topUpCredits(trx, { userId: user.id, keyId: null, amount: spec.userCredits, now });
  return { keyId, userId: user.id, userGroup: user.user_group, webhookSecret: user.webhook_secret };
}

/** A user's webhook signing secret; null when there is no such user. */
export async function webhookSecretOf(db: Db, user: string): Promise<string | null> {
  const row = await db.selectFrom('users').select('webhook_secret').where('name', '=', user).executeTakeFirst();
  return row?.webhook_secret ?? null;
}

/** Gives a user a new webhook signing secret (callbacks read it when they are sent); null when there is no such user. */
export async function rotateWebhookSecret(db: Db, user: string): Promise<string | null> {
  const secret = newWebhookSecret();
  const updated = await db.updateTable('users').set({ webhook_secret: secret }).where('name', '=', user).executeTakeFirst();
  return updated.numUpdatedRows === 1n ? secret : null;
}

/** The name and webhook secret of the user a key belongs to. */
export async function ownerOfKey(db: Db, key: string): Promise<{ name: string; webhookSecret: string } | undefined> {
  const row = await db.selectFrom('api_keys').innerJoin('users', 'users.id', 'api_keys.user_id').select(['users.name', 'users.webhook_secret'])
    .where('api_keys.key_hash', '=', hashApiKey(key)).executeTakeFirst();
  return row && { name: row.name, webhookSecret: row.webhook_secret };
}

export async function keyExists(db: Db, key: string): Promise<boolean> {
  const row = await db.selectFrom('api_keys').select('id').where('key_hash', '=', hashApiKey(key)).executeTakeFirst();
  return row !== undefined;
}

export async function countKeys(db: Db): Promise<number> {
  const row = await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A key as `keys list` shows it (never its secret). */
export type KeyListing = {
  id: string;
  prefix: string;
  user: string;
  group: string;
  models: string[] | null;
  unlimited: boolean;
  allowanceMicro: number | null;
  spentMicro: number;
  usedMicro: number;
  userBalanceMicro: number;
  unfinished: number;
  rpm: number | null;
  maxUnfinished: number | null;
  disabled: boolean;
  createdAt: number;
};

export async function listKeys(db: Db): Promise<KeyListing[]> {
  const rows = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id', 'api_keys.key_prefix', 'users.name', 'users.user_group', 'api_keys.allowed_models', 'api_keys.unlimited',
      'api_keys.allowance_micro', 'api_keys.spent_micro', 'api_keys.used_micro', 'users.balance_micro', 'api_keys.unfinished',
      'api_keys.rpm', 'api_keys.max_unfinished', 'api_keys.disabled_at', 'api_keys.created_at',
    ])
    .orderBy('api_keys.created_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    prefix: r.key_prefix,
    user: r.name,
    group: r.user_group,
    models: r.allowed_models ? r.allowed_models.split(',') : null,
    unlimited: r.unlimited === 1,
    allowanceMicro: r.allowance_micro === null ? null : Number(r.allowance_micro),
    spentMicro: Number(r.spent_micro),
    usedMicro: Number(r.used_micro),
    userBalanceMicro: Number(r.balance_micro),
    unfinished: r.unfinished,
    rpm: r.rpm,
    maxUnfinished: r.max_unfinished,
    disabled: r.disabled_at !== null,
    createdAt: Number(r.created_at),
  }));
}

/** The key named by its id or its secret, with its user; null when there is none. */
export async function findKey(db: Db, ref: string): Promise<{ keyId: string; userId: string } | null> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'user_id'])
    .where((eb) => eb.or([eb('id', '=', ref), eb('key_hash', '=', hashApiKey(ref))]))
    .executeTakeFirst();
  return row ? { keyId: row.id, userId: row.user_id } : null;
}

export async function findUserId(db: Db, name: string): Promise<string | null> {
  return (await db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst())?.id ?? null;
}

/** Disables a key for good; false when it was already disabled. */
export async function disableKey(db: Db, keyId: string, now: number): Promise<boolean> {
  const result = await db.updateTable('api_keys').set({ disabled_at: now }).where('id', '=', keyId).where('disabled_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
