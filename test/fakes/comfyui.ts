import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

type Prompt = { id: string; number: number; graph: Record<string, { class_type: string; inputs: Record<string, unknown> }>; clientId: string };

export type FakeComfyUi = {
  baseUrl: string;
  /** Every graph queued, as received. */
  prompts: Prompt[];
  /** Uploaded images: name → bytes. */
  uploads: Map<string, Buffer>;
  /** Calls to /interrupt and deletions from /queue. */
  interrupts: string[];
  deleted: string[];
  /** Sampler steps per prompt and the time each takes. */
  steps: number;
  stepMs: number;
  /** The next prompt fails in a node (execution_error). */
  failNext: boolean;
  /** What the next POST /prompt gets instead: 'hang' (queued, never answered) or 'drop' (connection cut before queueing). */
  nextPrompts: ('hang' | 'drop')[];
  /** Stop the running prompt after this step's progress frame, until `resume()` (tests wait for events, not time). */
  holdAtStep: number | null;
  /** The step the running prompt is held at, or null. */
  heldAt: number | null;
  resume(): void;
  /** Whether a websocket of this client id is open. */
  connected(clientId: string): boolean;
  /** Progress frames sent over the websocket. */
  progressFrames: number;
  /** Refuse websocket connections (the client must fall back to polling history). */
  refuseSockets: boolean;
  /** Forgets history and queue, as a restart of ComfyUI does. */
  restart(): void;
  close(): Promise<void>;
};

/**
 * A fake ComfyUI server (UPSTREAMS.md §4.2) over loopback: POST /prompt with client-chosen
 * prompt ids and validation, one GPU queue run in order, websocket frames to the client id
 * (execution_start, executing, progress, executed, execution_success / _error / _interrupted),
 * /history, /queue (list and delete), /interrupt, /upload/image (multipart) and /view.
 */
