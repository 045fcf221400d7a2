import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FormData } from 'undici';
import { z } from 'zod';
import { TaskFailure } from '../../contract/errors.ts';
import type { ChannelSettings } from '../../channels/config.ts';
import type { OutboundGuard } from '../../net/outbound-guard.ts';
import { input } from '../job-inputs.ts';
import type { Pacer } from '../pacer.ts';
import { channelClient, type UpstreamClient, channelFailure, submitCallFailure, UpstreamCallError, type UpstreamResponse } from '../upstream-client.ts';
import { type Accepted, type Lookup, type LookupContext, SubmitError, type Upstream, type StatusReport, type UpstreamHandle, type UpstreamJob, type DownloadLimits, type UpstreamResult, type UpstreamStatus } from '../upstream.ts';
import { ProgressSocket } from './progress-socket.ts';
import { fillWorkflow, loadWorkflow, placeholdersIn, type Workflow } from './workflow.ts';

const promptAnswer = z.object({ prompt_id: z.string().min(1) });
const uploadAnswer = z.object({ name: z.string(), subfolder: z.string().optional() });
const fileRef = z.object({ filename: z.string(), subfolder: z.string().default(''), type: z.string().default('output') });
const historyEntry = z.object({
  outputs: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  status: z.object({ status_str: z.string().optional(), completed: z.boolean().optional(), messages: z.array(z.tuple([z.string(), z.unknown()])).default([]) }).optional(),
});
const queueAnswer = z.object({ queue_running: z.array(z.array(z.unknown())).default([]), queue_pending: z.array(z.array(z.unknown())).default([]) });

const VIDEO_FILE = /\.(mp4|webm|mov|mkv)$/i;
const IMAGE_FIELDS = ['image_start', 'image_end'] as const;

/**
 * A self-hosted ComfyUI running open Wan weights (UPSTREAMS.md §4.2). Each model maps to an
 * API-format workflow file with placeholders; vidgate uploads the input images, queues the
 * filled graph under its own prompt id, follows progress over the websocket (history polling
 * when the socket is down), downloads the video from /view, and cancels with a queue delete
 * (pending) or an interrupt (running).
 */
export class ComfyUiEngine implements Upstream {
  private readonly client: UpstreamClient;
  private readonly queries: Pacer;
  private readonly workflows = new Map<string, Workflow>();
  private readonly socket: ProgressSocket;
  private readonly clientId = `vidgate-${randomUUID()}`;

  constructor(settings: ChannelSettings, guard: OutboundGuard, queries: Pacer) {
    this.client = channelClient(settings, guard);
    this.queries = queries;
    for (const file of new Set(settings.models.values())) this.workflows.set(file, loadWorkflow(file));
    const ws = new URL(`${this.client.baseUrl}/ws`);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    ws.searchParams.set('clientId', this.clientId);
    this.socket = new ProgressSocket(ws.href);
  }

  estimateSeconds(): number {
    return 300; // Wan 2.2 TI2V-5B: minutes per clip on one consumer GPU
  }

  async submit(job: UpstreamJob, signal: AbortSignal): Promise<Accepted> {
    this.socket.open(); // progress frames go to the client id named below
    const graph = this.workflows.get(job.upstreamModel)!;
    let response: UpstreamResponse;
    try {
      const prompt = fillWorkflow(graph, { ...this.values(job), ...(await this.uploadImages(job, graph, signal)) });
      response = await this.client.call('POST', '/prompt', { json: { prompt, client_id: this.clientId, prompt_id: job.submitKey }, signal });
    } catch (error) {
      if (error instanceof SubmitError) throw error;
      throw submitCallFailure(error);
    }
    const answer = promptAnswer.safeParse(response.body);
    if (response.status === 200 && answer.success) return { upstreamId: answer.data.prompt_id };
    const refused = channelFailure(response);
    if (refused) throw refused;
    if (response.status === 200) throw new SubmitError('answer_lost', new TaskFailure('service_error', 'ComfyUI answered without a prompt id'));
    throw new SubmitError('rejected', new TaskFailure('invalid_parameters', 'the workflow refused the request\'s parameters or inputs'));
  }

  /** The prompt id is ours (the submit key): ComfyUI's history and queue say whether it arrived. */
  async lookup(_job: UpstreamJob, context: LookupContext): Promise<Lookup> {
    try {
      const queue = await this.queue(context.signal); // before history, as in poll
      const history = await this.history(context.submitKey, context.signal);
      if (history || queue.running.has(context.submitKey) || queue.pending.has(context.submitKey)) return { state: 'found', accepted: { upstreamId: context.submitKey } };
      return { state: 'absent' };
    } catch {
      return { state: 'unsure' };
    }
  }

