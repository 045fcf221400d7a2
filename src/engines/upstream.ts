import type { TaskFailure } from '../contract/errors.ts';
import type { RenderJob } from './engine.ts';

/** A job as an upstream engine sees it: the render job, the upstream's model id and this submission's key. */
export type UpstreamJob = RenderJob & {
  /** The channel's id for the model (for comfyui: the workflow file). */
  upstreamModel: string;
  /** Unique per submission; engines that can name a job (ComfyUI prompt id, Idempotency-Key) use it to look it up. */
  submitKey: string;
};

/** What an upstream answered to a submit: its id for the job and anything else later calls need (JSON). */
export type Accepted = { upstreamId: string; ref?: string | null };

/** An accepted job, as the poller hands it back to the engine. */
export type UpstreamHandle = { taskId: string; upstreamId: string; ref: string | null; submittedAt: number };

/** Where the finished video is and the seconds the upstream billed, when it says. */
export type UpstreamResult = { url: string; billedSeconds?: number };

/** A result download's bounds: aborted with the job (or at its deadline), and no more than `maxBytes`. */
export type DownloadLimits = { signal: AbortSignal; maxBytes: number };

/** An upstream job's state, mapped to ours. */
export type UpstreamStatus =
  /** `cancellable`: whether the upstream says it can still stop the job (else the engine catalog's `cancelsRunning` decides). */
  | { state: 'queued' | 'running'; progress?: number; cancellable?: boolean }
  | { state: 'succeeded'; result: UpstreamResult }
  | { state: 'failed'; failure: TaskFailure }
  | { state: 'cancelled' }
  /** The upstream no longer knows the job (expired or never kept). */
  | { state: 'lost' }
  /** A status we have no mapping for: logged, asked again later, never shown. */
  | { state: 'unrecognised'; status: string }
  /** Not asked or no answer this time (throttled, network): ask again later. */
  | { state: 'unavailable' };

/** Where an engine's poll reports each job's status, by task id. */
export type StatusReport = (taskId: string, status: UpstreamStatus) => void;

/** The outcome of looking up a submission whose answer was lost. */
export type Lookup = { state: 'found'; accepted: Accepted } | { state: 'absent' } | { state: 'unsure' };

export type LookupContext = {
  submitKey: string;
  /** When the lost submit was sent (unix ms). */
  sentAt: number;
  /** Of these upstream ids, the ones a job of any channel already owns (so a lookup never adopts another's job). */
  owned(upstreamIds: string[]): Promise<Set<string>>;
  signal: AbortSignal;
};

/**
 * A model service vidgate hands jobs to. Submit, then the poller asks for statuses (many at a
 * time, so an engine can batch), then the worker downloads the result home. Every call goes to
 * the channel that accepted the job, with its credential.
 */
export type Upstream = {
  /** A first guess of the time a job takes there, in seconds, before the channel has history. */
  estimateSeconds(job: Pick<RenderJob, 'model' | 'quality' | 'output'>): number;
  /**
   * Copies the job's stored inputs into the upstream's own file store (CONTRACT §8.3 `upload`)
   * and answers the URL the upstream reads each from, by field. Absent: the engine hands files
   * over itself in `submit` (ComfyUI), or has no store (then `upload` is refused at start-up).
   */
  uploadInputs?(job: UpstreamJob, signal: AbortSignal): Promise<Record<string, string>>;
  /** Resolves once the upstream accepted the job; throws SubmitError otherwise. */
  submit(job: UpstreamJob, signal: AbortSignal): Promise<Accepted>;
  /** Resolves a submit whose answer was lost: found, confirmed absent, or unsure. */
  lookup(job: UpstreamJob, context: LookupContext): Promise<Lookup>;
  /**
   * Reports the status of accepted jobs, each as soon as it is known (so a result is fetched
   * while the engine still asks about others); a job not reported counts as unavailable.
   */
  poll(handles: UpstreamHandle[], report: StatusReport, signal: AbortSignal): Promise<void>;
  /** Streams the result video into `file`, within the limits (CONTRACT §8.10). */
  download(result: UpstreamResult, file: string, limits: DownloadLimits): Promise<void>;
  /** Asks the upstream to stop a job; best effort. */
  cancel(handle: UpstreamHandle): Promise<void>;
  close?(): Promise<void>;
};

/**
 * Why a submit did not give an accepted job:
 * - `retryable`: nothing was started (throttled, 5xx, refused connection, bad credential): try the next channel;
 * - `answer_lost`: the request went out and no answer came back: look the job up, never resend blindly;
 * - `rejected`: the upstream refused the job itself (bad input, moderation): the task fails.
 */
export class SubmitError extends Error {
  override readonly name = 'SubmitError';
  readonly outcome: 'retryable' | 'answer_lost' | 'rejected';
  readonly failure: TaskFailure;
  /** For a throttled channel: how long it asked us to wait. */
  readonly retryAfterMs: number | undefined;

  constructor(outcome: SubmitError['outcome'], failure: TaskFailure, retryAfterMs?: number) {
    super(failure.message, { cause: failure });
    this.outcome = outcome;
    this.failure = failure;
    this.retryAfterMs = retryAfterMs;
  }
}
