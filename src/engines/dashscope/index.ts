import type { z } from 'zod';
import { TaskFailure } from '../../contract/errors.ts';
import type { OutboundGuard } from '../../net/outbound-guard.ts';
import type { ChannelSettings } from '../../channels/config.ts';
import type { Pacer } from '../pacer.ts';
import { channelClient, channelFailure, pacedGet, submitCallFailure, type UpstreamClient, type UpstreamResponse } from '../upstream-client.ts';
import { type Accepted, type Lookup, type LookupContext, SubmitError, type Upstream, type UpstreamHandle, type UpstreamJob, type StatusReport, type DownloadLimits, type UpstreamResult, type UpstreamStatus } from '../upstream.ts';
import { dashscopeBody } from './bodies.ts';
import { createSchema, errorSchema, failureFor, isChannelCode, listSchema, statusOf, taskQuerySchema, uploadPolicySchema } from './status.ts';
import { ListReading } from './list-reading.ts';
import { inputBlob, inputFileName, inputMime } from '../stored-input.ts';
import { FormData } from 'undici';

const CREATE_PATH = '/services/aigc/video-generation/video-synthesis';
const PAGE_SIZE = 100;
// Past this many jobs in flight, one pass lists the unfinished ones instead of asking for each.
const LIST_ABOVE = 20;
// The list's time filter is in the service's local time (zone unstated): widen it by a day's offsets.
const LIST_WINDOW_SLACK_MS = 14 * 3_600_000;
const UNFINISHED = ['PENDING', 'RUNNING'] as const;
const THROTTLED_TRIES = 3;
// A lost submit's lookup asks about at most this many unowned tasks of the model; more is "unsure".
const MAX_LOOKUP_CANDIDATES = 5;

/**
 * Alibaba Model Studio (DashScope), the first-party home of all four models: async create with
 * `X-DashScope-Async: enable`, task query, batch list, cancel while PENDING (UPSTREAMS.md §1).
 * Queries share the account's 20 per second: with many jobs in flight a pass lists the
 * unfinished tasks page by page and asks only for the ones that left the list.
 */
export class DashScopeEngine implements Upstream {
  readonly client: UpstreamClient;
  readonly queries: Pacer;
  /** One input upload's bound (the channel's upload_timeout). */
  private readonly uploadTimeoutMs: number;
  /** A lost submit is declared absent only once the list has surely had time to show it. */
  private readonly settleMs: number;
  /** How long a job may take: one past it is never left for the next pass, as this pass may end it. */
  private readonly timeoutMs: number;
  /** The last whole reading of the unfinished lists, and the tasks it missed from a gap between pages. */
  private lastReading: ListReading | null = null;
  private skipped = new Set<string>();

  constructor(settings: ChannelSettings, guard: OutboundGuard, queries: Pacer) {
    this.client = channelClient(settings, guard);
    this.queries = queries;
    this.uploadTimeoutMs = settings.upload_timeout;
    this.settleMs = Math.max(2000, 2 * settings.request_timeout);
    this.timeoutMs = settings.timeout;
  }

  estimateSeconds(): number {
    return 180; // "1–5 minutes" for 2.7 (UPSTREAMS.md §1.7)
  }

