import { creditsToMicro } from '../billing/money.ts';
import type { Settings } from '../config.ts';
import type { Db } from '../store/db.ts';
import { lockForSetup } from '../store/dialect.ts';
import { countKeys, insertKey, keyExists, ownerOfKey } from './accounts.ts';
import { newAdminKey, newApiKey } from './secrets.ts';

export type BootstrapOutcome = (
  /** `ignored` names a setting that had no effect, and why. */
  | { created: false; ignored?: string }
  | { created: true; key: string; generated: boolean; webhookSecret: string; secretConfigured: boolean }
) & {
  /** An admin key generated for an empty store, printed once (CONTRACT §10.1). */
  adminKey?: string;
};

/**
 * Makes sure the operator can call the API: the configured bootstrap key exists, or, in an
 * empty store without one, a new key is made (the caller prints it once).
 */
export async function ensureBootstrapKey(db: Db, settings: Settings, now: number): Promise<BootstrapOutcome> {
  const configured = settings.bootstrap_key;
  const present = (q: Db) => (configured ? keyExists(q, configured) : countKeys(q).then((n) => n > 0));
  if (await present(db)) return { created: false, ignored: await ignoredWebhookSecret(db, settings) };
  // Processes starting together on one new database: the first makes the key, the others see it.
  return db.transaction().execute(async (trx) => {
    await lockForSetup(trx, 'vidgate bootstrap key');
    if (await present(trx)) return { created: false };
    const emptyStore = (await countKeys(trx)) === 0;
    const key = configured ?? newApiKey();
    const spec = { user: 'default', group: 'default', userCredits: creditsToMicro(settings.bootstrap_credits), webhookSecret: settings.bootstrap_webhook_secret };
    const { webhookSecret } = await insertKey(trx, key, spec, now);
    // An empty store with no admin key configured gets one too, shown once next to the API key.
    const adminKey = emptyStore && !settings.bootstrap_admin_key ? newAdminKey() : undefined;
    if (adminKey) await insertKey(trx, adminKey, { user: 'admin', group: 'admin', role: 'admin' }, now);
    return { created: true, key, generated: !configured, webhookSecret, secretConfigured: settings.bootstrap_webhook_secret !== undefined, adminKey };
  });
}

/** Makes sure VIDGATE_BOOTSTRAP_ADMIN_KEY exists, as a key of the admin user `admin`. */
export async function ensureBootstrapAdminKey(db: Db, settings: Settings, now: number): Promise<boolean> {
  const configured = settings.bootstrap_admin_key;
  if (!configured || (await keyExists(db, configured))) return false;
  return db.transaction().execute(async (trx) => {
    await lockForSetup(trx, 'vidgate bootstrap admin key');
    if (await keyExists(trx, configured)) return false;
    await insertKey(trx, configured, { user: 'admin', group: 'admin', role: 'admin' }, now);
    return true;
  });
}

/** VIDGATE_BOOTSTRAP_WEBHOOK_SECRET applies only when the bootstrap key's user is made: say so when it differs from the stored one. */
async function ignoredWebhookSecret(db: Db, settings: Settings): Promise<string | undefined> {
  const wanted = settings.bootstrap_webhook_secret;
  if (!wanted || !settings.bootstrap_key) return undefined;
  const owner = await ownerOfKey(db, settings.bootstrap_key);
  if (!owner || owner.webhookSecret === wanted) return undefined;
  return `VIDGATE_BOOTSTRAP_WEBHOOK_SECRET is ignored: it applies only when the bootstrap key's user is created, and user ${owner.name} ` +
    `already has another secret (see it with \`vidgate keys webhook-secret --user ${owner.name}\`, or --rotate it)`;
}
