import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { CATALOG_ENTRIES, MODEL_ALIASES } from '../catalog/index.ts';
import { type CatalogPreview, type CatalogPricing, catalogSpec } from '../catalog/spec.ts';
import { ApiError } from '../errors.ts';
import type { ModelSpec } from '../model-spec.ts';
import happyhorseVideoEdit from './happyhorse-1.0-video-edit.ts';
import wanImageToVideo from './wan2.7-image-to-video.ts';
import wanTextToVideo from './wan2.7-text-to-video.ts';
import wanVideoEdit from './wan2.7-video-edit.ts';

/** A model of the registry: the seed models' own specs (CONTRACT §2), the catalog's built from its entries (§9). */
export type RegisteredModel = ModelSpec & { preview?: CatalogPreview; pricing?: CatalogPricing };

const SEED_MODELS: ModelSpec[] = [wanTextToVideo, wanImageToVideo, wanVideoEdit, happyhorseVideoEdit] as ModelSpec[];

/** Every model vidgate knows, by id: the whole EvoLink video catalog. */
export const MODELS: Readonly<Record<string, RegisteredModel>> = Object.freeze(
  Object.fromEntries([...SEED_MODELS, ...CATALOG_ENTRIES.map(catalogSpec)].map((m) => [m.id, m])),
);
export const MODEL_IDS = Object.keys(MODELS);

/** The create body: one schema per model, chosen by `model` (also the OpenAPI request body). */
export const generationRequestSchema = z.discriminatedUnion(
  'model',
  Object.values(MODELS).map((model) => model.schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
  { error: 'must name a model of GET /v1/models' },
);

export type GenerationRequest = { model: string } & Record<string, unknown>;

/** The models a key may use (`allowed`, null = all) that some channel serves: what /v1/models and the MCP tools offer. */
export function usableModels(served: ReadonlySet<string>, allowed: ReadonlySet<string> | null): RegisteredModel[] {
  return Object.values(MODELS).filter((model) => served.has(model.id) && (!allowed || allowed.has(model.id)));
}

export function modelSpec(id: string): RegisteredModel {
  const spec = MODELS[id];
  if (!spec) throw unknownModel(id);
  return spec;
}

/**
 * The documented id a client's `model` names: itself, or the id an old name maps to (CONTRACT
 * §9.3); 400 naming the closest documented id for anything else.
 */
export function resolveModelId(model: unknown): string {
  if (typeof model !== 'string') throw new ApiError('invalid_request', 'model: is required and must be a string (see GET /v1/models)', { param: 'model' });
  if (MODELS[model]) return model;
  const aliased = MODEL_ALIASES[model];
  if (aliased) return aliased;
  throw unknownModel(model);
}

/** The documented id a mistyped or shortened name most likely meant: a close spelling, else the shortest id it begins. */
function nearestModelId(model: string): string | undefined {
  const names = [...MODEL_IDS, ...Object.keys(MODEL_ALIASES)];
  const near = closest(model, names);
  if (near && distance(model.toLowerCase(), near.toLowerCase()) <= Math.max(3, Math.floor(model.length / 4))) return MODEL_ALIASES[near] ?? near;
  const longer = MODEL_IDS.filter((id) => model.length >= 3 && id.toLowerCase().startsWith(model.toLowerCase()));
  return longer.sort((a, b) => a.length - b.length)[0];
}

function unknownModel(model: string): ApiError {
  const near = nearestModelId(model);
  const suggestion = near ? `; did you mean "${near}"?` : '; see GET /v1/models';
  return new ApiError('invalid_request', `model: unknown model "${model.slice(0, 100)}"${suggestion}`, { param: 'model' });
}
