/**
 * vidgate's client: typed from the model schemas, for Node 18+ and browsers (global fetch only).
 * Every type import is erased, so this file runs alone: the console serves it as it is.
 */
import type { ApiErrorCode, TaskErrorCode } from '../contract/errors.ts';
import type { FileData, QuotaData } from '../contract/files.ts';
import type { TaskStatus, TaskView } from '../contract/task-view.ts';

import type { CreateTaskRequest } from './requests.generated.ts';

/** The body of POST /v1/videos/generations, one shape per `model`, generated from the model registry (defaults optional). */
export type { CreateTaskRequest };
export type ModelId = CreateTaskRequest['model'];
export type Task = TaskView;
export type { FileData, QuotaData, TaskStatus };
export type ModelDetail = {
  id: string;
  object: 'model';
  owned_by: string;
  family: string;
  kind: string;
  billing_rule: string;
  input_schema: Record<string, unknown>;
  prices: Record<string, number>;
};
export type TaskList = { object: 'list'; data: Task[]; has_more: boolean; last_id: string | null };
export type CancelledTask = { id: string; object: 'task.cancelled'; status: 'cancelled'; message: string };
export type Credits = {
  token: { remaining_credits: number; used_credits: number; unlimited_credits: boolean };
  user: { remaining_credits: number; used_credits: number };
};

export type ClientOptions = {
  /** Where vidgate answers, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  apiKey: string;
  /** Per request; default 60 s (uploads: none). */
  timeoutMs?: number;
  fetch?: typeof fetch;
};

export type RequestOptions = { signal?: AbortSignal };

export type WaitOptions = RequestOptions & {
  /** Called with the task at every change (or poll) as it is then. */
  onProgress?: (task: Task) => void;
  /** Follow the task's event stream (default); false polls only. Polling also takes over when the stream breaks. */
  stream?: boolean;
  /** First wait between polls (default 1 s); it grows by half each poll up to `maxIntervalMs` (default 10 s). */
  intervalMs?: number;
  maxIntervalMs?: number;
  /** Give up after this long (default: never; use `signal` to stop). */
  timeoutMs?: number;
};

export type UploadOptions = RequestOptions & { fileName?: string; uploadPath?: string };

/** An API error: the HTTP status and the EvoLink error body (`code`, `type`, the field in `param`). */
export class VidgateApiError extends Error {
  override readonly name = 'VidgateApiError';
  readonly status: number;
  readonly code: ApiErrorCode | (string & {});
  readonly type: string;
  readonly param: string | undefined;
  /** Seconds to wait, from Retry-After (429). */
  readonly retryAfter: number | undefined;

  constructor(status: number, body: { code?: string; message?: string; type?: string; param?: string }, retryAfter?: number) {
    super(body.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code ?? 'unknown_error';
    this.type = body.type ?? 'api_error';
    this.param = body.param;
    this.retryAfter = retryAfter;
  }
}

/** A task that ended without a video: `code` is its task error code (request_cancelled when cancelled). */
export class VidgateTaskError extends Error {
  override readonly name = 'VidgateTaskError';
  readonly task: Task;
  readonly code: TaskErrorCode | (string & {});

  constructor(task: Task) {
    super(task.error?.message ?? `task ${task.id} ended ${task.status}`);
    this.task = task;
    this.code = task.error?.code ?? (task.status === 'cancelled' ? 'request_cancelled' : 'unknown_error');
  }
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** A typed client for one vidgate (or EvoLink) base URL and key. */
export class VidgateClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Creates a task; with `idempotencyKey`, a retry of the same body answers the same task, charged once. */
  createTask(request: CreateTaskRequest, options: RequestOptions & { idempotencyKey?: string } = {}): Promise<Task> {
    const headers: Record<string, string> = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {};
    return this.json('POST', '/v1/videos/generations', { body: request, headers, signal: options.signal });
  }

  getTask(id: string, options: RequestOptions = {}): Promise<Task> {
    return this.json('GET', `/v1/tasks/${encodeURIComponent(id)}`, options);
  }

  cancelTask(id: string, options: RequestOptions = {}): Promise<CancelledTask> {
    return this.json('DELETE', `/v1/tasks/${encodeURIComponent(id)}`, options);
  }

  /** The key's user's tasks, newest first; pass the previous page's `last_id` as `before`. */
  listTasks(query: { limit?: number; before?: string; status?: TaskStatus } = {}, options: RequestOptions = {}): Promise<TaskList> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
    const search = params.size ? `?${params}` : '';
    return this.json('GET', `/v1/tasks${search}`, options);
  }

  /**
   * Polls until the task ends, backing off from `intervalMs` to `maxIntervalMs`; resolves with
   * the completed task, throws VidgateTaskError when it failed or was cancelled.
   */
  async waitForTask(id: string, options: WaitOptions = {}): Promise<Task> {
    const { signal, onProgress } = options;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    if (options.stream !== false) {
      const ended = await this.followEvents(id, { signal, onProgress, deadline });
      if (ended) return settled(ended);
    }
    let interval = options.intervalMs ?? 1000;
    for (;;) {
      const task = await this.getTask(id, { signal });
      onProgress?.(task);
      if (TERMINAL.has(task.status)) return settled(task);
      if (Date.now() + interval > deadline) throw new Error(`task ${id} is still ${task.status} after ${options.timeoutMs} ms`);
      await sleep(interval, signal);
      interval = Math.min(interval * 1.5, options.maxIntervalMs ?? 10_000);
    }
  }

