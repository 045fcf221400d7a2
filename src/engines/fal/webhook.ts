import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { z } from 'zod';

/** fal signs with ED25519 keys published as a JWKS (UPSTREAMS.md §8.2); ⚠ the URL is a setting. */
export const FAL_JWKS_URL = 'https://rest.alpha.fal.ai/.well-known/jwks.json';
const JWKS_TTL_MS = 24 * 3_600_000;
const REPLAY_WINDOW_S = 300;

const jwksSchema = z.object({ keys: z.array(z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string() }).loose()) });

/**
 * Checks a fal webhook: ED25519 over "{request_id}\n{user_id}\n{timestamp}\n{sha256 hex of the
 * raw body}" with any key of fal's JWKS, a timestamp within five minutes, and the operator's own
 * fal account as the user (fal signs every account's webhooks with the same keys: CONTRACT §8.12).
 */
export class FalWebhookVerifier {
  private readonly fetchJwks: () => Promise<unknown>;
  private readonly userId: string;
  private keys: { at: number; keys: KeyObject[] } | null = null;

  constructor(fetchJwks: () => Promise<unknown>, userId: string) {
    this.fetchJwks = fetchJwks;
    this.userId = userId;
  }

  /** The request id the webhook is about, or null when it is not fal's. */
  async verify(headers: Record<string, string | string[] | undefined>, rawBody: Buffer, nowMs = Date.now()): Promise<string | null> {
    const header = (name: string) => (typeof headers[name] === 'string' ? (headers[name] as string) : '');
    const requestId = header('x-fal-webhook-request-id');
    const userId = header('x-fal-webhook-user-id');
    const timestamp = header('x-fal-webhook-timestamp');
    const signature = header('x-fal-webhook-signature');
    if (!requestId || userId !== this.userId || !/^\d+$/.test(timestamp) || !/^[0-9a-f]+$/i.test(signature)) return null;
    if (Math.abs(nowMs / 1000 - Number(timestamp)) > REPLAY_WINDOW_S) return null;
    const message = Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${createHash('sha256').update(rawBody).digest('hex')}`, 'utf8');
    const signatureBytes = Buffer.from(signature, 'hex');
    for (const key of await this.publicKeys(nowMs)) {
      if (verify(null, message, key, signatureBytes)) return requestId;
    }
    return null;
  }

  private async publicKeys(nowMs: number): Promise<KeyObject[]> {
    if (this.keys && nowMs - this.keys.at < JWKS_TTL_MS) return this.keys.keys;
    const jwks = jwksSchema.parse(await this.fetchJwks());
    const keys = jwks.keys.map((k) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.x }, format: 'jwk' }));
    this.keys = { at: nowMs, keys };
    return keys;
  }
}