  async poll(handles: UpstreamHandle[], report: StatusReport, signal: AbortSignal): Promise<void> {
    try {
      // The queue first: a prompt leaves it only after its history entry is written, so one
      // missing from both, in this order, is truly gone.
      const queue = await this.queue(signal);
      for (const handle of handles) {
        const entry = await this.history(handle.upstreamId, signal);
        if (entry) report(handle.taskId, this.finished(entry));
        else if (queue.running.has(handle.upstreamId)) report(handle.taskId, this.running(handle.upstreamId));
        else if (queue.pending.has(handle.upstreamId)) report(handle.taskId, { state: 'queued' });
        else report(handle.taskId, { state: 'lost' }); // ComfyUI restarted: its history is in memory
      }
    } catch (error) {
      if (!(error instanceof UpstreamCallError) && !signal.aborted) throw error; // unanswered, or stopping: ask again later
    }
  }

  private running(promptId: string): UpstreamStatus {
    const progress = this.socket.progressOf(promptId);
    return { state: 'running', progress: progress === undefined ? undefined : Math.floor(progress * 95) };
  }

  async download(result: UpstreamResult, file: string, limits: DownloadLimits): Promise<void> {
    await this.client.download(result.url, file, limits);
  }

  async cancel(handle: UpstreamHandle): Promise<void> {
    const queue = await this.queue();
    if (queue.pending.has(handle.upstreamId)) await this.client.call('POST', '/queue', { json: { delete: [handle.upstreamId] } });
    else if (queue.running.has(handle.upstreamId)) await this.client.call('POST', '/interrupt', { json: { prompt_id: handle.upstreamId } });
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.client.close();
  }

  private values(job: UpstreamJob) {
    const { width, height, fps, durationSec } = job.output;
    return {
      task_id: job.taskId, prompt: String(job.params.prompt ?? ''), negative_prompt: String(job.params.negative_prompt ?? ''), seed: job.seed,
      width, height, fps, duration: durationSec, length: Math.round((durationSec * fps) / 4) * 4 + 1, // Wan takes 4k+1 frames
    };
  }

  /** Uploads the images the workflow names; returns the names to put in its LoadImage nodes. */
  private async uploadImages(job: UpstreamJob, graph: Workflow, signal: AbortSignal): Promise<Record<string, string>> {
    const wanted = placeholdersIn(graph);
    const names: Record<string, string> = {};
    for (const field of IMAGE_FIELDS) {
      if (!wanted.has(field)) continue;
      const image = input(job, field);
      if (!image) throw new SubmitError('rejected', new TaskFailure('invalid_parameters', `this channel's workflow needs ${field}`));
      const form = new FormData();
      form.set('image', new Blob([await readFile(image.path)]), `vidgate-${job.taskId}-${field}${path.extname(new URL(image.url).pathname) || '.png'}`);
      form.set('type', 'input');
      form.set('overwrite', 'true');
      const response = await this.client.call('POST', '/upload/image', { body: form, signal });
      const uploaded = uploadAnswer.safeParse(response.body);
      if (response.status !== 200 || !uploaded.success) throw channelFailure(response) ?? new SubmitError('rejected', new TaskFailure('image_processing_error', `${field} could not be uploaded to ComfyUI`));
      names[field] = uploaded.data.subfolder ? `${uploaded.data.subfolder}/${uploaded.data.name}` : uploaded.data.name;
    }
    return names;
  }

  private finished(entry: z.infer<typeof historyEntry>): UpstreamStatus {
    const events = new Set((entry.status?.messages ?? []).map(([event]) => event));
    if (events.has('execution_interrupted')) return { state: 'cancelled' };
    if (entry.status?.status_str === 'error' || events.has('execution_error')) {
      return { state: 'failed', failure: new TaskFailure('service_error', 'the ComfyUI workflow failed while making the video') };
    }
    const video = Object.values(entry.outputs)
      .flatMap((output) => ['images', 'gifs', 'videos'].flatMap((key) => (Array.isArray(output[key]) ? output[key] : [])))
      .map((item) => fileRef.safeParse(item).data)
      .find((item) => item && VIDEO_FILE.test(item.filename));
    if (!video) return { state: 'failed', failure: new TaskFailure('generation_failed_no_content', 'the workflow saved no video') };
    const url = this.client.url('/view', { filename: video.filename, subfolder: video.subfolder, type: video.type }).href;
    return { state: 'succeeded', result: { url } };
  }

  /** The history entry of a prompt once it finished, else null. */
  private async history(promptId: string, signal?: AbortSignal): Promise<z.infer<typeof historyEntry> | null> {
    await this.queries.take(signal);
    const response = await this.client.call('GET', `/history/${encodeURIComponent(promptId)}`, { signal });
    const entry = (response.body as Record<string, unknown> | null)?.[promptId];
    return response.status === 200 && entry ? historyEntry.parse(entry) : null;
  }

  private async queue(signal?: AbortSignal): Promise<{ running: Set<string>; pending: Set<string> }> {
    await this.queries.take(signal);
    const parsed = queueAnswer.parse((await this.client.call('GET', '/queue', { signal })).body);
    const ids = (items: unknown[][]) => new Set(items.map((item) => String(item[1])));
    return { running: ids(parsed.queue_running), pending: ids(parsed.queue_pending) };
  }
}
