import { z } from 'zod';
import { type MediaInfo, type MediaKind, type MediaLimits, type MediaNeed } from '../media-limits.ts';
import { defineModel, type ModelSpec, type NormalizedRequest } from '../model-spec.ts';
import { frameSize, ratioValue } from '../output-size.ts';
import { type Body, type CatalogEntry, type MediaByField, type PreviewKind } from './entry.ts';
import { readEvolinkRequest } from './evolink-files.ts';
import { type FieldRole, inlinePayload, type JsonSchema, zodFromJsonSchema } from './json-schema.ts';
import { FAMILY_FPS, FAMILY_OWNER } from './limits.ts';
import { truncatePrompt } from './rules.ts';

/** What the local engine needs of a catalog model to preview it (CONTRACT §9.5). */
export type CatalogPreview = {
  kind: PreviewKind;
  /** Whether the output has sound, from the request's parameters. */
  sound(params: Body): boolean;
  /** Seconds billed once the output's length is known: only differs from the plan for "auto" lengths. */
  settledSeconds(params: Body, outputSeconds: number, inputs: MediaByField): number;
};

/** The request schema an entry validates: the file's, with the prose's stricter rules merged in and `model` fixed to the id. */
export function entrySchema(entry: CatalogEntry): JsonSchema {
  const schema = structuredClone(readEvolinkRequest(entry.file).schema) as JsonSchema;
  schema.properties = { ...schema.properties, model: { type: 'string', enum: [entry.id], description: schema.properties?.model?.description } };
  for (const [path, patch] of Object.entries(entry.patch ?? {})) {
    const parent = propertyParent(schema, path);
    const name = path.split('.').at(-1)!;
    parent.properties![name] = { ...parent.properties![name], ...patch };
  }
  if (entry.require) schema.required = [...new Set([...(schema.required ?? []), ...entry.require])];
  if (entry.optional) schema.required = schema.required?.filter((name) => !entry.optional!.includes(name));
  return schema;
}

function propertyParent(schema: JsonSchema, path: string): JsonSchema {
  let node = schema;
  for (const part of path.split('.').slice(0, -1)) {
    node.properties ??= {};
    node = node.properties[part] ??= { type: 'object', properties: {} };
  }
  node.properties ??= {};
  return node;
}

const DEFAULT_LIMITS: Record<MediaKind, MediaLimits> = {
  image: { kind: 'image', formats: ['jpeg', 'png', 'webp'], maxBytes: 20 * 1024 * 1024 },
  video: { kind: 'video', formats: ['mp4', 'mov'], maxBytes: 100 * 1024 * 1024 },
  audio: { kind: 'audio', formats: ['wav', 'mp3'], maxBytes: 15 * 1024 * 1024 },
};

/** A media field's kind from its name: `video_url`, `refer_images[].image_url`, `mask_url` (a mask is an image). */
export function mediaKindOf(path: string): MediaKind {
  const name = path.split('.').at(-1)!;
  if (/video/.test(name)) return 'video';
  if (/audio|voice/.test(path)) return 'audio';
  return 'image';
}

/** The media URLs of a body, walking it along its schema: `image_urls[1]`, `model_params.element_image_list.frontal_image`. */
function collectMedia(schema: JsonSchema, value: unknown, entry: CatalogEntry, path: string, key: string, out: MediaNeed[]): void {
  if (value === undefined || value === null) return;
  const role = roleOf(entry, key);
  if (schema.type === 'string' && typeof value === 'string' && (schema.format === 'uri' || role === 'inline-media')) {
    if (role !== 'media' && role !== 'inline-media') return;
    const limits = entry.media?.[key] ?? DEFAULT_LIMITS[mediaKindOf(key)];
    const inline = role === 'inline-media' ? inlinePayload(value) : undefined;
    // An inline picture is decoded at ingest; its url only says where it came from.
    out.push(inline === undefined ? { field: path, url: value, limits } : { field: path, url: `data:inline;field=${path}`, limits, inline: inline.replace(/\s+/g, '') });
  } else if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    value.forEach((item, i) => collectMedia(schema.items!, item, entry, `${path}[${i}]`, key, out));
  } else if (schema.type === 'object' && typeof value === 'object') {
    for (const [name, item] of Object.entries(value as Body)) {
      const child = schema.properties?.[name] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      const childKey = schema.properties?.[name] ? name : '*';
      if (child) collectMedia(child, item, entry, path ? `${path}.${name}` : name, key ? `${key}.${childKey}` : childKey, out);
    }
  }
}

function roleOf(entry: CatalogEntry, key: string): FieldRole {
  if (key === 'callback_url') return 'callback';
  if (entry.inline?.includes(key)) return 'inline-media';
  return entry.links?.includes(key) ? 'link' : 'media';
}

/** The body again from a normalized request: its parameters with each medium put back at its field. */
export function bodyOf(request: Pick<NormalizedRequest, 'params' | 'media'>): Body {
  const body = structuredClone(request.params);
  for (const need of request.media) setAtPath(body, need.field, need.url);
  return body;
}

/** Sets `value` at a field path such as `image_urls[1]` or `model_params.element_image_list.refer_images[0].image_url`. */
export function setAtPath(target: Body, path: string, value: unknown): void {
  const keys = path.split(/\.|\[(\d+)\]/).filter((part) => part !== undefined && part !== '').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  let node = target as Record<string | number, unknown>;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) node[key] = value;
    else node = (node[key] ??= typeof keys[i + 1] === 'number' ? [] : {}) as Record<string | number, unknown>;
  });
}

