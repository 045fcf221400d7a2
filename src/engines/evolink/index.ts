import { FormData } from 'undici';
import { z } from 'zod';
import { setAtPath } from '../../contract/catalog/spec.ts';
import { MODELS } from '../../contract/models/index.ts';
import { inputBlob, inputFileName } from '../stored-input.ts';
import { TaskFailure, TASK_ERROR_CODES, type TaskErrorCode } from '../../contract/errors.ts';
import type { ChannelSettings } from '../../channels/config.ts';
import type { OutboundGuard } from '../../net/outbound-guard.ts';
import type { UpstreamJob } from '../upstream.ts';
import type { Pacer } from '../pacer.ts';
import { channelClient, type UpstreamClient, channelFailure, pacedGet, submitCallFailure, type UpstreamResponse } from '../upstream-client.ts';
import { type Accepted, type Lookup, type LookupContext, SubmitError, type Upstream, type StatusReport, type UpstreamHandle, type DownloadLimits, type UpstreamResult, type UpstreamStatus } from '../upstream.ts';

/** The hosted service keeps its Files API on a host of its own (UPSTREAMS-2.md §1.3). */
const HOSTED_API = 'api.evolink.ai';
const HOSTED_FILES_URL = 'https://files-api.evolink.ai';

const uploadedSchema = z.object({ data: z.object({ file_url: z.string().url() }) });

const taskSchema = z.object({
  id: z.string(),
  status: z.string(),
  progress: z.number().optional(),
  task_info: z.object({ can_cancel: z.boolean().optional() }).partial().optional(),
  results: z.array(z.string()).optional(),
  error: z.object({ code: z.string() }).partial().optional(),
});

/**
 * Forwards to an EvoLink-compatible service (the hosted one, or another vidgate) with the
 * operator's key: the same create body, task polling, `results[0]` copied home. Every submit
 * carries an Idempotency-Key, so a lost answer is resolved by sending it again: the service
 * answers the task it already made (vidgate does; CONTRACT §4).
 */
export class EvoLinkEngine implements Upstream {
  private readonly client: UpstreamClient;
  private readonly files: UpstreamClient;
  private readonly queries: Pacer;
  /** One input upload's bound (the channel's upload_timeout). */
  private readonly uploadTimeoutMs: number;

  constructor(settings: ChannelSettings, guard: OutboundGuard, queries: Pacer) {
    this.client = channelClient(settings, guard);
    const hosted = settings.base_url !== undefined && new URL(settings.base_url).hostname === HOSTED_API;
    this.files = channelClient(settings, guard, { baseUrl: settings.files_url ?? (hosted ? HOSTED_FILES_URL : settings.base_url) });
    this.queries = queries;
    this.uploadTimeoutMs = settings.upload_timeout;
  }

  /** The Files API (UPSTREAMS-2.md §1.3): each stored input streamed up once; the model reads its file_url. */
  async uploadInputs(job: UpstreamJob, signal: AbortSignal): Promise<Record<string, string>> {
    const urls: Record<string, string> = {};
    for (const input of Object.values(job.inputs)) {
      const form = new FormData();
      form.append('upload_path', 'vidgate');
      form.append('file', await inputBlob(input), await inputFileName(input));
      const answer = await this.files.call('POST', '/api/v1/files/upload/stream', { body: form, signal, timeoutMs: this.uploadTimeoutMs });
      const uploaded = uploadedSchema.safeParse(answer.body);
      if (answer.status !== 200 || !uploaded.success) throw new Error(`the Files API answered HTTP ${answer.status}`);
      urls[input.field] = uploaded.data.data.file_url;
    }
    return urls;
  }

  estimateSeconds(): number {
    return 120;
  }

  async submit(job: UpstreamJob, signal: AbortSignal): Promise<Accepted> {
    let response: UpstreamResponse;
    try {
      response = await this.client.call('POST', '/v1/videos/generations', { json: evolinkBody(job), headers: { 'idempotency-key': job.submitKey }, signal });
    } catch (error) {
      throw submitCallFailure(error);
    }
    const task = taskSchema.safeParse(response.body);
    if (response.status === 200 && task.success) return { upstreamId: task.data.id };
    const refused = channelFailure(response);
    if (refused) throw refused;
    // Out of credits or not allowed the model there: the channel's account, not the request.
    if (response.status === 402 || response.status === 409) throw new SubmitError('retryable', new TaskFailure('service_unavailable', 'the upstream service did not take the job'));
    if (response.status === 200) throw new SubmitError('answer_lost', new TaskFailure('service_error', 'the upstream answered without a task'));
    throw new SubmitError('rejected', new TaskFailure('invalid_parameters', 'the upstream service refused the request\'s parameters or media'));
  }

