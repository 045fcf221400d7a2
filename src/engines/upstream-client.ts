import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, type Dispatcher, type FormData, request } from 'undici';
import { TaskFailure } from '../contract/errors.ts';
import type { ChannelSettings } from '../channels/config.ts';
import type { OutboundGuard } from '../net/outbound-guard.ts';
import type { Pacer } from './pacer.ts';
import { formatBytes } from '../contract/media-limits.ts';
import { byteCap, TooLargeError } from '../net/guarded-download.ts';
import { type DownloadLimits, SubmitError } from './upstream.ts';

export type UpstreamResponse = { status: number; body: unknown; headers: Record<string, string | string[] | undefined> };

type CallOptions = {
  json?: unknown;
  body?: Buffer | string | FormData | Readable;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** This call's own bound instead of the channel's request timeout (uploads of large inputs). */
  timeoutMs?: number;
};

// Errors raised before a byte of the request left: the upstream cannot have started anything.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'VIDGATE_OUTBOUND_REFUSED']);

/** A call that got no answer; `sent` says whether the request may have reached the upstream. */
export class UpstreamCallError extends Error {
  readonly sent: boolean;
  constructor(cause: unknown) {
    const code = (cause as { code?: string })?.code ?? '';
    super(`upstream call failed: ${code || (cause as Error)?.name || 'error'}`, { cause });
    this.sent = !NOT_SENT.has(code);
  }
}

/**
 * HTTP to one channel's service: its base URL, its credential headers, a timeout on every call.
 * The channel's own origin is trusted (the operator configured it, e.g. a ComfyUI on a private
 * network); any other URL an upstream hands back (a result on a CDN) goes through the guard, and
 * never gets the credential.
 */
export class UpstreamClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly agent: Agent;
  private readonly guard: OutboundGuard;

  constructor(options: { baseUrl: string; headers: Record<string, string>; timeoutMs: number; guard: OutboundGuard }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.headers = options.headers;
    this.timeoutMs = options.timeoutMs;
    this.guard = options.guard;
    this.agent = new Agent({ connect: { timeout: Math.min(options.timeoutMs, 10_000) }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  }

  /** `path` is joined to the base URL unless it is a whole URL. */
  url(path: string, query: CallOptions['query'] = {}): URL {
    const url = /^https?:\/\//.test(path) ? new URL(path) : new URL(this.baseUrl + (path.startsWith('/') ? path : `/${path}`));
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  /** One call; the body is parsed as JSON when it is JSON. Throws UpstreamCallError when no answer came. */
  async call(method: Dispatcher.HttpMethod, path: string, options: CallOptions = {}): Promise<UpstreamResponse> {
    const url = this.url(path, options.query);
    const sameOrigin = url.origin === this.origin;
    const headers: Record<string, string> = { 'user-agent': 'vidgate', ...(sameOrigin ? this.headers : {}), ...options.headers };
    let body = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      const response = await request(url, { method, headers, body, signal, dispatcher: sameOrigin ? this.agent : this.guard.dispatcher });
      const text = await response.body.text();
      let parsed: unknown = text;
      if (text && /json/.test(String(response.headers['content-type'] ?? ''))) {
        try {
          parsed = JSON.parse(text);
        } catch {} // left as text: the engine's schema check reports it
      }
      return { status: response.statusCode, body: parsed, headers: response.headers };
    } catch (error) {
      throw new UpstreamCallError(error);
    }
  }

  /** Streams a result into `file` (never held in memory); 2xx only, and no more than `maxBytes`. */
  async download(url: string, file: string, { signal, maxBytes }: DownloadLimits): Promise<void> {
    const target = new URL(url);
    const sameOrigin = target.origin === this.origin;
    const response = await request(target, {
      method: 'GET',
      headers: { 'user-agent': 'vidgate', ...(sameOrigin ? this.headers : {}) },
      signal,
      dispatcher: sameOrigin ? this.agent : this.guard.dispatcher, // redirects are not followed
    });
    if (response.statusCode < 200 || response.statusCode > 299) {
      await response.body.dump();
      throw new TaskFailure('service_error', `the result could not be fetched from the upstream (HTTP ${response.statusCode})`, { retryable: true });
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      response.body.destroy();
      throw resultTooLarge(maxBytes);
    }
    try {
      await pipeline(response.body, byteCap(maxBytes), createWriteStream(file), { signal });
    } catch (error) {
      throw error instanceof TooLargeError ? resultTooLarge(maxBytes) : error;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function resultTooLarge(maxBytes: number): TaskFailure {
  return new TaskFailure('service_error', `the upstream's result is larger than the ${formatBytes(maxBytes)} this gateway accepts`, { retryable: false });
}

/**
 * A channel's client: its base URL (or the engine's default; `baseUrl` for a second service of
 * the same account, such as its file store), its credential as `<scheme> <key>`, its timeout.
 */
export function channelClient(settings: ChannelSettings, guard: OutboundGuard, options: { scheme?: string; defaultBaseUrl?: string; baseUrl?: string } = {}): UpstreamClient {
  return new UpstreamClient({
    baseUrl: options.baseUrl ?? settings.base_url ?? options.defaultBaseUrl!, guard, timeoutMs: settings.request_timeout,
    headers: settings.api_key ? { authorization: `${options.scheme ?? 'Bearer'} ${settings.api_key}` } : {},
  });
}

/**
 * A status query paced by `pacer`: a 429 backs the pacer off and is asked again, `tries` times in
 * all. Null when no answer came (unreachable, stopping, or still throttled): ask again later.
 */
export async function pacedGet(
  client: UpstreamClient,
  pacer: Pacer,
  path: string,
  options: { query?: CallOptions['query']; signal: AbortSignal; tries?: number },
): Promise<UpstreamResponse | null> {
  for (let attempt = 0; attempt < (options.tries ?? 1); attempt += 1) {
    let response: UpstreamResponse;
    try {
      await pacer.take(options.signal);
      response = await client.call('GET', path, { query: options.query, signal: options.signal });
    } catch (error) {
      if (error instanceof UpstreamCallError || options.signal.aborted) return null;
      throw error;
    }
    if (response.status !== 429) {
      pacer.succeeded();
      return response;
    }
    pacer.throttled(retryAfterMs(response.headers));
  }
  return null;
}

/** Seconds or an HTTP date in Retry-After, as milliseconds. */
export function retryAfterMs(headers: UpstreamResponse['headers']): number | undefined {
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A submit call that got no answer: failover when nothing was sent, else look it up. */
export function submitCallFailure(error: unknown): SubmitError {
  if (error instanceof UpstreamCallError && !error.sent) {
    return new SubmitError('retryable', new TaskFailure('service_unavailable', 'the upstream service could not be reached'));
  }
  return new SubmitError('answer_lost', new TaskFailure('service_unavailable', 'the upstream service did not answer'));
}

/**
 * The statuses every upstream means the same by on submit: throttled, down, or our credential
 * refused. All try the next channel. Anything else is the engine's to read.
 */
export function channelFailure(response: UpstreamResponse): SubmitError | null {
  if (response.status === 429) {
    return new SubmitError('retryable', new TaskFailure('resource_exhausted', 'the upstream service is at capacity; try again later'), retryAfterMs(response.headers));
  }
  if (response.status >= 500) return new SubmitError('retryable', new TaskFailure('service_unavailable', 'the upstream service is unavailable'));
  if (response.status === 401 || response.status === 403) {
    return new SubmitError('retryable', new TaskFailure('service_unavailable', 'the upstream service refused this gateway\'s credentials'));
  }
  return null;
}