const VISUAL_FIELDS = ['image_start', 'image_urls[0]', 'video_urls[0]', 'video_url', 'image_end', 'model_params.element_image_list.frontal_image'];

/** Output width ÷ height: the request's ratio, else the first picture's or clip's, else the entry's default. */
function outputRatio(entry: CatalogEntry, params: Body, media: MediaByField): number {
  const asked = typeof params.aspect_ratio === 'string' ? ratioValue(params.aspect_ratio) : undefined;
  if (asked) return asked;
  const visual = VISUAL_FIELDS.map((field) => media[field]).find((info) => info?.width && info.height);
  return visual ? visual.width! / visual.height! : (entry.defaultRatio ?? 16 / 9);
}

/** Input seconds billed: the entry's rule, or none. */
const inputSecondsOf = (entry: CatalogEntry, media: MediaByField) => entry.inputSeconds?.(media) ?? 0;

function outputSize(entry: CatalogEntry, quality: string, params: Body, media: MediaByField): { width: number; height: number } {
  if (entry.preview === 'upscale') {
    const source = media['video_urls[0]'];
    const factor = Number(((params.model_params ?? {}) as Body).upscale_factor ?? 2);
    // The preview stops at 4K on its long edge; the model itself goes up to 4× the input.
    const scale = Math.min(factor, 3840 / Math.max(source.width!, source.height!));
    return { width: 2 * Math.round((source.width! * scale) / 2), height: 2 * Math.round((source.height! * scale) / 2) };
  }
  return frameSize(quality, outputRatio(entry, params, media));
}

/** Whether the output has sound: the model's own rule, else its audio flags. */
function soundOf(entry: CatalogEntry, params: Body): boolean {
  if (entry.sound) return entry.sound(params);
  if (typeof params.generate_audio === 'boolean') return params.generate_audio;
  return true;
}

/** One catalog entry as a ModelSpec: the file's schema, the prose's rules, and the family's output and billing rules. */
export function catalogSpec(entry: CatalogEntry): ModelSpec & { preview: CatalogPreview; pricing: CatalogPricing } {
  const jsonSchema = entrySchema(entry);
  const schema = (zodFromJsonSchema(jsonSchema, { uriRole: (path) => roleOf(entry, path.replace(/\[\]/g, '')) }) as z.ZodObject).meta({ id: requestSchemaId(entry.id) });
  const seconds = (params: Body, media: MediaByField) => entry.duration?.(params, media) ?? { seconds: Number(params.duration ?? 5) };
  const spec = defineModel({
    id: entry.id,
    owned_by: FAMILY_OWNER[entry.family],
    family: entry.family,
    kind: entry.kind,
    schema,
    relaysParamsOnly: true,
    normalize(parsed) {
      const body = structuredClone(parsed) as Body;
      if (entry.truncate) truncatePrompt(body, entry.truncate.max, entry.truncate.chinese);
      entry.check?.(body);
      const media: MediaNeed[] = [];
      collectMedia(jsonSchema, body, entry, '', '', media);
      const params: Body = {};
      for (const [name, value] of Object.entries(body)) {
        const isMedia = media.some((need) => need.field === name || need.field.startsWith(`${name}[`));
        if (!isMedia && name !== 'model' && name !== 'callback_url') params[name] = value;
      }
      return {
        model: entry.id,
        quality: typeof body.quality === 'string' ? body.quality : (entry.quality ?? '720p'),
        seed: typeof body.seed === 'number' && body.seed >= 1 && body.seed <= 2_147_483_647 ? body.seed : undefined,
        callback_url: body.callback_url as string | undefined,
        params,
        media,
      } as NormalizedRequest;
    },
    plan(request, media: Record<string, MediaInfo>) {
      const body = bodyOf(request);
      entry.checkMedia?.(body, media);
      const length = seconds(body, media);
      const size = outputSize(entry, request.quality, body, media);
      const output = { ...size, fps: FAMILY_FPS[entry.family], aspect_ratio: `${size.width}:${size.height}`, duration_sec: length.seconds };
      const billed = (length.reserve ?? length.seconds) + inputSecondsOf(entry, media);
      return { output, video_duration: Math.max(1, Math.round(length.seconds)), billed_seconds: Math.ceil(billed) };
    },
  });
  const preview: CatalogPreview = {
    kind: entry.preview,
    sound: (params) => soundOf(entry, params),
    settledSeconds: (_params, outputSeconds, inputs) => Math.ceil(outputSeconds + inputSecondsOf(entry, inputs)),
  };
  const quality = jsonSchema.properties?.quality;
  const duration = jsonSchema.properties?.duration;
  const pricing: CatalogPricing = {
    rule: entry.billing,
    qualities: quality?.enum?.map(String) ?? [entry.quality ?? '720p'],
    defaultSeconds: typeof duration?.default === 'number' && duration.default > 0 ? duration.default : 5,
  };
  return { ...spec, preview, pricing };
}

/** What the default price of a catalog model is computed from (billing/catalog-prices.ts). */
export type CatalogPricing = { rule: CatalogEntry['billing']; qualities: string[]; defaultSeconds: number };

/** `seedance-2.0-text-to-video` → `Seedance20TextToVideoRequest` (the OpenAPI component name). */
export function requestSchemaId(id: string): string {
  return `${id.split(/[^A-Za-z0-9]+/).map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('')}Request`;
}
