import type { MediaKind } from '../contract/media-limits.ts';
import type { Quality } from '../contract/output-size.ts';

/** A stored input of a task, as an engine reads it. */
export type RenderInput = {
  field: string;
  /** Where the client's request pointed (upstream engines pass it on). */
  url: string;
  kind: MediaKind;
  /** The container ffprobe found (jpeg, png, mp4, wav, …). */
  container: string;
  path: string;
  width: number | null;
  height: number | null;
  durationSec: number | null;
  hasAudio: boolean;
};

/** Everything an engine needs to make one task's video: the normalized request and its plan. */
export type RenderJob = {
  taskId: string;
  model: string;
  quality: Quality;
  seed: number;
  /** The model's parameters as the contract names them (see contract/models). */
  params: Record<string, unknown>;
  output: { width: number; height: number; fps: number; durationSec: number };
  /** Inputs by contract field name, e.g. `image_start`, `video_urls[0]`, `image_urls[1]`. */
  inputs: Record<string, RenderInput>;
};

export type RenderContext = {
  /** A private, empty folder for this attempt; deleted after it. */
  workDir: string;
  /** Aborted on cancel, lost lease or shutdown: stop at once. */
  signal: AbortSignal;
  /** Fraction done, 0–1; may be called often. */
  onProgress(fraction: number): void;
};

/** The MP4 an engine wrote, and the seconds it billed when they differ from the plan's. */
export type RenderResult = { file: string; billedSeconds?: number };

/**
 * An engine that makes videos on this machine. `render` resolves with the MP4 it wrote inside
 * `workDir`, or throws a TaskFailure (contract/errors.ts) saying what went wrong and whether to
 * try again. Engines that hand the work to a service implement Upstream (upstream.ts) instead.
 */
export type Renderer = {
  readonly name: string;
  /** A first guess of the render time in seconds, before the engine has any history. */
  estimateSeconds(job: Pick<RenderJob, 'model' | 'quality' | 'output'>): number;
  render(job: RenderJob, context: RenderContext): Promise<RenderResult>;
};