  /** The same request with the same Idempotency-Key answers the task the lost submit made (or makes it now). */
  async lookup(job: UpstreamJob, context: LookupContext): Promise<Lookup> {
    try {
      return { state: 'found', accepted: await this.submit({ ...job, submitKey: context.submitKey }, context.signal) };
    } catch (error) {
      if (error instanceof SubmitError && error.outcome === 'rejected') return { state: 'absent' };
      return { state: 'unsure' };
    }
  }

  async poll(handles: UpstreamHandle[], report: StatusReport, signal: AbortSignal): Promise<void> {
    await Promise.all(handles.map(async (handle) => report(handle.taskId, await this.queryTask(handle, signal))));
  }

  async download(result: UpstreamResult, file: string, limits: DownloadLimits): Promise<void> {
    await this.client.download(result.url, file, limits);
  }

  async cancel(handle: UpstreamHandle): Promise<void> {
    await this.client.call('DELETE', `/v1/tasks/${encodeURIComponent(handle.upstreamId)}`);
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.files.close();
  }

  private async queryTask(handle: UpstreamHandle, signal: AbortSignal): Promise<UpstreamStatus> {
    const response = await pacedGet(this.client, this.queries, `/v1/tasks/${encodeURIComponent(handle.upstreamId)}`, { signal });
    if (response?.status === 404) return { state: 'lost' };
    const task = taskSchema.safeParse(response?.body);
    if (response?.status !== 200 || !task.success) return { state: 'unavailable' };
    return statusOf(task.data);
  }
}

function statusOf(task: z.infer<typeof taskSchema>): UpstreamStatus {
  switch (task.status) {
    case 'pending':
      return { state: 'queued' };
    case 'processing':
      return { state: 'running', progress: task.progress, cancellable: task.task_info?.can_cancel };
    case 'completed':
      return task.results?.[0]
        ? { state: 'succeeded', result: { url: task.results[0] } }
        : { state: 'failed', failure: new TaskFailure('generation_failed_no_content', 'the upstream finished without a video') };
    case 'failed': {
      const code = task.error?.code;
      // The same vocabulary as ours: pass the code on, with our own words.
      const known: TaskErrorCode = code && (TASK_ERROR_CODES as readonly string[]).includes(code) ? (code as TaskErrorCode) : 'unknown_error';
      return { state: 'failed', failure: new TaskFailure(known, `the upstream service could not make the video (${known})`) };
    }
    case 'cancelled':
      return { state: 'cancelled' };
    default:
      return { state: 'unrecognised', status: task.status.slice(0, 40) };
  }
}

/** The create body as the client sent it: the model's parameters and its media under their field names. */
export function evolinkBody(job: UpstreamJob): Record<string, unknown> {
  // Catalog models are relayed with their own fields only, each medium back where the client put it (CONTRACT §9.4).
  if (MODELS[job.model]?.relaysParamsOnly) {
    const body: Record<string, unknown> = { ...structuredClone(job.params), model: job.upstreamModel };
    for (const input of Object.values(job.inputs)) setAtPath(body, input.field, input.url);
    return body;
  }
  const body: Record<string, unknown> = { model: job.upstreamModel, quality: job.quality, seed: job.seed };
  for (const [key, value] of Object.entries(job.params)) if (value !== undefined) body[key] = value;
  for (const input of Object.values(job.inputs)) {
    const listed = /^([a-z_]+)\[(\d+)\]$/.exec(input.field);
    const name = ALIASES[listed?.[1] ?? input.field] ?? listed?.[1] ?? input.field;
    if (listed || name !== input.field) ((body[name] ??= []) as string[])[Number(listed?.[2] ?? 0)] = input.url;
    else body[name] = input.url;
  }
  return body;
}

// Aliases the contract accepts, sent under their main name.
const ALIASES: Record<string, string> = { audio_url: 'audio_urls', video_url: 'video_urls', video: 'video_urls' };
