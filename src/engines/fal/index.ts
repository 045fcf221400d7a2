import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { inputFileName, inputMime } from '../stored-input.ts';
import { TaskFailure } from '../../contract/errors.ts';
import type { ChannelSettings } from '../../channels/config.ts';
import type { OutboundGuard } from '../../net/outbound-guard.ts';
import type { Pacer } from '../pacer.ts';
import { channelClient, type UpstreamClient, channelFailure, pacedGet, submitCallFailure, type UpstreamResponse } from '../upstream-client.ts';
import { type Accepted, type Lookup, SubmitError, type Upstream, type StatusReport, type UpstreamHandle, type UpstreamJob, type DownloadLimits, type UpstreamResult, type UpstreamStatus } from '../upstream.ts';
import { falEndpoint } from './catalog-inputs.ts';
import { falInput } from './inputs.ts';
import { FAL_JWKS_URL, FalWebhookVerifier } from './webhook.ts';

export const FAL_QUEUE_URL = 'https://queue.fal.run';
/** fal's storage API (UPSTREAMS-2.md §1.2.1). */
export const FAL_STORAGE_URL = 'https://rest.fal.ai';

const initiatedSchema = z.object({ upload_url: z.string().url(), file_url: z.string().url() });

const submittedSchema = z.object({ request_id: z.string().min(1), status_url: z.string(), response_url: z.string(), cancel_url: z.string() });
const statusSchema = z.object({ status: z.string() });
const resultSchema = z.object({ video: z.object({ url: z.string() }) });

/** The URLs fal returned at submit; later calls use them, not URLs of our making (UPSTREAMS.md §5.1). */
type FalRef = { status_url: string; response_url: string; cancel_url: string };

/**
 * fal's queue API: submit to the model's endpoint, follow `status_url` (202 while queued or in
 * progress, 200 once completed), read the output at `response_url`, download `video.url`. fal
 * has no list of requests, so a lost submit is resolved only by fal's webhook, when one is set.
 */
export class FalEngine implements Upstream {
  private readonly client: UpstreamClient;
  private readonly storage: UpstreamClient;
  private readonly queries: Pacer;
  /** One input upload's bound (the channel's upload_timeout). */
  private readonly uploadTimeoutMs: number;
  private readonly webhookBase: string | null;
  readonly webhooks: FalWebhookVerifier;

  constructor(settings: ChannelSettings, guard: OutboundGuard, queries: Pacer) {
    this.client = channelClient(settings, guard, { scheme: 'Key', defaultBaseUrl: FAL_QUEUE_URL });
    this.storage = channelClient(settings, guard, { scheme: 'Key', baseUrl: settings.storage_url ?? FAL_STORAGE_URL });
    this.queries = queries;
    this.uploadTimeoutMs = settings.upload_timeout;
    const jwksUrl = settings.webhook_jwks_url ?? FAL_JWKS_URL;
    this.webhooks = new FalWebhookVerifier(async () => (await this.client.call('GET', jwksUrl)).body, settings.fal_user_id ?? '');
    this.webhookBase = settings.webhook_url ? `${settings.webhook_url.replace(/\/+$/, '')}/v1/webhooks/fal/${encodeURIComponent(settings.name)}` : null;
  }

  estimateSeconds(): number {
    return 150;
  }

  /**
   * fal storage (UPSTREAMS-2.md §1.2.1): initiate an upload for each file, PUT the stored bytes
   * to the signed upload URL (its own host, no fal key), and hand the model the file URL.
   */
  async uploadInputs(job: UpstreamJob, signal: AbortSignal): Promise<Record<string, string>> {
    const urls: Record<string, string> = {};
    for (const input of Object.values(job.inputs)) {
      const contentType = inputMime(input);
      const answer = await this.storage.call('POST', '/storage/upload/initiate', {
        query: { storage_type: 'fal-cdn-v3' }, json: { content_type: contentType, file_name: await inputFileName(input) }, headers: { accept: 'application/json' }, signal,
      });
      const initiated = initiatedSchema.safeParse(answer.body);
      if (answer.status !== 200 || !initiated.success) throw new Error(`fal storage answered HTTP ${answer.status}`);
      const put = await this.storage.call('PUT', initiated.data.upload_url, {
        body: createReadStream(input.path), headers: { 'content-type': contentType, 'content-length': String((await stat(input.path)).size) }, signal, timeoutMs: this.uploadTimeoutMs,
      });
      if (put.status < 200 || put.status > 299) throw new Error(`fal's upload URL answered HTTP ${put.status}`);
      urls[input.field] = initiated.data.file_url;
    }
    return urls;
  }

