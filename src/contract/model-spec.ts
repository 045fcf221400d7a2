import { z } from 'zod';
import type { MediaInfo, MediaNeed } from './media-limits.ts';
import type { OutputFormat, Quality } from './output-size.ts';

/** A validated request, aliases resolved: what the task stores and the engines read. */
export type NormalizedRequest = {
  model: string;
  quality: string;
  seed?: number;
  callback_url?: string;
  /** Model parameters other than media URLs, as the contract names them. */
  params: Record<string, unknown>;
  media: MediaNeed[];
};

/** What a request implies once its media are probed: the output and the billed seconds. */
export type TaskPlan = {
  output: Omit<OutputFormat, 'aspect_ratio'> & { aspect_ratio: string; duration_sec: number };
  /** Integer seconds reported as task_info.video_duration. */
  video_duration: number;
  /** Seconds the reservation is quoted on. */
  billed_seconds: number;
};

/** What a model makes from what (CATALOG.md §1.1): text, image(s), references, an edit, an extension, several by input, or other. */
export const MODEL_KINDS = ['t2v', 'i2v', 'r2v', 'edit', 'extend', 'multi-mode', 'other'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** One model of the public contract: schema, normalization and planning; pure, no I/O. */
export type ModelSpec<Schema extends z.ZodType = z.ZodType> = {
  id: string;
  owned_by: string;
  /** The catalog family (wan, happyhorse, seedance, …) and kind, as /v1/models shows them. */
  family: string;
  kind: ModelKind;
  schema: Schema;
  /** Relayed as the client's own fields only (catalog models); else the shared quality and seed are sent too. */
  relaysParamsOnly?: boolean;
  normalize(body: z.output<Schema>): NormalizedRequest;
  plan(request: NormalizedRequest, media: Record<string, MediaInfo>): TaskPlan;
};

/** The request fields every model shares, as the normalized request carries them. */
export function sharedFields(body: { model: string; quality: Quality; seed?: number; callback_url?: string }) {
  return { model: body.model, quality: body.quality, seed: body.seed, callback_url: body.callback_url };
}

export function defineModel<Schema extends z.ZodType>(spec: ModelSpec<Schema>): ModelSpec<Schema> {
  return spec;
}

/** A model's request as JSON Schema, input side (what a client sends): for /v1/models/{id} and the console's forms. */
export function requestJsonSchema(model: ModelSpec): Record<string, unknown> {
  return z.toJSONSchema(model.schema, { io: 'input', unrepresentable: 'any', reused: 'inline' }) as Record<string, unknown>;
}

/** Whole seconds, ignoring the small overshoot container padding adds (6.02 s → 6, 6.4 s → 7). */
export function wholeSeconds(seconds: number): number {
  return Math.max(1, Math.ceil(seconds - 0.1));
}
