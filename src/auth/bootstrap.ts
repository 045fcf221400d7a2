import { creditsToMicro } from '../billing/money.ts';
import type { Settings } from '../config.ts';
import type { Db } from '../store/db.ts';
import { countKeys, createKey, keyExists } from './accounts.ts';
import { newApiKey } from './secrets.ts';

export type BootstrapOutcome = { created: false } | { created: true; key: string; generated: boolean; webhookSecret: string };

/**
 * Makes sure the operator can call the API: the configured bootstrap key exists, or, in an
 * empty store without one, a new key is made (the caller prints it once).
 */
export async function ensureBootstrapKey(db: Db, settings: Settings, now: number): Promise<BootstrapOutcome> {
  const configured = settings.bootstrap_key;
  if (configured ? await keyExists(db, configured) : (await countKeys(db)) > 0) return { created: false };
  const key = configured ?? newApiKey();
  const { webhookSecret } = await createKey(
    db,
    key,
    {
      user: 'default',
      group: 'default',
      userCredits: creditsToMicro(settings.bootstrap_credits),
      webhookSecret: settings.bootstrap_webhook_secret,
    },
    now,
  );
  return { created: true, key, generated: !configured, webhookSecret };
}
