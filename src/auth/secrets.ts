import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { randomChars } from '../contract/ids.ts';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const API_KEY_PATTERN = /^sk-evo-[A-Za-z0-9_-]{32,}$/;

/** A new API key: `sk-evo-` + 40 random letters and digits. */
export function newApiKey(): string {
  return `sk-evo-${randomChars(40, KEY_ALPHABET)}`;
}

export const ADMIN_KEY_PATTERN = /^sk-adm-[A-Za-z0-9]{32,}$/;

/** A new admin key: `sk-adm-` + 40 random letters and digits (CONTRACT §10.1). */
export function newAdminKey(): string {
  return `sk-adm-${randomChars(40, KEY_ALPHABET)}`;
}

/** Keys are long and random, so one SHA-256 is enough to store them safely. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What `keys list` may show of a key: its start only. */
export function keyPrefix(key: string): string {
  return `${key.slice(0, 11)}…`;
}

/** A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export const newId = (): string => randomUUID();
