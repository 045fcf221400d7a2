import type { Db } from '../store/db.ts';
import { hashApiKey, keyPrefix, newId, newWebhookSecret } from './secrets.ts';

/** The caller an API key identifies, as the request handlers see it. */
export type Caller = {
  keyId: string;
  userId: string;
  userGroup: string;
  /** null = every model. */
  allowedModels: ReadonlySet<string> | null;
};

/** The enabled key with this secret, or null. */
export async function findCallerByKey(db: Db, key: string): Promise<Caller | null> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select(['api_keys.id as key_id', 'users.id as user_id', 'users.user_group', 'api_keys.allowed_models'])
    .where('api_keys.key_hash', '=', hashApiKey(key))
    .where('api_keys.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  return {
    keyId: row.key_id,
    userId: row.user_id,
    userGroup: row.user_group,
    allowedModels: row.allowed_models ? new Set(row.allowed_models.split(',')) : null,
  };
}

export type NewKey = { user: string; group?: string; creditsMicro?: number; models?: string[]; webhookSecret?: string };

/**
 * Stores a key (hash only) for the named user, creating the user on first use; a new user's
 * starting credits are a top-up ledger row. Returns the user's webhook secret.
 */
export async function createKey(db: Db, key: string, spec: NewKey, now: number): Promise<{ userId: string; webhookSecret: string }> {
  return db.transaction().execute(async (trx) => {
    let user = await trx.selectFrom('users').select(['id', 'webhook_secret']).where('name', '=', spec.user).executeTakeFirst();
    if (!user) {
      user = { id: newId(), webhook_secret: spec.webhookSecret ?? newWebhookSecret() };
      const balance = spec.creditsMicro ?? 0;
      await trx
        .insertInto('users')
        .values({ ...user, name: spec.user, user_group: spec.group ?? 'default', balance_micro: balance, created_at: now })
        .execute();
      if (balance > 0) {
        await trx
          .insertInto('ledger_entries')
          .values({ id: newId(), user_id: user.id, key_id: null, task_id: null, kind: 'topup', amount_micro: balance, created_at: now })
          .execute();
      }
    }
    await trx
      .insertInto('api_keys')
      .values({
        id: newId(),
        user_id: user.id,
        key_hash: hashApiKey(key),
        key_prefix: keyPrefix(key),
        allowed_models: spec.models?.length ? spec.models.join(',') : null,
        disabled_at: null,
        created_at: now,
      })
      .execute();
    return { userId: user.id, webhookSecret: user.webhook_secret };
  });
}

export async function keyExists(db: Db, key: string): Promise<boolean> {
  const row = await db.selectFrom('api_keys').select('id').where('key_hash', '=', hashApiKey(key)).executeTakeFirst();
  return row !== undefined;
}

export async function countKeys(db: Db): Promise<number> {
  const row = await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
