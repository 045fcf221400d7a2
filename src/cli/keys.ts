import { type Command, InvalidArgumentError } from 'commander';
import { createKey, disableKey, findKey, findUserId, KeySpecError, type KeyListing, listKeys, rotateWebhookSecret, webhookSecretOf } from '../auth/accounts.ts';
import { newAdminKey, newApiKey } from '../auth/secrets.ts';
import { TopUpRefused, topUpCredits } from '../billing/ledger.ts';
import { creditsToMicro, microToCredits } from '../billing/money.ts';
import { MODELS } from '../contract/models/index.ts';
import type { Store } from '../store/db.ts';
import { settingsOrExit } from './settings.ts';
import { openMigratedStore } from './startup-errors.ts';
import { formatTable } from './table.ts';
import { parseBytes } from '../util/bytes.ts';

/** A mistake in the command line; printed as one line, exit code 2. */
class UsageError extends Error {}

/** `vidgate keys …`: create, list, top up and disable API keys, straight on the store. */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('manage API keys and credits (works on the store directly)');

  keys
    .command('create')
    .description('create a key (and its user on first use); prints the key once and the user\'s webhook secret')
    .requiredOption('--user <name>', 'the user the key belongs to')
    .option('--group <group>', 'the user\'s group, for a new user', undefined)
    .option('--credits <n>', 'credits that come with the key: its own allowance, added to the user\'s balance', parseCredits)
    .option('--unlimited', 'never refuse this key for credits (its spending is still recorded)')
    .option('--models <ids>', 'comma-separated models the key may use (default: all)', parseModels)
    .option('--rpm <n>', 'task creations per minute (default VIDGATE_RATE_LIMIT_RPM)', parseCount)
    .option('--max-unfinished <n>', 'unfinished tasks at once (default VIDGATE_MAX_UNFINISHED_TASKS)', parseCount)
    .option('--admin', 'an admin key (sk-adm-…): its user becomes an admin, and it also calls /admin/v1')
    .option('--json', 'print JSON')
    .action((o) =>
      withStore(async (store) => {
        const key = o.admin ? newAdminKey() : newApiKey();
        const created = await createKey(store.db, key, {
          user: o.user, group: o.group, credits: o.credits, unlimited: o.unlimited, models: o.models, rpm: o.rpm, maxUnfinished: o.maxUnfinished,
          role: o.admin ? 'admin' : undefined,
        }, Date.now());
        if (o.json) return print({ key, id: created.keyId, user: o.user, group: created.userGroup, webhook_secret: created.webhookSecret });
        process.stdout.write(
          `Created key ${created.keyId} for user ${o.user} (group ${created.userGroup}). Shown once, store it now:\n  ${key}\n` +
            `The user's webhook signing secret (verifies callbacks):\n  ${created.webhookSecret}\n`,
        );
      }),
    );

  keys
    .command('list')
    .description('list keys with their limits and credits (never their secrets)')
    .option('--json', 'print JSON')
    .action((o) => withStore(async (store) => (o.json ? print((await listKeys(store.db)).map(keyJson)) : process.stdout.write(keyTable(await listKeys(store.db))))));

  keys
    .command('topup')
    .description("add credits to a key's user (and to the key's own allowance, if it has one); negative takes them back")
    .argument('[key]', 'the key id (from keys list) or the key itself')
    .option('--user <name>', "top up this user's balance instead of naming a key")
    .requiredOption('--credits <n>', 'credits to add', parseCredits)
    .action((ref: string | undefined, o) =>
      withStore(async (store) => {
        if (!ref === !o.user) throw new UsageError('name either a key or --user, not both');
        const target = ref ? await findKey(store.db, ref) : await userTarget(store, o.user);
        if (!target) throw new UsageError(ref ? `no key ${ref}` : `no user ${o.user}`);
        await store.write((trx) => topUpCredits(trx, { userId: target.userId, keyId: target.keyId, amount: o.credits, now: Date.now() }));
        process.stdout.write(o.credits < 0 ? `took back ${microToCredits(-o.credits)} credits\n` : `added ${microToCredits(o.credits)} credits\n`);
      }),
    );

  keys
    .command('file-quota')
    .description('set how many live uploaded files, and how many bytes of them, a user may keep (defaults VIDGATE_FILE_QUOTA, VIDGATE_FILE_QUOTA_BYTES)')
    .requiredOption('--user <name>', 'the user')
    .option('--files <n>', 'a whole number, or "default" to follow VIDGATE_FILE_QUOTA again', (v) => (v === 'default' ? v : parseCount(v)))
    .option('--bytes <size>', 'a size such as 500MiB or 20GiB, or "default" to follow VIDGATE_FILE_QUOTA_BYTES again', (v) => (v === 'default' ? v : parseSize(v)))
    .option('--reason <text>', 'why, shown to the user by GET /api/v1/files/quota')
    .action((o) =>
      withStore(async (store) => {
        if (o.files === undefined && o.bytes === undefined) throw new UsageError('say --files, --bytes or both');
        const change: { max_files?: number | null; max_file_bytes?: number | null; max_files_reason: string | null } = { max_files_reason: o.reason ?? null };
        if (o.files !== undefined) change.max_files = o.files === 'default' ? null : o.files;
        if (o.bytes !== undefined) change.max_file_bytes = o.bytes === 'default' ? null : o.bytes;
        const updated = await store.db.updateTable('users').set(change).where('name', '=', o.user).executeTakeFirst();
        if (updated.numUpdatedRows !== 1n) throw new UsageError(`no user ${o.user}`);
        const files = change.max_files === undefined ? '' : change.max_files === null ? ' the default number of files' : ` ${change.max_files} files`;
        const bytes = change.max_file_bytes === undefined ? '' : change.max_file_bytes === null ? ' the default bytes' : ` ${change.max_file_bytes} bytes`;
        process.stdout.write(`${o.user} may keep${files}${files && bytes ? ' and' : ''}${bytes}\n`);
      }),
    );

  keys
    .command('webhook-secret')
    .description("print a user's webhook signing secret (callbacks are signed with it), or --rotate it to a new one")
    .requiredOption('--user <name>', 'the user')
    .option('--rotate', 'replace the secret: callbacks from now on, retries included, are signed with the new one')
    .option('--json', 'print JSON')
    .action((o) =>
      withStore(async (store) => {
        const secret = o.rotate ? await rotateWebhookSecret(store.db, o.user) : await webhookSecretOf(store.db, o.user);
        if (secret === null) throw new UsageError(`no user ${o.user}`);
        if (o.json) return print({ user: o.user, webhook_secret: secret, rotated: o.rotate === true });
        process.stdout.write(o.rotate ? `New webhook signing secret of ${o.user} (the old one no longer verifies):\n  ${secret}\n` : `${secret}\n`);
      }),
    );

  keys
    .command('disable')
    .description('disable a key for good (it stops working within VIDGATE_AUTH_CACHE_TTL)')
    .argument('<key>', 'the key id (from keys list) or the key itself')
    .action((ref: string) =>
      withStore(async (store) => {
        const target = await findKey(store.db, ref);
        if (!target) throw new UsageError(`no key ${ref}`);
        process.stdout.write((await disableKey(store.db, target.keyId, Date.now())) ? `disabled ${target.keyId}\n` : `${target.keyId} was already disabled\n`);
      }),
    );
}

