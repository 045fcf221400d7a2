import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { OutboundRefusedError, type OutboundGuard } from './outbound-guard.ts';

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A download that failed for a reason the caller can show to the user. */
export class DownloadError extends Error {}

export class TooLargeError extends DownloadError {}

/**
 * GETs `url` through the guard into `destination`, following up to 5 redirects (each hop
 * re-checked) and stopping as soon as more than `maxBytes` arrive. Returns the bytes written.
 */
export async function downloadToFile(
  guard: OutboundGuard,
  url: string,
  destination: string,
  options: { maxBytes: number; signal: AbortSignal },
): Promise<number> {
  let current = new URL(url);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') throw new DownloadError(`redirect to a ${current.protocol} URL is not followed`);
    const response = await request(current, {
      dispatcher: guard.dispatcher,
      method: 'GET',
      headers: { 'user-agent': 'vidgate', accept: '*/*' },
      signal: options.signal,
    });
    if (REDIRECT_STATUSES.has(response.statusCode)) {
      await response.body.dump();
      const location = response.headers.location;
      if (typeof location !== 'string') throw new DownloadError(`HTTP ${response.statusCode} without a Location header`);
      current = new URL(location, current);
      continue;
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new DownloadError(`the server answered HTTP ${response.statusCode}`);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      response.body.destroy();
      throw new TooLargeError(`its size of ${declared} bytes is over the limit`);
    }
    const counter = byteCap(options.maxBytes);
    await pipeline(response.body, counter, createWriteStream(destination), { signal: options.signal });
    return counter.received;
  }
  throw new DownloadError(`more than ${MAX_REDIRECTS} redirects`);
}

/** A pass-through that counts bytes and fails with TooLargeError once more than `maxBytes` went by. */
export function byteCap(maxBytes: number): Transform & { received: number } {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      counter.received += chunk.length;
      if (counter.received > maxBytes) done(new TooLargeError('it is larger than the limit'));
      else done(null, chunk);
    },
  }) as Transform & { received: number };
  counter.received = 0;
  return counter;
}

/** Why a download failed, for a user: "could not be fetched: <reason>" (or "… within N s" past the deadline). */
export function fetchFailure(error: unknown, deadline: AbortSignal, deadlineMs: number): string {
  if (error instanceof OutboundRefusedError || error instanceof DownloadError) return `could not be fetched: ${error.message}`;
  if (deadline.aborted) return `could not be fetched within ${deadlineMs / 1000} s`;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof OutboundRefusedError) return `could not be fetched: ${cause.message}`;
  return `could not be fetched: ${(error as Error).message || 'connection failed'}`;
}
