import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TaskFailure } from '../../contract/errors.ts';
import type { MediaInfo } from '../../contract/media-limits.ts';
import type { ProcessCaps } from '../../media/caps.ts';
import { FfmpegError, runFfmpeg } from '../../media/ffmpeg.ts';
import type { RenderContext, Renderer, RenderJob, RenderResult } from '../engine.ts';
import { type FfmpegPlan, OUTPUT_FILE } from './graph.ts';
import { MODELS } from '../../contract/models/index.ts';
import { catalogPlan } from './catalog.ts';
import { imageToVideoPlan } from './image-to-video.ts';
import { textToVideoPlan } from './text-to-video.ts';
import { videoEditPlan } from './video-edit.ts';

const PLANS: Record<string, (job: RenderJob) => FfmpegPlan> = {
  'wan2.7-text-to-video': textToVideoPlan,
  'wan2.7-image-to-video': imageToVideoPlan,
  'wan2.7-video-edit': videoEditPlan,
  'happyhorse-1.0-video-edit': videoEditPlan,
};

/** The ffmpeg commands that render a job (exposed for tests and the render benchmark). */
export function renderPlan(job: RenderJob): FfmpegPlan {
  const plan = PLANS[job.model];
  if (plan) return plan(job);
  const preview = MODELS[job.model]?.preview;
  if (!preview) throw new TaskFailure('invalid_parameters', `the local engine does not serve ${job.model}`);
  return catalogPlan(job, preview);
}

/**
 * Deterministic previews made with ffmpeg (not generative AI): every model and mode, honouring
 * size, fps, duration, seed, media and sound rules, so apps can be built and tested offline.
 */
export class LocalEngine implements Renderer {
  readonly name = 'local';
  private readonly ffmpegPath: string;
  private readonly caps: ProcessCaps | undefined;

  constructor(options: { ffmpegPath: string; caps?: ProcessCaps }) {
    this.ffmpegPath = options.ffmpegPath;
    this.caps = options.caps;
  }

  estimateSeconds(job: Pick<RenderJob, 'quality' | 'output'>): number {
    const pixelsPerSecond = job.output.width * job.output.height * job.output.fps;
    // bench/render: about 55 million output pixels a second on 2 cores, plus start-up.
    return Math.ceil(1 + (job.output.durationSec * pixelsPerSecond) / 55e6);
  }

  async render(job: RenderJob, { workDir, signal, onProgress }: RenderContext): Promise<RenderResult> {
    const plan = renderPlan(job);
    await mkdir(workDir, { recursive: true });
    for (const [name, text] of Object.entries(plan.files)) await writeFile(path.join(workDir, name), text);
    const last = plan.commands.length - 1;
    try {
      for (const [i, args] of plan.commands.entries()) {
        await runFfmpeg({
          ffmpegPath: this.ffmpegPath, caps: this.caps, args, signal, cwd: workDir,
          ...(i === last ? { durationSec: job.output.durationSec, onProgress } : {}),
        });
      }
    } catch (error) {
      if (!(error instanceof FfmpegError)) throw error;
      throw new TaskFailure('service_error', 'the local engine could not render this video', { retryable: true, cause: error });
    }
    // A length the model picks ("auto", -1) was reserved at its cap: the preview bills what it made.
    const picked = job.params.duration === -1 || job.params.duration === 'auto';
    const preview = MODELS[job.model]?.preview;
    const billedSeconds = picked && preview ? preview.settledSeconds(job.params, job.output.durationSec, inputDurations(job)) : undefined;
    return { file: path.join(workDir, OUTPUT_FILE), billedSeconds };
  }
}

/** The probed length of each input, as the billing rules read them. */
function inputDurations(job: RenderJob): Record<string, MediaInfo> {
  return Object.fromEntries(Object.values(job.inputs).map((input) => [input.field, {
    container: 'other', bytes: 0, hasAudio: input.hasAudio, hasVideo: input.kind !== 'audio', durationSec: input.durationSec ?? undefined,
    width: input.width ?? undefined, height: input.height ?? undefined,
  } satisfies MediaInfo]));
}