  /**
   * Follows GET /v1/tasks/{id}/events until a terminal state, which it answers; null when the
   * stream could not be opened or broke (the caller polls instead). An API error (a wrong id)
   * and the caller's abort are thrown.
   */
  private async followEvents(id: string, options: { signal?: AbortSignal; onProgress?: (task: Task) => void; deadline: number }): Promise<Task | null> {
    const signals = [options.signal, Number.isFinite(options.deadline) ? AbortSignal.timeout(Math.max(1, options.deadline - Date.now())) : undefined].filter((s) => s !== undefined);
    let response: Response;
    try {
      response = await this.fetch(`${this.baseUrl}/v1/tasks/${encodeURIComponent(id)}/events`, {
        headers: { authorization: `Bearer ${this.apiKey}`, accept: 'text/event-stream' }, signal: signals.length ? AbortSignal.any(signals) : undefined,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      return null;
    }
    if (response.status === 400 || response.status === 401 || response.status === 404) throw await apiError(response);
    if (!response.ok || !response.body) return null;
    let last: Task | null = null;
    try {
      for await (const task of taskEvents(response.body)) {
        last = task;
        options.onProgress?.(task);
        if (TERMINAL.has(task.status)) return task;
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
    }
    if (Date.now() >= options.deadline) throw new Error(`task ${id} is still ${last?.status ?? 'running'} after the timeout`);
    return null;
  }

  /** Uploads a file (multipart, streamed); its `file_url` works as a media URL in any task for 72 h. */
  async uploadFile(file: Blob, options: UploadOptions = {}): Promise<FileData> {
    const form = new FormData();
    if (options.uploadPath) form.append('upload_path', options.uploadPath);
    if (options.fileName) form.append('file_name', options.fileName);
    form.append('file', file, options.fileName ?? ((file as { name?: string }).name || 'upload'));
    const answer = await this.json<{ data: FileData }>('POST', '/api/v1/files/upload/stream', { form, signal: options.signal, noTimeout: true });
    return answer.data;
  }

  /** Has vidgate fetch a public URL and keep it as an upload. */
  async uploadFileFromUrl(url: string, options: UploadOptions = {}): Promise<FileData> {
    const body = { file_url: url, upload_path: options.uploadPath, file_name: options.fileName };
    return (await this.json<{ data: FileData }>('POST', '/api/v1/files/upload/url', { body, signal: options.signal })).data;
  }

  async fileQuota(options: RequestOptions = {}): Promise<QuotaData> {
    return (await this.json<{ data: QuotaData }>('GET', '/api/v1/files/quota', options)).data;
  }

  async credits(options: RequestOptions = {}): Promise<Credits> {
    return (await this.json<{ data: Credits }>('GET', '/v1/credits', options)).data;
  }

  async models(options: RequestOptions = {}): Promise<string[]> {
    return (await this.json<{ data: { id: string }[] }>('GET', '/v1/models', options)).data.map((m) => m.id);
  }

  /** One model this key may use: its family, kind, billing rule, request JSON Schema and prices by quality. */
  async model(id: string, options: RequestOptions = {}): Promise<ModelDetail> {
    return this.json<ModelDetail>('GET', `/v1/models/${encodeURIComponent(id)}`, options);
  }

  /** GETs a result (or any) URL as a streaming Response; throws VidgateApiError unless it is 200. */
  async download(url: string, options: RequestOptions = {}): Promise<Response> {
    const response = await this.fetch(url, { signal: options.signal });
    if (!response.ok) throw await apiError(response);
    return response;
  }

  private async json<T>(
    method: string,
    path: string,
    options: RequestOptions & { body?: unknown; form?: FormData; headers?: Record<string, string>; noTimeout?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'application/json', ...options.headers };
    let body: FormData | string | undefined = options.form;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const signals = [options.signal, options.noTimeout ? undefined : AbortSignal.timeout(this.timeoutMs)].filter((s) => s !== undefined);
    const response = await this.fetch(`${this.baseUrl}${path}`, { method, headers, body, signal: signals.length ? AbortSignal.any(signals) : undefined });
    if (!response.ok) throw await apiError(response);
    return (await response.json()) as T;
  }
}

async function apiError(response: Response): Promise<VidgateApiError> {
  const text = await response.text();
  let body: { error?: Record<string, string> } = {};
  try {
    body = JSON.parse(text);
  } catch {}
  const retryAfter = response.headers.get('retry-after');
  return new VidgateApiError(response.status, body.error ?? { message: text.slice(0, 200) || `HTTP ${response.status}` }, retryAfter ? Number(retryAfter) : undefined);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** A terminal task: completed is the answer, failed or cancelled a VidgateTaskError. */
function settled(task: Task): Task {
  if (task.status === 'completed') return task;
  throw new VidgateTaskError(task);
}

/** The task objects of a text/event-stream body, as they arrive. */
async function* taskEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<Task> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const data = buffer.slice(0, end).split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
      buffer = buffer.slice(end + 2);
      if (data) yield JSON.parse(data) as Task;
    }
  }
}
