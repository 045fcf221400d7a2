import { z } from 'zod';
import { ApiError } from '../errors.ts';
import type { ModelSpec } from '../model-spec.ts';
import happyhorseVideoEdit from './happyhorse-1.0-video-edit.ts';
import wanImageToVideo from './wan2.7-image-to-video.ts';
import wanTextToVideo from './wan2.7-text-to-video.ts';
import wanVideoEdit from './wan2.7-video-edit.ts';

/** Every model vidgate serves, by id. */
export const MODELS: Readonly<Record<string, ModelSpec>> = Object.freeze(
  Object.fromEntries([wanTextToVideo, wanImageToVideo, wanVideoEdit, happyhorseVideoEdit].map((m) => [m.id, m as ModelSpec])),
);
export const MODEL_IDS = Object.keys(MODELS);

/** The create body: one schema per model, chosen by `model` (also the OpenAPI request body). */
export const generationRequestSchema = z.discriminatedUnion(
  'model',
  [wanTextToVideo.schema, wanImageToVideo.schema, wanVideoEdit.schema, happyhorseVideoEdit.schema],
  { error: `must be one of ${MODEL_IDS.join(', ')}` },
);

export type GenerationRequest = z.output<typeof generationRequestSchema>;

export function modelSpec(id: string): ModelSpec {
  const spec = MODELS[id];
  if (!spec) throw new ApiError('invalid_request', `model: unknown model "${id}"`, { param: 'model' });
  return spec;
}
