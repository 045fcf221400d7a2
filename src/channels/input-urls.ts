import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

const claimsSchema = z.object({ t: z.string(), f: z.string(), e: z.number().int() });

/** Which stored input a signed URL serves. */
export type InputRef = { taskId: string; field: string };

/**
 * Signed URLs for a task's stored inputs (CONTRACT §8.3 `signed_url`): `/v1/inputs/<token>`,
 * where the token names the task, the field and an expiry, HMAC-SHA256-signed with the install's
 * key. No API key is needed to fetch one, and it serves exactly the probed bytes, nothing else.
 */
export class InputUrls {
  private readonly key: Buffer;
  private readonly publicUrl: string;

  constructor(key: Buffer, publicUrl: string) {
    this.key = key;
    this.publicUrl = publicUrl;
  }

  /** The URL of a task's input, valid until `expiresAt` (unix ms). */
  url(ref: InputRef, expiresAt: number): string {
    const claims = Buffer.from(JSON.stringify({ t: ref.taskId, f: ref.field, e: Math.ceil(expiresAt / 1000) })).toString('base64url');
    return `${this.publicUrl}/v1/inputs/${claims}.${this.sign(claims)}`;
  }

  /** The input a token names, or null when it is forged, malformed or expired. */
  verify(token: string, now: number): InputRef | null {
    const [claims, signature, extra] = token.split('.');
    if (!claims || !signature || extra !== undefined) return null;
    const expected = Buffer.from(this.sign(claims), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let parsed;
    try {
      parsed = claimsSchema.safeParse(JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')));
    } catch {
      return null;
    }
    if (!parsed.success || parsed.data.e * 1000 < now) return null;
    return { taskId: parsed.data.t, field: parsed.data.f };
  }

  private sign(claims: string): string {
    return createHmac('sha256', this.key).update(claims).digest('base64url');
  }
}
