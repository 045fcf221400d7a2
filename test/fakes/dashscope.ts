import { createHmac, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { refusal } from './dashscope-models.ts';

/** How one fake task goes: queued, running, then its end. */
export type TaskScript = {
  queueMs?: number;
  runMs?: number;
  /** SUCCEEDED (default), FAILED with a code, or the task vanishes (UNKNOWN). */
  end?: { status: 'SUCCEEDED' } | { status: 'FAILED'; code: string } | { status: 'UNKNOWN' } | { status: 'CANCELED' } | { status: string };
  /** Usage seconds reported on success (default: the request's duration). */
  billedSeconds?: number;
};

export type FakeTask = {
  id: string;
  model: string;
  body: any;
  createdAt: number;
  script: TaskScript;
  cancelledAt?: number;
  /** The statuses its queries were answered, in order. */
  answered: string[];
};

export type FakeDashScope = {
  /** The API base, as a channel's base_url: http://127.0.0.1:PORT/api/v1 */
  baseUrl: string;
  apiKey: string;
  creates: { body: any; headers: IncomingMessage['headers'] }[];
  /** The messages of creates refused for a field the model does not take. */
  refusals: string[];
  tasks: Map<string, FakeTask>;
  /** Calls to the task API (query, list, cancel), and how many were refused for the rate. */
  queries: { total: number; single: number; list: number; throttled: number };
  /** How each new task goes (default: 50 ms queued, 200 ms running, SUCCEEDED). */
  script: (body: any) => TaskScript;
  /**
   * What the next submits get instead of an acceptance: an HTTP status and DashScope code;
   * 'hang' (the task is created, the answer never comes); 'drop' (the connection dies before any task exists).
   */
  nextSubmits: ({ status: number; code: string } | 'hang' | 'drop')[];
  /** The next this-many task-API calls answer 429 whatever the rate (a throttle, made deterministic). */
  throttleNext: number;
  /** When set, every task query and list answers this HTTP status (a broken status route, a revoked key). */
  queryFailure: number | null;
  /** Where video_url points (default: this server); another origin tests the outbound guard. */
  resultOrigin: string | null;
  /** Files uploaded to the account's temporary storage (UPSTREAMS-2.md §1.1), by object key. */
  ossObjects: Map<string, { bytes: Buffer; model: string; contentType: string }>;
  /**
   * Called before a list page is answered (a test changes the tasks between pages, as time
   * would); an HTTP status it returns is answered instead of the page.
   */
  beforeListPage: ((status: string | null, pageNo: number) => number | void) | null;
  /** When each task reached its end (for the benchmark). */
  endTime(task: FakeTask): number;
  close(): Promise<void>;
};

const RATE_WINDOW_MS = 1000;

/**
 * A fake Alibaba Model Studio speaking the DashScope wire protocol of UPSTREAMS.md §1 over
 * loopback: async create (X-DashScope-Async required), task query, batch list with paging,
 * cancel while PENDING, 24 h UNKNOWN, usage, and the account's query rate (429 Throttling.RateQuota).
 */
export async function startFakeDashScope(options: { video: string; queriesPerSecond?: number; apiKey?: string }): Promise<FakeDashScope> {
  const apiKey = options.apiKey ?? 'sk-fake-dashscope';
  const qps = options.queriesPerSecond ?? 20;
  const recent: number[] = [];
  const hanging = new Set<ServerResponse>();
  const fake: FakeDashScope = {
    baseUrl: '',
    apiKey,
    creates: [],
    refusals: [],
    tasks: new Map(),
    queries: { total: 0, single: 0, list: 0, throttled: 0 },
    script: () => ({ queueMs: 50, runMs: 200 }),
    nextSubmits: [],
    queryFailure: null,
    throttleNext: 0,
    ossObjects: new Map(),
    resultOrigin: null,
    beforeListPage: null,
    endTime: (task) => task.cancelledAt ?? task.createdAt + (task.script.queueMs ?? 0) + (task.script.runMs ?? 0),
    close: async () => {},
  };

  const statusOf = (task: FakeTask, now: number): string => {
    if (task.cancelledAt !== undefined) return 'CANCELED';
    const queued = task.createdAt + (task.script.queueMs ?? 0);
    if (now < queued) return 'PENDING';
    if (now < fake.endTime(task)) return 'RUNNING';
    return task.script.end?.status ?? 'SUCCEEDED';
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ request_id: randomUUID(), ...(body as object) }));
  };

  const overRate = (now: number): boolean => {
    while (recent.length && recent[0] <= now - RATE_WINDOW_MS) recent.shift();
    if (recent.length >= qps) return true;
    recent.push(now);
    return false;
  };

  const taskView = (task: FakeTask, now: number) => {
    const status = statusOf(task, now);
    if (status === 'UNKNOWN') return { output: { task_id: task.id, task_status: 'UNKNOWN' } };
    const output: Record<string, unknown> = { task_id: task.id, task_status: status, submit_time: stamp(task.createdAt) };
    if (task.body.input?.prompt !== undefined) output.orig_prompt = task.body.input.prompt;
    if (status === 'SUCCEEDED') {
      output.video_url = `${fake.resultOrigin ?? origin}/results/${task.id}.mp4?Expires=${Math.floor(now / 1000) + 86_400}`;
      output.end_time = stamp(fake.endTime(task));
      const seconds = task.script.billedSeconds ?? (task.body.parameters?.duration || 5);
      // The flat 2.5 / 2.6 models answer the older usage shape (UPSTREAMS-2.md §2.5).
      if (/^wan2\.[56]-/.test(task.model)) return { output, usage: { video_duration: seconds, video_count: 1, video_ratio: task.body.parameters?.size ?? '1280*720' } };
      return { output, usage: { duration: seconds, output_video_duration: seconds, video_count: 1, SR: 720 } };
    }
    if (status === 'FAILED') Object.assign(output, { code: (task.script.end as { code: string }).code, message: `task ${task.id} failed` });
    return { output };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const now = Date.now();
    if (req.method === 'GET' && url.pathname.startsWith('/results/')) {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      createReadStream(options.video).pipe(res);
      return;
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) return send(res, 401, { code: 'InvalidApiKey', message: 'Invalid API-key provided.' });

    if (req.method === 'GET' && url.pathname === '/api/v1/uploads') {
      const model = url.searchParams.get('model');
      if (url.searchParams.get('action') !== 'getPolicy' || !model) return send(res, 400, { code: 'InvalidParameter', message: 'action=getPolicy and model are required' });
      return send(res, 200, { data: oss.policyFor(model, now) });
    }

    if (req.method === 'POST' && url.pathname === '/api/v1/services/aigc/video-generation/video-synthesis') {
      const body = JSON.parse(await readBody(req));
      fake.creates.push({ body, headers: req.headers });
      if (req.headers['x-dashscope-async'] !== 'enable') return send(res, 403, { code: 'AccessDenied', message: 'current user api does not support synchronous calls' });
      // Every field against the model's table: a name the service does not know is refused, as the real one does.
      const invalid = refusal(body);
      if (invalid) {
        fake.refusals.push(invalid.message);
        return send(res, 400, invalid);
      }
      const refusedUrl = mediaUrls(body).find((u) => u.startsWith('oss://') && !oss.readable(u, body.model, req.headers['x-dashscope-ossresourceresolve'] === 'enable'));
      if (refusedUrl) return send(res, 400, { code: 'InvalidParameter', message: 'InternalError.Algo.InvalidParameter: The provided URL does not appear to be valid. Ensure it is correctly formatted.' });
      const scripted = fake.nextSubmits.shift();
      if (scripted === 'drop') return void req.socket.destroy();
      if (scripted && scripted !== 'hang') return send(res, scripted.status, { code: scripted.code, message: 'scripted failure' });
      const task: FakeTask = { id: randomUUID(), model: body.model, body, createdAt: now, script: fake.script(body), answered: [] };
      fake.tasks.set(task.id, task);
      if (scripted === 'hang') {
        hanging.add(res); // accepted, but the answer never comes
        return;
      }
      return send(res, 200, { output: { task_id: task.id, task_status: 'PENDING' } });
    }

    if (url.pathname.startsWith('/api/v1/tasks')) {
      fake.queries.total += 1;
      if (fake.queryFailure !== null) return send(res, fake.queryFailure, { code: fake.queryFailure === 401 ? 'InvalidApiKey' : 'InternalError', message: 'scripted failure' });
      if (fake.throttleNext > 0 || overRate(now)) {
        fake.throttleNext = Math.max(0, fake.throttleNext - 1);
        fake.queries.throttled += 1;
        return send(res, 429, { code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' });
      }
      const cancel = /^\/api\/v1\/tasks\/([^/]+)\/cancel$/.exec(url.pathname);
      if (req.method === 'POST' && cancel) {
        const task = fake.tasks.get(cancel[1]);
        if (!task || statusOf(task, now) !== 'PENDING') return send(res, 400, { code: 'UnsupportedOperation', message: 'Failed to cancel the task, please confirm if the task is in PENDING status.' });
        task.cancelledAt = now;
        return send(res, 200, {});
      }
      const one = /^\/api\/v1\/tasks\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && one) {
        fake.queries.single += 1;
        const task = fake.tasks.get(one[1]);
        task?.answered.push(statusOf(task, now));
        return send(res, 200, task ? taskView(task, now) : { output: { task_id: one[1], task_status: 'UNKNOWN' } });
      }
      if (req.method === 'GET' && url.pathname === '/api/v1/tasks') {
        fake.queries.list += 1;
        const refused = fake.beforeListPage?.(url.searchParams.get('status'), Math.max(1, Number(url.searchParams.get('page_no') ?? 1)));
        if (refused) return send(res, refused, { code: 'InternalError', message: 'the list failed' });
        return send(res, 200, listPage(url, now));
      }
    }
    send(res, 404, { code: 'NotFound', message: 'not found' });
  };

  const listPage = (url: URL, now: number) => {
    const status = url.searchParams.get('status');
    const model = url.searchParams.get('model_name');
    const since = parseStamp(url.searchParams.get('start_time'));
    const until = parseStamp(url.searchParams.get('end_time'));
    const pageNo = Math.max(1, Number(url.searchParams.get('page_no') ?? 1));
    const pageSize = Math.min(100, Math.max(1, Number(url.searchParams.get('page_size') ?? 10)));
    const matching = [...fake.tasks.values()]
      .filter((t) => (!status || statusOf(t, now) === status) && (!model || t.model === model) && (since === null || t.createdAt >= since) && (until === null || t.createdAt < until + 1000))
      .sort((a, b) => b.createdAt - a.createdAt);
    const data = matching.slice((pageNo - 1) * pageSize, pageNo * pageSize).map((t) => ({
      task_id: t.id, status: statusOf(t, now), model_name: t.model, gmt_create: t.createdAt, region: 'ap-southeast-1',
    }));
    return { data, total: matching.length, total_page: Math.ceil(matching.length / pageSize), page_no: pageNo, page_size: pageSize };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { code: 'InternalError', message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.baseUrl = `${origin}/api/v1`;
  const oss = await startFakeOss(fake.ossObjects);
  fake.close = async () => {
    await oss.close();
    await new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  };
  return fake;
}

/** Every media URL of a create body, in both protocols (media arrays and flat fields). */
function mediaUrls(body: any): string[] {
  const input = body?.input ?? {};
  return [...(input.media ?? []).map((m: { url: string }) => m.url), input.audio_url, input.img_url, ...(input.reference_urls ?? [])].filter((u): u is string => typeof u === 'string');
}

const OSS_ACCESS_KEY_ID = 'LTAI-fake-oss';
const OSS_SECRET = 'fake-oss-secret';
const POLICY_TTL_S = 300;

/**
 * The account's temporary storage as UPSTREAMS-2.md §1.1 describes it, on its own host
 * (127.0.0.2, like a real OSS bucket host): getPolicy answers a signed POST policy bound to one
 * model and upload_dir; the form POST must carry it, the key inside upload_dir, the file as the
 * last field, and must not overwrite; a model reads the object only with the resolve header and
 * only if it is the policy's model.
 */
async function startFakeOss(objects: FakeDashScope['ossObjects']) {
  const dirs = new Map<string, string>(); // upload_dir → model
  const sign = (policy: string) => createHmac('sha1', OSS_SECRET).update(policy).digest('base64');
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const form = await new Request('http://oss', { method: 'POST', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) }).formData();
      const fields = [...form.keys()];
      const field = (name: string) => String(form.get(name) ?? '');
      const fail = (status: number, code: string) => res.writeHead(status, { 'content-type': 'application/xml' }).end(`<Error><Code>${code}</Code></Error>`);
      if (fields.at(-1) !== 'file') return fail(400, 'InvalidArgument'); // the file must be the last field
      if (field('OSSAccessKeyId') !== OSS_ACCESS_KEY_ID || field('Signature') !== sign(field('policy'))) return fail(403, 'SignatureDoesNotMatch');
      const policy = JSON.parse(Buffer.from(field('policy'), 'base64').toString('utf8'));
      if (Date.parse(policy.expiration) < Date.now()) return fail(403, 'AccessDenied'); // "Policy expired."
      const key = field('key');
      const dir = policy.conditions[0][2] as string;
      if (!key.startsWith(`${dir}/`)) return fail(403, 'AccessDenied');
      if (field('x-oss-forbid-overwrite') === 'true' && objects.has(key)) return fail(409, 'FileAlreadyExists');
      const file = form.get('file') as File;
      objects.set(key, { bytes: Buffer.from(await file.arrayBuffer()), model: dirs.get(dir)!, contentType: field('x-oss-content-type') });
      res.writeHead(Number(field('success_action_status')) === 200 ? 200 : 204).end();
    })().catch(() => res.writeHead(400).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const host = `http://127.0.0.2:${(server.address() as AddressInfo).port}`;
  return {
    policyFor(model: string, now: number) {
      const dir = `dashscope-instant/fake-account/${new Date(now).toISOString().slice(0, 10)}/${randomUUID()}`;
      dirs.set(dir, model);
      const policy = Buffer.from(JSON.stringify({ expiration: new Date(now + POLICY_TTL_S * 1000).toISOString(), conditions: [['starts-with', '$key', dir]] })).toString('base64');
      return {
        policy, signature: sign(policy), upload_dir: dir, upload_host: host, expire_in_seconds: POLICY_TTL_S, max_file_size_mb: 100, capacity_limit_mb: 999999999,
        oss_access_key_id: OSS_ACCESS_KEY_ID, x_oss_object_acl: 'private', x_oss_forbid_overwrite: 'true',
      };
    },
    readable(url: string, model: string, resolveHeader: boolean): boolean {
      const object = objects.get(url.slice('oss://'.length));
      return resolveHeader && object !== undefined && object.model === model;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

/** `2023-12-20 21:36:31.896` (the service writes its local time; the fake writes UTC). */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The list filter's `20230420000000` (read as UTC). */
function parseStamp(text: string | null): number | null {
  const m = text && /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : null;
}
