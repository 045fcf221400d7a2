import type { Caller } from './accounts.ts';
import { insertKey } from './accounts.ts';
import { newApiKey } from './secrets.ts';
import { findAdminKey, listAdminKeys, type AdminKey, type Page, type Paging } from '../admin/accounts.ts';
import { creditsToMicro, microToCredits } from '../billing/money.ts';
import { ApiError, invalidField } from '../contract/errors.ts';
import type { Store } from '../store/db.ts';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.ts';
import { moveAllowance } from '../billing/ledger.ts';

/**
 * A user's own keys (CONTRACT §10.3). A new key's allowance comes out of the creating key's (or,
 * for a key without one, must fit the user's balance): creating a key never adds credits. Its
 * models are within the creating key's.
 */
export type NewOwnKey = { name?: string; credits?: number; models?: string[]; rpm?: number; expires_at?: number };

export async function listOwnKeys(store: Store, caller: Caller, paging: Paging): Promise<Page<AdminKey>> {
  return listAdminKeys(store.db, { ...paging, user: caller.userName });
}

export async function createOwnKey(store: Store, caller: Caller, spec: NewOwnKey, now: number): Promise<AdminKey & { key: string }> {
  if (spec.models && caller.allowedModels) {
    const beyond = spec.models.filter((model) => !caller.allowedModels!.has(model));
    if (beyond.length) throw invalidField('models', `this key may not grant ${beyond.join(', ')}: a new key's models are within its own`);
  }
  const models = spec.models ?? (caller.allowedModels ? [...caller.allowedModels] : undefined);
  const key = newApiKey();
  const keyId = await store.write(async (trx) => {
    const created = await insertKey(trx, key, {
      user: caller.userName, name: spec.name, models, rpm: spec.rpm, expiresAt: spec.expires_at === undefined ? undefined : spec.expires_at * 1000,
    }, now);
    if (spec.credits !== undefined) await giveAllowance(trx, caller, created.keyId, creditsToMicro(spec.credits), now);
    return created.keyId;
  });
  return { ...(await findAdminKey(store.db, keyId))!, key };
}

/** The new key's allowance, out of the creating key's own (or within the user's balance when it has none): never new credits. */
async function giveAllowance(trx: Transaction<Database>, caller: Caller, keyId: string, micro: number, now: number): Promise<void> {
  const own = await trx.selectFrom('api_keys').select(['allowance_micro', 'spent_micro']).where('id', '=', caller.keyId).executeTakeFirstOrThrow();
  if (own.allowance_micro === null && !caller.unlimited) {
    const user = await trx.selectFrom('users').select('balance_micro').where('id', '=', caller.userId).executeTakeFirstOrThrow();
    if (Number(user.balance_micro) < micro) throw invalidField('credits', `the user has ${microToCredits(Number(user.balance_micro))} credits left`);
  }
  if (!(await moveAllowance(trx, { userId: caller.userId, fromKeyId: caller.keyId, toKeyId: keyId, amount: micro, now }))) {
    throw invalidField('credits', `this key has ${microToCredits(Number(own.allowance_micro) - Number(own.spent_micro))} credits of its own left to give`);
  }
}

/** Disables one of the user's keys; a key cannot disable itself. */
export async function deleteOwnKey(store: Store, caller: Caller, id: string, now: number): Promise<{ id: string; disabled: true }> {
  if (id === caller.keyId) throw invalidField('id', 'a key cannot delete itself; use another key of this user');
  const done = await store.db.updateTable('api_keys').set({ disabled_at: now }).where('id', '=', id).where('user_id', '=', caller.userId).where('disabled_at', 'is', null).executeTakeFirst();
  if (done.numUpdatedRows !== 1n) {
    const exists = await store.db.selectFrom('api_keys').select('id').where('id', '=', id).where('user_id', '=', caller.userId).executeTakeFirst();
    if (!exists) throw new ApiError('not_found', `id: no key "${id.slice(0, 80)}" of this user`, { param: 'id' });
  }
  return { id, disabled: true };
}