  async submit(job: UpstreamJob, signal: AbortSignal): Promise<Accepted> {
    const query = this.webhookBase ? { fal_webhook: `${this.webhookBase}?key=${job.submitKey}` } : {};
    let response: UpstreamResponse;
    const input = falInput(job); // a value fal cannot take fails here, before anything is sent
    try {
      response = await this.client.call('POST', `/${falEndpoint(job)}`, { json: input, query, signal });
    } catch (error) {
      throw submitCallFailure(error);
    }
    const submitted = submittedSchema.safeParse(response.body);
    if (response.status >= 200 && response.status < 300 && submitted.success) {
      const { request_id, status_url, response_url, cancel_url } = submitted.data;
      return { upstreamId: request_id, ref: JSON.stringify({ status_url, response_url, cancel_url } satisfies FalRef) };
    }
    const refused = channelFailure(response);
    if (refused) throw refused;
    if (response.status < 300) throw new SubmitError('answer_lost', new TaskFailure('service_error', 'the upstream answered without a request id'));
    throw new SubmitError('rejected', new TaskFailure('invalid_parameters', 'the model refused the request\'s parameters or media'));
  }

  /** No list to look in: only fal's webhook (routes/webhooks.ts) can name the request of a lost submit. */
  async lookup(): Promise<Lookup> {
    return { state: 'unsure' };
  }

  /** The URLs of a request fal named only in a webhook: the model's owner/app, without sub-path. */
  refFor(upstreamModel: string, requestId: string): string {
    const app = upstreamModel.split('/').slice(0, 2).join('/');
    const base = this.client.url(`/${app}/requests/${encodeURIComponent(requestId)}`).href;
    return JSON.stringify({ status_url: `${base}/status`, response_url: base, cancel_url: `${base}/cancel` } satisfies FalRef);
  }

  async poll(handles: UpstreamHandle[], report: StatusReport, signal: AbortSignal): Promise<void> {
    await Promise.all(handles.map(async (handle) => report(handle.taskId, await this.statusOf(handle, signal))));
  }

  async download(result: UpstreamResult, file: string, limits: DownloadLimits): Promise<void> {
    await this.client.download(result.url, file, limits);
  }

  async cancel(handle: UpstreamHandle): Promise<void> {
    await this.client.call('PUT', refOf(handle).cancel_url);
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.storage.close();
  }

  private async statusOf(handle: UpstreamHandle, signal: AbortSignal): Promise<UpstreamStatus> {
    const ref = refOf(handle);
    const response = await pacedGet(this.client, this.queries, ref.status_url, { signal });
    if (!response) return { state: 'unavailable' };
    if (response.status === 404) return { state: 'lost' };
    const status = statusSchema.safeParse(response.body);
    if (!status.success || (response.status !== 200 && response.status !== 202)) return { state: 'unavailable' };
    switch (status.data.status) {
      case 'IN_QUEUE':
        return { state: 'queued' };
      case 'IN_PROGRESS':
        return { state: 'running' };
      case 'COMPLETED':
        return this.resultOf(ref, signal);
      default:
        return { state: 'unrecognised', status: status.data.status.slice(0, 40) };
    }
  }

  /** COMPLETED covers failures too: the result call answers the output, or the error. */
  private async resultOf(ref: FalRef, signal: AbortSignal): Promise<UpstreamStatus> {
    const response = await pacedGet(this.client, this.queries, ref.response_url, { signal });
    if (!response) return { state: 'unavailable' };
    if (response.status === 200) {
      const result = resultSchema.safeParse(response.body);
      if (result.success) return { state: 'succeeded', result: { url: result.data.video.url } };
      return { state: 'failed', failure: new TaskFailure('generation_failed_no_content', 'the upstream finished without a video') };
    }
    if (response.status === 422) return { state: 'failed', failure: refusalOf(response.body) };
    if (response.status >= 500) return { state: 'failed', failure: new TaskFailure('service_error', 'the upstream service failed while making the video') };
    return { state: 'failed', failure: new TaskFailure('unknown_error', 'the upstream service could not make the video') };
  }
}

const refusalSchema = z.object({ detail: z.array(z.object({ type: z.string().optional(), msg: z.string().optional() }).partial()) });

/** A 422 at the result: content moderation (its detail type says so, as Veo, Kling and Sora answer it), else the parameters. */
function refusalOf(body: unknown): TaskFailure {
  const detail = refusalSchema.safeParse(body).data?.detail ?? [];
  if (detail.some((d) => /content_policy|moderation|safety|nsfw/i.test(`${d.type ?? ''} ${d.msg ?? ''}`))) {
    return new TaskFailure('content_policy_violation', 'the request or its result was refused by content moderation');
  }
  return new TaskFailure('invalid_parameters', 'the model refused the request\'s parameters or media');
}

function refOf(handle: UpstreamHandle): FalRef {
  return JSON.parse(handle.ref ?? '{}') as FalRef;
}