export async function startFakeComfyUi(options: { video: string }): Promise<FakeComfyUi> {
  const pending: Prompt[] = [];
  let running: { prompt: Prompt; stop(): void } | null = null;
  const history = new Map<string, unknown>();
  const sockets = new Map<string, WebSocket>();
  const hanging = new Set<ServerResponse>();
  let number = 0;
  const fake: FakeComfyUi = {
    baseUrl: '', prompts: [], uploads: new Map(), interrupts: [], deleted: [], steps: 4, stepMs: 50, failNext: false, nextPrompts: [], progressFrames: 0, refuseSockets: false,
    holdAtStep: null, heldAt: null, resume: () => {}, connected: (clientId) => sockets.has(clientId),
    restart: () => {
      pending.length = 0;
      running?.stop();
      running = null;
      history.clear();
    },
    close: async () => {},
  };

  const emit = (prompt: Prompt, type: string, data: Record<string, unknown>) => {
    if (type === 'progress') fake.progressFrames += 1;
    sockets.get(prompt.clientId)?.send(JSON.stringify({ type, data: { prompt_id: prompt.id, ...data } }));
  };

  const runNext = () => {
    if (running || pending.length === 0) return;
    const prompt = pending.shift()!;
    const fails = fake.failNext;
    fake.failNext = false;
    let step = 0;
    let timer: NodeJS.Timeout;
    const finish = (status: 'success' | 'error' | 'interrupted') => {
      clearTimeout(timer);
      fake.heldAt = null;
      running = null;
      const saver = Object.entries(prompt.graph).find(([, n]) => n.class_type === 'SaveVideo');
      const outputs = status === 'success' && saver ? { [saver[0]]: { images: [{ filename: `${prompt.id}_00001_.mp4`, subfolder: 'vidgate', type: 'output' }], animated: [true] } } : {};
      const event = status === 'success' ? 'execution_success' : status === 'error' ? 'execution_error' : 'execution_interrupted';
      history.set(prompt.id, {
        prompt: [prompt.number, prompt.id, prompt.graph, {}, []], outputs,
        status: { status_str: status === 'success' ? 'success' : 'error', completed: status === 'success', messages: [['execution_start', {}], [event, {}]] },
      });
      emit(prompt, event, status === 'error' ? { node_id: '8', exception_message: 'CUDA out of memory at /srv/models' } : {});
      emit(prompt, 'executing', { node: null });
      runNext();
    };
    const tick = () => {
      step += 1;
      if (fails && step === 2) return finish('error');
      emit(prompt, 'progress', { node: '8', value: step, max: fake.steps });
      if (step >= fake.steps) return finish('success');
      if (step === fake.holdAtStep) return hold();
      timer = setTimeout(tick, fake.stepMs);
    };
    const hold = () => {
      fake.heldAt = step;
      fake.resume = () => {
        fake.heldAt = null;
        fake.resume = () => {};
        timer = setTimeout(tick, fake.stepMs);
      };
    };
    running = { prompt, stop: () => clearTimeout(timer) };
    emit(prompt, 'execution_start', {});
    emit(prompt, 'executing', { node: '8' });
    timer = setTimeout(tick, fake.stepMs);
    running.stop = () => finish('interrupted');
  };

  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const queueItem = (p: Prompt) => [p.number, p.id, p.graph, { client_id: p.clientId }, []];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = await readBody(req);
    if (req.method === 'POST' && url.pathname === '/prompt') {
      const scripted = fake.nextPrompts.shift();
      if (scripted === 'drop') return void req.socket.destroy();
      const { prompt: graph, client_id, prompt_id } = JSON.parse(body.toString());
      const problems = validate(graph, fake.uploads);
      if (problems.length) return json(res, 400, { error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: problems.join('; ') }, node_errors: {} });
      const prompt: Prompt = { id: prompt_id ?? randomUUID(), number: number++, graph, clientId: client_id ?? '' };
      fake.prompts.push(prompt);
      pending.push(prompt);
      setImmediate(runNext);
      if (scripted === 'hang') return void hanging.add(res);
      return json(res, 200, { prompt_id: prompt.id, number: prompt.number, node_errors: {} });
    }
    if (req.method === 'GET' && url.pathname === '/queue') return json(res, 200, { queue_running: running ? [queueItem(running.prompt)] : [], queue_pending: pending.map(queueItem) });
    if (req.method === 'POST' && url.pathname === '/queue') {
      const ids: string[] = JSON.parse(body.toString()).delete ?? [];
      fake.deleted.push(...ids);
      for (const id of ids) {
        const i = pending.findIndex((p) => p.id === id);
        if (i >= 0) pending.splice(i, 1);
      }
      return res.writeHead(200).end();
    }
    if (req.method === 'POST' && url.pathname === '/interrupt') {
      const id = body.length ? JSON.parse(body.toString()).prompt_id : undefined;
      fake.interrupts.push(id ?? '*');
      if (running && (!id || running.prompt.id === id)) running.stop();
      return res.writeHead(200).end();
    }
    const one = /^\/history\/(.+)$/.exec(url.pathname);
    if (req.method === 'GET' && one) {
      const entry = history.get(decodeURIComponent(one[1]));
      return json(res, 200, entry ? { [decodeURIComponent(one[1])]: entry } : {});
    }
    if (req.method === 'POST' && url.pathname === '/upload/image') {
      const file = multipartFile(req.headers['content-type'] ?? '', body, 'image');
      if (!file) return json(res, 400, { error: 'no image' });
      fake.uploads.set(file.filename, file.data);
      return json(res, 200, { name: file.filename, subfolder: '', type: 'input' });
    }
    if (req.method === 'GET' && url.pathname === '/view') {
      const known = [...history.values()].some((h) => JSON.stringify(h).includes(`"filename":"${url.searchParams.get('filename')}"`));
      if (!known || url.searchParams.get('type') !== 'output') return json(res, 404, {});
      res.writeHead(200, { 'content-type': 'video/mp4' });
      return void createReadStream(options.video).pipe(res);
    }
    json(res, 404, {});
  };

  const server = createServer((req, res) => void handle(req, res).catch((err) => json(res, 500, { error: String(err) })));
  const wss = new WebSocketServer({ server, path: '/ws', verifyClient: () => !fake.refuseSockets });
  wss.on('connection', (socket, req) => {
    const clientId = new URL(req.url ?? '/', 'http://x').searchParams.get('clientId') ?? randomUUID();
    sockets.set(clientId, socket);
    socket.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: pending.length } }, sid: clientId } }));
    socket.on('close', () => sockets.delete(clientId));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise((resolve) => {
      fake.restart();
      for (const res of hanging) res.destroy();
      for (const socket of wss.clients) socket.terminate();
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

/** What ComfyUI's validation would refuse: unfilled placeholders, unknown images, no output node. */
function validate(graph: unknown, uploads: Map<string, Buffer>): string[] {
  if (!graph || typeof graph !== 'object') return ['no prompt'];
  const problems: string[] = [];
  const text = JSON.stringify(graph);
  if (text.includes('{{')) problems.push('unfilled placeholder');
  for (const node of Object.values(graph as Record<string, { class_type: string; inputs: Record<string, unknown> }>)) {
    if (node.class_type === 'LoadImage' && !uploads.has(String(node.inputs.image))) problems.push(`image ${node.inputs.image} not found`);
  }
  if (!text.includes('"SaveVideo"')) problems.push('no output node');
  return problems;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The file field `name` of a multipart/form-data body. */
function multipartFile(contentType: string, body: Buffer, name: string): { filename: string; data: Buffer } | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return null;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString();
    const field = /name="([^"]+)"(?:; filename="([^"]*)")?/.exec(headers);
    if (field?.[1] === name && field[2] !== undefined) return { filename: field[2], data: part.subarray(headerEnd + 4) };
    start = next;
  }
  return null;
}
