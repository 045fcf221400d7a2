import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { falRefusal } from './fal-endpoints.ts';

export type FalRequest = {
  id: string;
  /** The endpoint submitted to, e.g. fal-ai/wan/v2.7/text-to-video. */
  endpoint: string;
  input: any;
  webhook: string | null;
  createdAt: number;
  queueMs: number;
  runMs: number;
  /** 'ok', the HTTP status the result call answers (422 validation, 500 …), or 'moderated' (422 content_policy_violation). */
  outcome: 'ok' | number | 'moderated';
  cancelled: boolean;
};

export type FakeFal = {
  /** The queue host, as a channel's base_url. */
  baseUrl: string;
  apiKey: string;
  requests: Map<string, FalRequest>;
  submits: { endpoint: string; input: any; query: URLSearchParams }[];
  /** Submits refused for an input their endpoint does not take. */
  refusals: string[];
  /** Status and result calls, by path (to check that the returned URLs are used). */
  calls: string[];
  script: (endpoint: string, input: any) => Pick<FalRequest, 'queueMs' | 'runMs' | 'outcome'>;
  /** What the next submits get instead: an HTTP status, 'hang' (kept, never answered). */
  nextSubmits: (number | 'hang')[];
  /** Webhooks delivered (and the receiver's answers). */
  webhooks: { requestId: string; status: number }[];
  /** Files in fal storage (UPSTREAMS-2.md §1.2.1), by file URL. */
  storage: Map<string, { bytes: Buffer; contentType: string }>;
  /** Sign the next webhook with the wrong key. */
  forgeNextWebhook: boolean;
  /** The fal account the webhooks are signed for (another account's webhook is validly signed too). */
  webhookUserId: string;
  close(): Promise<void>;
};

/**
 * A fake fal queue (UPSTREAMS.md §5): submit to an endpoint, status at the returned status_url
 * (202 while IN_QUEUE / IN_PROGRESS, 200 COMPLETED), output at response_url (errors as 422/500),
 * cancel before it runs, and signed webhooks (ED25519 over request id, user id, timestamp and the
 * body's SHA-256, keys at /.well-known/jwks.json). The result video lives at `videoUrl`.
 */