  /**
   * DashScope's temporary storage (UPSTREAMS-2.md §1.1): one upload policy for this task's
   * model, then an OSS form POST per file; the model reads each as `oss://<key>` for 48 h.
   */
  async uploadInputs(job: UpstreamJob, signal: AbortSignal): Promise<Record<string, string>> {
    const answer = await this.client.call('GET', '/uploads', { query: { action: 'getPolicy', model: job.upstreamModel }, signal });
    const parsed = uploadPolicySchema.safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success) throw new Error(`getPolicy answered HTTP ${answer.status}`);
    const policy = parsed.data.data;
    const urls: Record<string, string> = {};
    for (const [i, input] of Object.values(job.inputs).entries()) {
      // Numbered: two inputs of one task may share a file name (the same picture twice), and OSS forbids overwriting.
      const key = `${policy.upload_dir}/${i}-${await inputFileName(input)}`;
      const form = new FormData();
      form.append('OSSAccessKeyId', policy.oss_access_key_id);
      form.append('Signature', policy.signature);
      form.append('policy', policy.policy);
      form.append('key', key);
      if (policy.x_oss_object_acl) form.append('x-oss-object-acl', policy.x_oss_object_acl);
      if (policy.x_oss_forbid_overwrite !== undefined) form.append('x-oss-forbid-overwrite', String(policy.x_oss_forbid_overwrite));
      form.append('success_action_status', '200');
      form.append('x-oss-content-type', inputMime(input));
      form.append('file', await inputBlob(input), key.split('/').pop()); // OSS wants the file last
      const stored = await this.client.call('POST', policy.upload_host, { body: form, signal, timeoutMs: this.uploadTimeoutMs });
      if (stored.status !== 200 && stored.status !== 204) throw new Error(`OSS answered HTTP ${stored.status}`);
      urls[input.field] = `oss://${key}`;
    }
    return urls;
  }

  async submit(job: UpstreamJob, signal: AbortSignal): Promise<Accepted> {
    let response: UpstreamResponse;
    const body = dashscopeBody(job);
    // oss:// URLs are read only with this header (UPSTREAMS-2.md §1.1.5).
    const headers: Record<string, string> = { 'X-DashScope-Async': 'enable', ...(JSON.stringify(body.input).includes('"oss://') ? { 'X-DashScope-OssResourceResolve': 'enable' } : {}) };
    try {
      response = await this.client.call('POST', CREATE_PATH, { json: body, headers, signal });
    } catch (error) {
      throw submitCallFailure(error);
    }
    const created = createSchema.safeParse(response.body);
    if (response.status === 200 && created.success) return { upstreamId: created.data.output.task_id };
    const refused = channelFailure(response);
    if (refused) throw refused;
    const code = errorSchema.safeParse(response.body).data?.code;
    if (isChannelCode(code)) throw new SubmitError('retryable', failureFor(code));
    if (response.status === 200) throw new SubmitError('answer_lost', new TaskFailure('service_error', 'the upstream answered without a task id'));
    throw new SubmitError('rejected', failureFor(code));
  }

  /**
   * DashScope takes no id of ours, so a lost submit is matched in the task list: the task of
   * that model created in the submit's window (start to answer deadline, widened for the
   * service's zone) that no job of any channel owns. One → found; none → absent; more → unsure.
   */
  async lookup(job: UpstreamJob, context: LookupContext): Promise<Lookup> {
    if (Date.now() - context.sentAt < this.settleMs) return { state: 'unsure' };
    const window = { start_time: listTime(context.sentAt - LIST_WINDOW_SLACK_MS), end_time: listTime(context.sentAt + this.settleMs + LIST_WINDOW_SLACK_MS) };
    const listed = await this.listTasks({ model_name: job.upstreamModel, ...window }, context.signal);
    if (!listed) return { state: 'unsure' };
    const owned = await context.owned(listed.map((t) => t.task_id));
    const unowned = listed.filter((t) => !owned.has(t.task_id) && (t.model_name === undefined || t.model_name === job.upstreamModel));
    if (unowned.length > MAX_LOOKUP_CANDIDATES) return { state: 'unsure' };
    // The window is wide (zones) and the account may be shared: a candidate must also carry the prompt we sent.
    const sentPrompt = dashscopeBody(job).input.prompt ?? '';
    const ours: string[] = [];
    for (const candidate of unowned) {
      const response = await this.paced(`/tasks/${encodeURIComponent(candidate.task_id)}`, {}, context.signal);
      const query = response && taskQuerySchema.safeParse(response.body);
      if (!query?.success) return { state: 'unsure' };
      if ((query.data.output.orig_prompt ?? '') === sentPrompt) ours.push(candidate.task_id);
    }
    if (ours.length === 0) return { state: 'absent' };
    return ours.length === 1 ? { state: 'found', accepted: { upstreamId: ours[0] } } : { state: 'unsure' };
  }

  async poll(handles: UpstreamHandle[], report: StatusReport, signal: AbortSignal): Promise<void> {
    const asking: Promise<void>[] = [];
    const ask = (handle: UpstreamHandle) => asking.push(this.queryTask(handle.upstreamId, signal).then((status) => report(handle.taskId, status)));
    if (handles.length <= LIST_ABOVE) handles.forEach(ask);
    else await this.listPass(handles, report, ask, signal);
    await Promise.all(asking);
  }

  /**
   * One pass over the lists of unfinished tasks: a listed task is reported as it is; one that
   * surely left its list is asked for at once (its result is waiting), one perhaps only skipped
   * while the list shifted is asked for only if the next pass misses it too.
   */
  private async listPass(handles: UpstreamHandle[], report: StatusReport, ask: (handle: UpstreamHandle) => void, signal: AbortSignal): Promise<void> {
    const startedAt = Date.now();
    const byId = new Map(handles.map((h) => [h.upstreamId, h]));
    const asked = new Set<string>();
    const askOnce = (handle: UpstreamHandle | undefined) => {
      if (!handle || asked.has(handle.upstreamId)) return;
      asked.add(handle.upstreamId);
      ask(handle);
    };
    const reading = new ListReading(this.lastReading);
    const onPage = (list: string, pageNo: number, page: ListedTask[], final: boolean) => {
      const left = reading.page(list, pageNo, page.map((task) => task.task_id), final);
      // A task that left PENDING may be RUNNING now: only the RUNNING list's leavers have ended.
      if (list === 'RUNNING') for (const id of left) askOnce(byId.get(id));
    };
    const oldest = Math.min(...handles.map((h) => h.submittedAt));
    if (!(await this.listUnfinished(oldest, onPage, signal))) return; // the rest: ask again next pass
    const skipped = new Set<string>();
    for (const handle of handles) {
      const id = handle.upstreamId;
      const listedAs = reading.listOf(id);
      if (listedAs) report(handle.taskId, { state: listedAs === 'PENDING' ? 'queued' : 'running' });
      else if (handle.submittedAt >= startedAt) continue; // too new to be listed yet
      else if (!reading.knew(id) || reading.hasLeft(id) || this.skipped.has(id) || this.nearTimeout(handle, startedAt)) askOnce(handle);
      else skipped.add(id); // missing from a gap between pages: perhaps skipped, so look again next pass
    }
    this.lastReading = reading;
    this.skipped = skipped;
  }

  /** Whether the job may pass its timeout before the next pass (the rest of this one counted twice over, and a minute). */
  private nearTimeout(handle: UpstreamHandle, passStartedAt: number): boolean {
    const now = Date.now();
    return now + 2 * (now - passStartedAt) + 60_000 - handle.submittedAt > this.timeoutMs;
  }

  async download(result: UpstreamResult, file: string, limits: DownloadLimits): Promise<void> {
    await this.client.download(result.url, file, limits);
  }

  /** Only PENDING tasks can be cancelled; a running one finishes upstream and is discarded here. */
  async cancel(handle: UpstreamHandle): Promise<void> {
    await this.queries.take();
    await this.client.call('POST', `/tasks/${encodeURIComponent(handle.upstreamId)}/cancel`);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async queryTask(upstreamId: string, signal: AbortSignal): Promise<UpstreamStatus> {
    const response = await this.paced(`/tasks/${encodeURIComponent(upstreamId)}`, {}, signal);
    const parsed = response && taskQuerySchema.safeParse(response.body);
    if (!parsed?.success) return { state: 'unavailable' };
    return statusOf(parsed.data);
  }

  /** Reads every page of the unfinished lists since `since`, handing each to `onPage` as it comes; false when a page could not be read. */
  private async listUnfinished(since: number, onPage: (list: string, pageNo: number, page: ListedTask[], final: boolean) => void, signal: AbortSignal): Promise<boolean> {
    for (const status of UNFINISHED) {
      const listed = await this.listTasks({ status, start_time: listTime(since - LIST_WINDOW_SLACK_MS) }, signal, (pageNo, page, final) => onPage(status, pageNo, page, final));
      if (!listed) return false;
    }
    return true;
  }

  /** Every page of the batch list for these filters, each handed to `onPage` as it comes; null when a page could not be read. */
  private async listTasks(filters: Record<string, string>, signal: AbortSignal, onPage?: (pageNo: number, page: ListedTask[], final: boolean) => void): Promise<ListedTask[] | null> {
    const tasks: ListedTask[] = [];
    for (let page = 1; ; page += 1) {
      const response = await this.paced('/tasks', { ...filters, page_no: page, page_size: PAGE_SIZE }, signal);
      const parsed = response && listSchema.safeParse(response.body);
      if (!parsed?.success) return null;
      tasks.push(...parsed.data.data);
      const pages = parsed.data.total_page ?? Math.ceil((parsed.data.total ?? 0) / PAGE_SIZE);
      const final = page >= pages || parsed.data.data.length === 0;
      onPage?.(page, parsed.data.data, final);
      if (final) return tasks;
    }
  }

  /** A paced GET of the task API (asked again after a throttle); null unless answered 200. */
  private async paced(path: string, query: Record<string, string | number>, signal: AbortSignal): Promise<UpstreamResponse | null> {
    const response = await pacedGet(this.client, this.queries, path, { query, signal, tries: THROTTLED_TRIES });
    return response?.status === 200 ? response : null;
  }
}

type ListedTask = z.infer<typeof listSchema>['data'][number];

/** `20230420000000`-style time for the list filter (UTC; the slack covers the service's zone). */
function listTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
