import { z } from 'zod';

/**
 * What the fake Model Studio takes for each model, field by field, from UPSTREAMS.md §1.5 and
 * UPSTREAMS-2.md §2: strict objects, so a field the real service does not know (or one in the
 * wrong place) is refused as it would be, with InvalidParameter.
 */
const url = z.string().regex(/^(https?|oss):\/\//);
const seed = z.int().min(0).max(2_147_483_647).optional();
const watermark = z.boolean().optional();
const tierOf = (...tiers: string[]) => z.enum(tiers as [string, ...string[]]);
const RATIOS = z.enum(['16:9', '9:16', '1:1', '4:3', '3:4']);
const SIZES_25 = ['832*480', '480*832', '624*624'];
const SIZES_720_1080 = ['1280*720', '720*1280', '960*960', '1088*832', '832*1088', '1920*1080', '1080*1920', '1440*1440', '1632*1248', '1248*1632'];
const media = (types: Record<string, number>) =>
  z.array(z.strictObject({ type: z.enum(Object.keys(types) as [string, ...string[]]), url })).superRefine((items, context) => {
    for (const [type, max] of Object.entries(types)) {
      if (items.filter((item) => item.type === type).length > max) context.addIssue({ code: 'custom', message: `at most ${max} ${type}` });
    }
  });
const body = (model: string, input: z.ZodRawShape, parameters: z.ZodRawShape) =>
  z.strictObject({ model: z.literal(model), input: z.strictObject(input), parameters: z.strictObject(parameters).optional() });

const prompt = z.string().optional();
const flatText = (model: string, sizes: string[], durations: z.ZodType) => body(model, { prompt, negative_prompt: prompt, audio_url: url.optional() }, {
  size: z.enum(sizes as [string, ...string[]]).optional(), duration: durations.optional(), prompt_extend: z.boolean().optional(), shot_type: z.enum(['single', 'multi']).optional(),
  audio: z.boolean().optional(), watermark, seed,
});
const flatImage = (model: string, tiers: string[], durations: z.ZodType) => body(model, { prompt, negative_prompt: prompt, img_url: url, audio_url: url.optional() }, {
  resolution: tierOf(...tiers).optional(), duration: durations.optional(), prompt_extend: z.boolean().optional(), shot_type: z.enum(['single', 'multi']).optional(),
  audio: z.boolean().optional(), watermark, seed,
});
const flatReferences = (model: string) => body(model, { prompt, negative_prompt: prompt, reference_urls: z.array(url).min(1).max(5).optional(), reference_video_urls: z.array(url).min(1).max(3).optional() }, {
  size: z.enum(SIZES_720_1080 as [string, ...string[]]).optional(), duration: z.int().min(2).max(10).optional(), shot_type: z.enum(['single', 'multi']).optional(),
  audio: z.boolean().optional(), watermark, seed,
});
const happyhorse = (version: string) => ({
  [`happyhorse-${version}-t2v`]: body(`happyhorse-${version}-t2v`, { prompt: z.string() }, { resolution: tierOf('720P', '1080P').optional(), ratio: RATIOS.optional(), duration: z.int().min(3).max(15).optional(), watermark, seed }),
  [`happyhorse-${version}-i2v`]: body(`happyhorse-${version}-i2v`, { prompt, media: media({ first_frame: 1 }) }, { resolution: tierOf('720P', '1080P').optional(), duration: z.int().min(3).max(15).optional(), watermark, seed }),
  [`happyhorse-${version}-r2v`]: body(`happyhorse-${version}-r2v`, { prompt: z.string(), media: media({ reference_image: 9 }) }, { resolution: tierOf('720P', '1080P').optional(), ratio: RATIOS.optional(), duration: z.int().min(3).max(15).optional(), watermark, seed }),
});

export const DASHSCOPE_MODELS: Record<string, z.ZodType> = {
  'wan2.7-t2v': body('wan2.7-t2v', { prompt: z.string(), negative_prompt: prompt, audio_url: url.optional() }, {
    resolution: tierOf('720P', '1080P').optional(), ratio: RATIOS.optional(), duration: z.int().min(2).max(15).optional(), prompt_extend: z.boolean().optional(), watermark, seed,
  }),
  'wan2.7-i2v': body('wan2.7-i2v', { prompt, negative_prompt: prompt, media: media({ first_frame: 1, last_frame: 1, driving_audio: 1, first_clip: 1 }) }, {
    resolution: tierOf('720P', '1080P').optional(), duration: z.int().min(2).max(15).optional(), prompt_extend: z.boolean().optional(), watermark, seed,
  }),
  'wan2.7-videoedit': body('wan2.7-videoedit', { prompt, negative_prompt: prompt, media: media({ video: 1, reference_image: 4 }) }, {
    resolution: tierOf('720P', '1080P').optional(), ratio: RATIOS.optional(), duration: z.int().min(0).max(10).optional(), audio_setting: z.enum(['auto', 'origin']).optional(),
    prompt_extend: z.boolean().optional(), watermark, seed,
  }),
  'wan2.7-r2v': body('wan2.7-r2v', { prompt: z.string(), negative_prompt: prompt, media: media({ first_frame: 1, reference_image: 5, reference_video: 5 }) }, {
    resolution: tierOf('720P', '1080P').optional(), ratio: RATIOS.optional(), duration: z.int().min(2).max(15).optional(), prompt_extend: z.boolean().optional(), watermark, seed,
  }),
  'happyhorse-1.0-video-edit': body('happyhorse-1.0-video-edit', { prompt: z.string(), media: media({ video: 1, reference_image: 5 }) }, {
    resolution: tierOf('720P', '1080P').optional(), audio_setting: z.enum(['auto', 'origin']).optional(), watermark, seed,
  }),
  'wan2.5-t2v-preview': flatText('wan2.5-t2v-preview', [...SIZES_25, ...SIZES_720_1080], z.union([z.literal(5), z.literal(10)])),
  'wan2.5-i2v-preview': flatImage('wan2.5-i2v-preview', ['480P', '720P', '1080P'], z.union([z.literal(5), z.literal(10)])),
  'wan2.6-t2v': flatText('wan2.6-t2v', SIZES_720_1080, z.int().min(2).max(15)),
  'wan2.6-i2v': flatImage('wan2.6-i2v', ['720P', '1080P'], z.int().min(2).max(15)),
  'wan2.6-i2v-flash': flatImage('wan2.6-i2v-flash', ['720P', '1080P'], z.int().min(2).max(15)),
  'wan2.6-r2v': flatReferences('wan2.6-r2v'),
  'wan2.6-r2v-flash': flatReferences('wan2.6-r2v-flash'),
  'wan3.0-video': body('wan3.0-video', { prompt, media: media({ first_frame: 1, last_frame: 1, reference_image: 10, reference_video: 5, reference_audio: 5, file: 1, link: 1 }).optional() }, {
    resolution: tierOf('480P', '720P', '1080P').optional(), ratio: RATIOS.optional(), duration: z.int().min(2).max(30).optional(), watermark, seed,
  }).superRefine((value, context) => {
    const types = new Set(((value.input as { media?: { type: string }[] }).media ?? []).map((m) => m.type));
    const frames = types.has('first_frame') || types.has('last_frame');
    if (frames && [...types].some((t) => !t.endsWith('_frame'))) context.addIssue({ code: 'custom', message: 'frames and references cannot be mixed' });
    if (types.has('file') && types.has('link')) context.addIssue({ code: 'custom', message: 'file and link cannot both be given' });
  }),
  ...happyhorse('1.0'),
  ...happyhorse('1.1'),
};

/** Model Studio's answer to a body its model does not take, or undefined when it takes it. */
export function refusal(body: { model?: unknown }): { code: string; message: string } | undefined {
  const schema = DASHSCOPE_MODELS[String(body.model)];
  if (!schema) return { code: 'InvalidParameter', message: `Model not exist: ${String(body.model)}` };
  const parsed = schema.safeParse(body);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  const where = issue.path.join('.');
  const message = issue.code === 'unrecognized_keys' ? `Unrecognized field ${where ? `${where}.` : ''}${issue.keys.join(', ')}` : `${where}: ${issue.message}`;
  return { code: 'InvalidParameter', message };
}