async function userTarget(store: Store, name: string): Promise<{ userId: string; keyId: null } | null> {
  const userId = await findUserId(store.db, name);
  return userId ? { userId, keyId: null } : null;
}

async function withStore(work: (store: Store) => Promise<unknown>): Promise<void> {
  const { store } = await openMigratedStore(settingsOrExit());
  try {
    await work(store);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof KeySpecError || error instanceof TopUpRefused)) throw error;
    process.stderr.write(`vidgate: ${error.message}\n`);
    process.exitCode = 2;
  } finally {
    await store.close();
  }
}

function parseCredits(value: string): number {
  const credits = Number(value);
  if (value.trim() === '' || !Number.isFinite(credits)) throw new InvalidArgumentError(`"${value}" is not a number of credits`);
  return creditsToMicro(credits);
}

function parseSize(value: string): number {
  const bytes = parseBytes(value);
  if (bytes === null) throw new InvalidArgumentError('must be a size such as 500MiB, 20GiB or 1048576');
  return bytes;
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a whole number (0 = no limit)`);
  return Number(value);
}

function parseModels(value: string): string[] {
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !(id in MODELS));
  if (unknown.length) throw new InvalidArgumentError(`unknown model ${unknown.join(', ')}; known: ${Object.keys(MODELS).join(', ')}`);
  return ids;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A key as --json prints it: the API's words (snake_case, decimal credits, Unix seconds). */
function keyJson(k: KeyListing) {
  return {
    id: k.id, key_prefix: k.prefix, user: k.user, group: k.group, status: k.disabled ? 'disabled' : 'active', models: k.models,
    unlimited_credits: k.unlimited, allowance_credits: k.allowanceMicro === null ? null : microToCredits(k.allowanceMicro),
    remaining_credits: k.allowanceMicro === null ? null : microToCredits(k.allowanceMicro - k.spentMicro), used_credits: microToCredits(k.usedMicro),
    user_balance_credits: microToCredits(k.userBalanceMicro), unfinished_tasks: k.unfinished, rpm: k.rpm, max_unfinished_tasks: k.maxUnfinished,
    created: Math.floor(k.createdAt / 1000),
  };
}

function keyTable(keys: KeyListing[]): string {
  const credits = (micro: number) => String(microToCredits(micro));
  const rows = keys.map((k) => [
    k.id, k.prefix, k.user, k.group, k.disabled ? 'disabled' : 'active',
    k.unlimited ? 'unlimited' : k.allowanceMicro === null ? 'user balance' : `${credits(k.allowanceMicro - k.spentMicro)} of ${credits(k.allowanceMicro)}`,
    credits(k.usedMicro), credits(k.userBalanceMicro), String(k.unfinished), k.rpm === null ? 'default' : String(k.rpm),
    k.maxUnfinished === null ? 'default' : String(k.maxUnfinished), k.models?.join(',') ?? 'all',
  ]);
  return formatTable(['ID', 'KEY', 'USER', 'GROUP', 'STATUS', 'KEY CREDITS', 'USED', 'USER BALANCE', 'UNFINISHED', 'RPM', 'MAX UNFINISHED', 'MODELS'], rows);
}
