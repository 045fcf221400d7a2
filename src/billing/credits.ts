import type { Caller } from '../auth/accounts.ts';
import type { Db } from '../store/db.ts';
import { microToCredits } from './money.ts';

/** `GET /v1/credits` data (CONTRACT §4): the key's allowance and the user's balance, in credits. */
export type CreditsView = {
  token: { remaining_credits: number; used_credits: number; unlimited_credits: boolean };
  user: { remaining_credits: number; used_credits: number };
};

/** What the caller's key and user have left and have spent; a key without its own allowance shows the user's balance. */
export async function readCredits(db: Db, caller: Caller): Promise<CreditsView> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select(['users.balance_micro', 'users.used_micro as user_used', 'api_keys.allowance_micro', 'api_keys.spent_micro', 'api_keys.used_micro as key_used', 'api_keys.unlimited'])
    .where('api_keys.id', '=', caller.keyId)
    .executeTakeFirstOrThrow();
  const userRemaining = Number(row.balance_micro);
  const keyRemaining = row.allowance_micro === null || row.unlimited === 1 ? userRemaining : Number(row.allowance_micro) - Number(row.spent_micro);
  return {
    token: { remaining_credits: microToCredits(keyRemaining), used_credits: microToCredits(Number(row.key_used)), unlimited_credits: row.unlimited === 1 },
    user: { remaining_credits: microToCredits(userRemaining), used_credits: microToCredits(Number(row.user_used)) },
  };
}
