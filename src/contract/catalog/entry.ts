import type { MediaInfo, MediaLimits } from '../media-limits.ts';
import type { ModelKind } from '../model-spec.ts';
import type { JsonSchema } from './json-schema.ts';

/** What the local engine shows for a model (CONTRACT §9.5): one preview per kind of input. */
export const PREVIEW_KINDS = ['text', 'image', 'references', 'edit', 'extend', 'motion', 'avatar', 'lipsync', 'upscale', 'element'] as const;
export type PreviewKind = (typeof PREVIEW_KINDS)[number];

/** The billing rules EvoLink's files give (CATALOG.md §1.5). */
export type CatalogBillingRule = 'per_second' | 'per_call' | 'per_token';

/** A validated request body, as the registry's family code reads it. */
export type Body = Record<string, unknown>;

/** Probed media by field (`image_urls[0]`, `video_url`, …). */
export type MediaByField = Record<string, MediaInfo>;

/** How long the output is: seconds, and (for "auto" lengths) the seconds the reservation covers. */
export type OutputSeconds = { seconds: number; reserve?: number };

/**
 * One catalog model: its EvoLink file plus what the file states only in prose (CONTRACT §9.1–§9.2).
 * Everything not said here comes from the file itself.
 */
export type CatalogEntry = {
  id: string;
  /** The vendored OpenAPI file (without .json) that documents it. */
  file: string;
  family: string;
  kind: ModelKind;
  preview: PreviewKind;
  billing: CatalogBillingRule;
  /** Stricter rules from the prose, merged into the file's schema by dotted field path (`model_params.shot_type`). */
  patch?: Record<string, Partial<JsonSchema>>;
  /** Fields the prose requires that the schema leaves optional. */
  require?: readonly string[];
  /** Fields the schema requires that the prose lets go in some cases (the entry's check then decides). */
  optional?: readonly string[];
  /** Limits per media field by dotted path without indexes (`image_urls`, `model_params.element_image_list.frontal_image`). */
  media?: Record<string, MediaLimits>;
  /** Media fields that also take the picture inline, as a data URL or bare base64 (gemini). */
  inline?: readonly string[];
  /** URI fields the model reads itself (documents, web pages): checked as URLs, never fetched by vidgate. */
  links?: readonly string[];
  /** Cross-field rules from the prose; throws invalidField. */
  check?(body: Body): void;
  /** Rules on the probed media (totals, sizes against other fields); throws invalidField. */
  checkMedia?(body: Body, media: MediaByField): void;
  /** Prompts over this many code points are cut, not refused (`chinese` when the prompt has Chinese). */
  truncate?: { max: number; chinese?: number };
  /** Output length; default: the `duration` field. */
  duration?(body: Body, media: MediaByField): OutputSeconds;
  /** Input seconds billed on top of the output's, for models whose prose bills them. */
  inputSeconds?(media: MediaByField): number;
  /** Whether the output carries sound; default: generate_audio, sound, keep flags, else yes. */
  sound?(body: Body): boolean;
  /** Quality priced and rendered when the model has no quality field. */
  quality?: string;
  /** Output width ÷ height when neither the request nor an input gives one. */
  defaultRatio?: number;
};

/** Seconds of every input whose field starts with `prefix` (e.g. `video_urls`). */
export function secondsOf(media: MediaByField, prefix: string): number {
  return Object.entries(media)
    .filter(([field]) => field === prefix || field.startsWith(`${prefix}[`))
    .reduce((sum, [, info]) => sum + (info.durationSec ?? 0), 0);
}

/** The first input of `prefix` (`video_urls` → `video_urls[0]`, or the singular field itself). */
export function firstOf(media: MediaByField, prefix: string): MediaInfo | undefined {
  return media[`${prefix}[0]`] ?? media[prefix];
}