export async function startFakeFal(options: { videoUrl: string; apiKey?: string }): Promise<FakeFal> {
  const apiKey = options.apiKey ?? 'fal-key-123';
  const keys = generateKeyPairSync('ed25519');
  const forger = generateKeyPairSync('ed25519');
  const jwk = keys.publicKey.export({ format: 'jwk' }) as { x: string };
  const hanging = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const fake: FakeFal = {
    baseUrl: '', apiKey, requests: new Map(), submits: [], refusals: [], calls: [], nextSubmits: [], webhooks: [], forgeNextWebhook: false, webhookUserId: 'user-1', storage: new Map(),
    script: () => ({ queueMs: 50, runMs: 200, outcome: 'ok' }),
    close: async () => {},
  };

  const state = (r: FalRequest, now: number) => {
    if (r.cancelled) return 'COMPLETED';
    if (now < r.createdAt + r.queueMs) return 'IN_QUEUE';
    return now < r.createdAt + r.queueMs + r.runMs ? 'IN_PROGRESS' : 'COMPLETED';
  };
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const urls = (r: FalRequest) => {
    const app = r.endpoint.split('/').slice(0, 2).join('/');
    const base = `${fake.baseUrl}/${app}/requests/${r.id}`;
    return { status_url: `${base}/status`, response_url: base, cancel_url: `${base}/cancel` };
  };

  const deliverWebhook = async (r: FalRequest) => {
    if (!r.webhook) return;
    const ok = r.outcome === 'ok' && !r.cancelled;
    const body = Buffer.from(JSON.stringify({
      request_id: r.id, gateway_request_id: r.id, status: ok ? 'OK' : 'ERROR', payload: ok ? { video: { url: options.videoUrl } } : { detail: 'failed' },
    }));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const userId = fake.webhookUserId;
    const message = Buffer.from(`${r.id}\n${userId}\n${timestamp}\n${createHash('sha256').update(body).digest('hex')}`);
    const key = fake.forgeNextWebhook ? forger.privateKey : keys.privateKey;
    fake.forgeNextWebhook = false;
    const res = await fetch(r.webhook, {
      method: 'POST', body,
      headers: {
        'content-type': 'application/json', 'x-fal-webhook-request-id': r.id, 'x-fal-webhook-user-id': userId,
        'x-fal-webhook-timestamp': timestamp, 'x-fal-webhook-signature': sign(null, message, key).toString('hex'),
      },
    }).catch(() => null);
    fake.webhooks.push({ requestId: r.id, status: res?.status ?? 0 });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const now = Date.now();
    if (url.pathname === '/.well-known/jwks.json') return json(res, 200, { keys: [{ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: 'k1' }] });
    if (req.headers.authorization !== `Key ${apiKey}`) return json(res, 401, { detail: 'No user found for Key ID and Secret' });
    if (req.method === 'POST' && url.pathname === '/storage/upload/initiate') {
      let text = '';
      for await (const chunk of req) text += chunk;
      const body = JSON.parse(text || '{}');
      if (url.searchParams.get('storage_type') !== 'fal-cdn-v3' || typeof body.content_type !== 'string') return json(res, 422, { detail: 'content_type is required' });
      return json(res, 200, cdn.initiate(body.content_type, String(body.file_name ?? `${Date.now()}.bin`)));
    }
    const request = /^\/([^/]+\/[^/]+)\/requests\/([^/]+)(\/status|\/cancel)?$/.exec(url.pathname);
    if (request) {
      fake.calls.push(url.pathname);
      const r = fake.requests.get(request[2]);
      if (!r || !r.endpoint.startsWith(`${request[1]}/`) && r.endpoint !== request[1]) return json(res, 404, { detail: 'Request not found' });
      const s = state(r, now);
      if (request[3] === '/status') return json(res, s === 'COMPLETED' ? 200 : 202, { status: s, ...urls(r), ...(s === 'IN_QUEUE' ? { queue_position: 0 } : {}) });
      if (request[3] === '/cancel' && req.method === 'PUT') {
        if (s !== 'IN_QUEUE') return json(res, 400, { status: 'ALREADY_COMPLETED' });
        r.cancelled = true;
        return json(res, 202, { status: 'CANCELLATION_REQUESTED' });
      }
      if (s !== 'COMPLETED') return json(res, 400, { detail: 'Request is still in progress' });
      if (r.cancelled) return json(res, 400, { detail: 'Request was cancelled' });
      if (r.outcome === 'moderated') return json(res, 422, { detail: [{ loc: ['body', 'prompt'], msg: 'The content could not be processed because it contained material flagged by a content checker.', type: 'content_policy_violation' }] });
      if (r.outcome !== 'ok') return json(res, r.outcome, { detail: [{ loc: ['body', 'prompt'], msg: 'invalid', type: 'value_error' }] });
      return json(res, 200, { video: { url: options.videoUrl, content_type: 'video/mp4' }, seed: r.input.seed ?? 1 });
    }
    if (req.method === 'POST') {
      let text = '';
      for await (const chunk of req) text += chunk;
      const endpoint = url.pathname.slice(1);
      const input = JSON.parse(text);
      fake.submits.push({ endpoint, input, query: url.searchParams });
      // Every field against the endpoint's table: fal refuses what its endpoint does not take.
      const refused = falRefusal(endpoint, input);
      if (refused) {
        fake.refusals.push(`${endpoint}: ${JSON.stringify(refused.detail)}`);
        return json(res, refused.status, { detail: refused.detail });
      }
      const scripted = fake.nextSubmits.shift();
      if (typeof scripted === 'number') return json(res, scripted, { detail: 'scripted failure' });
      const r: FalRequest = { id: randomUUID(), endpoint, input, webhook: url.searchParams.get('fal_webhook'), createdAt: now, cancelled: false, ...fake.script(endpoint, input) };
      fake.requests.set(r.id, r);
      const timer = setTimeout(() => {
        timers.delete(timer);
        void deliverWebhook(r);
      }, r.queueMs + r.runMs + 20);
      timers.add(timer);
      if (scripted === 'hang') {
        hanging.add(res);
        return;
      }
      return json(res, 200, { request_id: r.id, ...urls(r), queue_position: 0 });
    }
    json(res, 404, { detail: 'Not found' });
  };

  const server = createServer((req, res) => void handle(req, res).catch((err) => json(res, 500, { detail: String(err) })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cdn = await startFakeCdn(fake.storage);
  fake.close = async () => {
    await cdn.close();
    await new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      server.close(() => resolve());
    });
  };
  return fake;
}

/**
 * fal's CDN on its own host (127.0.0.2): a signed upload URL takes one PUT of the announced
 * content type and nothing else; the file URL then serves the bytes to anyone holding it.
 */
async function startFakeCdn(storage: FakeFal['storage']) {
  const pending = new Map<string, { contentType: string; fileUrl: string }>();
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const upload = /^\/upload\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'PUT' && upload) {
        const slot = pending.get(upload[1]);
        if (!slot || url.searchParams.get('signature') !== `sig-${upload[1]}`) return res.writeHead(403).end('SignatureDoesNotMatch');
        if (req.headers['content-type'] !== slot.contentType) return res.writeHead(403).end('content type differs from the signed one');
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        pending.delete(upload[1]); // one use
        storage.set(slot.fileUrl, { bytes: Buffer.concat(chunks), contentType: slot.contentType });
        return res.writeHead(200).end();
      }
      const stored = req.method === 'GET' ? storage.get(`${origin}${url.pathname}`) : undefined;
      if (!stored) return res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': stored.contentType, 'content-length': stored.bytes.length }).end(stored.bytes);
    })().catch(() => res.writeHead(400).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const origin = `http://127.0.0.2:${(server.address() as AddressInfo).port}`;
  return {
    initiate(contentType: string, fileName: string) {
      const id = randomUUID();
      const fileUrl = `${origin}/files/${id}/${encodeURIComponent(fileName)}`;
      pending.set(id, { contentType, fileUrl });
      return { upload_url: `${origin}/upload/${id}?signature=sig-${id}`, file_url: fileUrl };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
