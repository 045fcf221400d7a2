import type { Caller } from './accounts.ts';
import { insertKey } from './accounts.ts';
import { newApiKey } from './secrets.ts';
import { findAdminKey, listAdminKeys, type AdminKey, type Page, type Paging } from '../admin/accounts.ts';
import { creditsToMicro, microToCredits } from '../billing/money.ts';
import { ApiError, invalidField } from '../contract/errors.ts';
import type { Store } from '../store/db.ts';

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
    if (spec.credits !== undefined) {
      const micro = creditsToMicro(spec.credits);
      const own = await trx.selectFrom('api_keys').select(['allowance_micro', 'spent_micro']).where('id', '=', caller.keyId).executeTakeFirstOrThrow();
      if (own.allowance_micro !== null) {
        // Out of this key's own allowance: the two together never hold more than it did.
        const moved = await trx.updateTable('api_keys').set((eb) => ({ allowance_micro: eb('allowance_micro', '-', micro) }))
          .where('id', '=', caller.keyId).where((eb) => eb(eb('allowance_micro', '-', eb.ref('spent_micro')), '>=', micro)).executeTakeFirst();
        if (moved.numUpdatedRows !== 1n) throw invalidField('credits', `this key has ${microToCredits(Number(own.allowance_micro) - Number(own.spent_micro))} credits of its own left to give`);
      } else {
        const user = await trx.selectFrom('users').select('balance_micro').where('id', '=', caller.userId).executeTakeFirstOrThrow();
        if (!caller.unlimited && Number(user.balance_micro) < micro) throw invalidField('credits', `the user has ${microToCredits(Number(user.balance_micro))} credits left`);
      }
    }
    const created = await insertKey(trx, key, {
      user: caller.userName, name: spec.name, models, rpm: spec.rpm, expiresAt: spec.expires_at === undefined ? undefined : spec.expires_at * 1000,
    }, now);
    // The allowance is set, not topped up: the user's balance already holds these credits.
    if (spec.credits !== undefined) await trx.updateTable('api_keys').set({ allowance_micro: creditsToMicro(spec.credits) }).where('id', '=', created.keyId).execute();
    return created.keyId;
  });
  return { ...(await findAdminKey(store.db, keyId))!, key };
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
