import type { RenderInput, RenderJob } from './engine.ts';

/** The inputs of a job the way upstream bodies name them, from the contract's field names. */

export function input(job: RenderJob, field: string): RenderInput | undefined {
  return job.inputs[field];
}

/** The clip a video-edit or continuation works on (video_urls[0] or happyhorse's aliases). */
export function sourceVideo(job: RenderJob): RenderInput | undefined {
  return Object.values(job.inputs).find((i) => i.kind === 'video');
}

/** The inputs of a list field (`video_urls[0]`, `video_urls[1]` …), in order. */
export function listedInputs(job: RenderJob, field: string): RenderInput[] {
  return Object.values(job.inputs)
    .filter((i) => i.field.startsWith(`${field}[`))
    .sort((a, b) => indexOf(a.field) - indexOf(b.field));
}

/** The reference images image_urls[0..n], in order. */
export function referenceImages(job: RenderJob): RenderInput[] {
  return listedInputs(job, 'image_urls');
}

/** The driving or soundtrack audio (audio_urls[0] or its alias audio_url). */
export function audio(job: RenderJob): RenderInput | undefined {
  return Object.values(job.inputs).find((i) => i.kind === 'audio');
}

function indexOf(field: string): number {
  return Number(/\[(\d+)\]$/.exec(field)?.[1] ?? 0);
}
