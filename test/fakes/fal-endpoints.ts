import { z } from 'zod';

/**
 * What the fake fal takes at each endpoint, field by field (UPSTREAMS.md §5.3, UPSTREAMS-2.md
 * §3.2): strict objects, so a field the endpoint does not know, or a value of the wrong JSON type
 * (fal's string durations), is refused with 422 as fal's validation does.
 */
const url = z.string().regex(/^https?:\/\//);
const urls = z.array(url).min(1);
const seed = z.int().optional();
const text = z.string();
const opt = <T extends z.ZodType>(schema: T) => schema.optional();
const strings = (...values: string[]) => z.enum(values as [string, ...string[]]);
const range = (min: number, max: number) => Array.from({ length: max - min + 1 }, (_, i) => String(min + i));
const RATIOS_5 = strings('16:9', '9:16', '1:1', '4:3', '3:4');
const shots = z.array(z.strictObject({ prompt: text, duration: z.string() })).min(1).max(6);

const wan27Text = z.strictObject({ prompt: text, negative_prompt: opt(text), audio_url: opt(url), resolution: opt(strings('720p', '1080p')), aspect_ratio: opt(RATIOS_5), duration: opt(z.int()), enable_prompt_expansion: opt(z.boolean()), seed });
const wan27Image = z.strictObject({ prompt: opt(text), negative_prompt: opt(text), image_url: opt(url), end_image_url: opt(url), video_url: opt(url), audio_url: opt(url), resolution: opt(strings('720p', '1080p')), duration: opt(z.int()), enable_prompt_expansion: opt(z.boolean()), seed });
const happyhorse = (ratios: z.ZodType, media: z.ZodRawShape) => z.strictObject({ prompt: opt(text), duration: opt(z.int().min(3).max(15)), resolution: opt(strings('720p', '1080p')), aspect_ratio: opt(ratios), seed, enable_safety_checker: opt(z.boolean()), ...media });
const HH11_RATIOS = strings('16:9', '9:16', '1:1', '4:3', '3:4', '21:9', '9:21', '5:4', '4:5');
const seedance2 = (qualities: string[], media: z.ZodRawShape) => z.strictObject({
  prompt: text, duration: opt(strings('auto', ...range(4, 15))), resolution: opt(strings(...qualities)), aspect_ratio: opt(strings('auto', '21:9', '16:9', '4:3', '1:1', '3:4', '9:16')),
  generate_audio: opt(z.boolean()), bitrate_mode: opt(strings('standard', 'high')), end_user_id: opt(text), ...media,
});
const seedance1 = (durations: string[], media: z.ZodRawShape, audio: boolean) => z.strictObject({
  prompt: text, duration: opt(strings(...durations)), resolution: opt(strings('480p', '720p', '1080p')), aspect_ratio: opt(text), camera_fixed: opt(z.boolean()), seed,
  enable_safety_checker: opt(z.boolean()), ...(audio ? { generate_audio: opt(z.boolean()) } : {}), ...media,
});
const klingText = (extra: z.ZodRawShape = {}) => z.strictObject({
  prompt: opt(text), multi_prompt: opt(shots), duration: opt(strings(...range(3, 15))), aspect_ratio: opt(strings('16:9', '9:16', '1:1')), generate_audio: opt(z.boolean()),
  shot_type: opt(strings('customize', 'intelligent')), ...extra,
});
const klingV3 = { negative_prompt: opt(text), cfg_scale: opt(z.number()) };
const klingEdit = z.strictObject({ prompt: opt(text), video_url: url, image_urls: opt(urls), elements: opt(z.array(z.unknown())), keep_audio: opt(z.boolean()) });
const hailuo = (standard: boolean, image: boolean) => z.strictObject({
  prompt: opt(text), prompt_optimizer: opt(z.boolean()), ...(standard ? { duration: opt(strings('6', '10')) } : {}),
  ...(image ? { image_url: url, end_image_url: opt(url), ...(standard ? { resolution: opt(strings('512P', '768P')) } : {}) } : {}),
});
const veo = (media: z.ZodRawShape, ratios: z.ZodType) => z.strictObject({
  prompt: text, duration: opt(strings('4s', '6s', '8s')), resolution: opt(strings('720p', '1080p', '4k')), aspect_ratio: opt(ratios), generate_audio: opt(z.boolean()),
  negative_prompt: opt(text), seed, auto_fix: opt(z.boolean()), safety_tolerance: opt(strings(...range(1, 6))), ...media,
});
const grok = (media: z.ZodRawShape, ratios: string[]) => z.strictObject({
  prompt: text, duration: opt(z.int()), resolution: opt(strings('480p', '720p')), aspect_ratio: opt(strings(...ratios)), ...media,
});
const GROK_RATIOS = ['16:9', '4:3', '3:2', '1:1', '2:3', '3:4', '9:16'];

/** Each endpoint (a pattern over its id) and the input it takes. */
export const FAL_ENDPOINT_INPUTS: [RegExp, z.ZodType][] = [
  [/^fal-ai\/wan\/v2\.7\/text-to-video$/, wan27Text],
  [/^fal-ai\/wan\/v2\.7\/image-to-video$/, wan27Image],
  [/^fal-ai\/wan\/v2\.7\/edit-video$/, z.strictObject({ prompt: opt(text), video_url: url, reference_image_url: opt(url), resolution: opt(strings('720p', '1080p')), aspect_ratio: opt(RATIOS_5), duration: opt(z.int().min(0).max(10)), audio_setting: opt(strings('auto', 'origin')), seed })],
  [/^alibaba\/happy-horse\/video-edit$/, z.strictObject({ prompt: text, video_url: url, reference_image_urls: opt(urls), resolution: opt(strings('720p', '1080p')), audio_setting: opt(strings('auto', 'origin')), seed })],
  [/^fal-ai\/wan-25-preview\/text-to-video$/, z.strictObject({ prompt: text, negative_prompt: opt(text), audio_url: opt(url), duration: opt(strings('5', '10')), resolution: opt(strings('480p', '720p', '1080p')), aspect_ratio: opt(strings('16:9', '9:16', '1:1')), enable_prompt_expansion: opt(z.boolean()), seed })],
  [/^fal-ai\/wan-25-preview\/image-to-video$/, z.strictObject({ prompt: text, negative_prompt: opt(text), audio_url: opt(url), image_url: url, duration: opt(strings('5', '10')), resolution: opt(strings('480p', '720p', '1080p')), enable_prompt_expansion: opt(z.boolean()), seed })],
  [/^wan\/v2\.6\/image-to-video(\/flash)?$/, z.strictObject({ prompt: text, negative_prompt: opt(text), image_url: url, audio_url: opt(url), duration: opt(strings('5', '10', '15')), resolution: opt(strings('720p', '1080p')), multi_shots: opt(z.boolean()), enable_prompt_expansion: opt(z.boolean()), seed, generate_audio: opt(z.boolean()) })],
  [/^wan\/v2\.6\/reference-to-video(\/flash)?$/, z.strictObject({ prompt: text, negative_prompt: opt(text), video_urls: opt(urls), image_urls: opt(urls), duration: opt(strings('5', '10')), resolution: opt(strings('720p', '1080p')), multi_shots: opt(z.boolean()), enable_prompt_expansion: opt(z.boolean()), seed, aspect_ratio: opt(RATIOS_5), generate_audio: opt(z.boolean()) })],
  [/^alibaba\/happy-horse\/text-to-video$/, happyhorse(RATIOS_5, {})],
  [/^alibaba\/happy-horse\/image-to-video$/, happyhorse(RATIOS_5, { image_url: url })],
  [/^alibaba\/happy-horse\/reference-to-video$/, happyhorse(RATIOS_5, { image_urls: urls })],
  [/^alibaba\/happy-horse\/v1\.1\/text-to-video$/, happyhorse(HH11_RATIOS, {})],
  [/^alibaba\/happy-horse\/v1\.1\/image-to-video$/, happyhorse(HH11_RATIOS, { image_url: url })],
  [/^alibaba\/happy-horse\/v1\.1\/reference-to-video$/, happyhorse(HH11_RATIOS, { image_urls: urls })],
  [/^bytedance\/seedance-2\.0\/text-to-video$/, seedance2(['480p', '720p', '1080p', '4k'], {})],
  [/^bytedance\/seedance-2\.0\/image-to-video$/, seedance2(['480p', '720p', '1080p', '4k'], { image_url: url, end_image_url: opt(url) })],
  [/^bytedance\/seedance-2\.0\/reference-to-video$/, seedance2(['480p', '720p', '1080p', '4k'], { image_urls: opt(urls), video_urls: opt(urls), audio_urls: opt(urls) })],
  [/^bytedance\/seedance-2\.0\/(fast|mini)\/text-to-video$/, seedance2(['480p', '720p'], {})],
  [/^bytedance\/seedance-2\.0\/(fast|mini)\/image-to-video$/, seedance2(['480p', '720p'], { image_url: url, end_image_url: opt(url) })],
  [/^bytedance\/seedance-2\.0\/(fast|mini)\/reference-to-video$/, seedance2(['480p', '720p'], { image_urls: opt(urls), video_urls: opt(urls), audio_urls: opt(urls) })],
  [/^fal-ai\/bytedance\/seedance\/v1\.5\/pro\/text-to-video$/, seedance1(range(4, 12), {}, true)],
  [/^fal-ai\/bytedance\/seedance\/v1\.5\/pro\/image-to-video$/, seedance1(range(4, 12), { image_url: url, end_image_url: opt(url) }, true)],
  [/^fal-ai\/bytedance\/seedance\/v1\/pro\/fast\/text-to-video$/, seedance1(range(2, 12), {}, false)],
  [/^fal-ai\/bytedance\/seedance\/v1\/pro\/fast\/image-to-video$/, seedance1(range(2, 12), { image_url: url }, false)],
  [/^fal-ai\/kling-video\/o1\/image-to-video$/, z.strictObject({ prompt: text, start_image_url: url, end_image_url: opt(url), duration: opt(strings(...range(3, 10))) })],
  [/^fal-ai\/kling-video\/o1\/(standard\/)?video-to-video\/edit$/, klingEdit],
  [/^fal-ai\/kling-video\/o3\/(standard|pro)\/video-to-video\/edit$/, klingEdit],
  [/^fal-ai\/kling-video\/o3\/(standard|pro|4k)\/text-to-video$/, klingText()],
  [/^fal-ai\/kling-video\/o3\/(standard|pro|4k)\/image-to-video$/, klingText({ image_url: url, end_image_url: opt(url) }).omit({ aspect_ratio: true })],
  [/^fal-ai\/kling-video\/v3\/(standard|pro|4k|turbo\/standard|turbo\/pro)\/text-to-video$/, klingText(klingV3)],
  [/^fal-ai\/kling-video\/v3\/(standard|pro|4k|turbo\/standard|turbo\/pro)\/image-to-video$/, klingText({ ...klingV3, start_image_url: url, end_image_url: opt(url), elements: opt(z.array(z.unknown())) }).omit({ aspect_ratio: true })],
  [/^fal-ai\/minimax\/hailuo-(02|2\.3)\/standard\/text-to-video$/, hailuo(true, false)],
  [/^fal-ai\/minimax\/hailuo-(02|2\.3)\/pro\/text-to-video$/, hailuo(false, false)],
  [/^fal-ai\/minimax\/hailuo-(02|2\.3|2\.3-fast)\/standard\/image-to-video$/, hailuo(true, true)],
  [/^fal-ai\/minimax\/hailuo-(02|2\.3|2\.3-fast)\/pro\/image-to-video$/, hailuo(false, true)],
  [/^fal-ai\/veo3\.1(\/fast)?$/, veo({}, strings('16:9', '9:16'))],
  [/^fal-ai\/veo3\.1(\/fast)?\/image-to-video$/, veo({ image_url: url }, strings('auto', '16:9', '9:16'))],
  [/^fal-ai\/veo3\.1(\/fast)?\/first-last-frame-to-video$/, veo({ first_frame_url: url, last_frame_url: url }, strings('auto', '16:9', '9:16'))],
  [/^fal-ai\/veo3\.1(\/fast)?\/reference-to-video$/, veo({ image_urls: urls }, strings('16:9', '9:16'))],
  [/^xai\/grok-imagine-video\/text-to-video$/, grok({}, GROK_RATIOS)],
  [/^xai\/grok-imagine-video\/image-to-video$/, grok({ image_url: url }, ['auto', ...GROK_RATIOS])],
  [/^xai\/grok-imagine-video\/reference-to-video$/, grok({ reference_image_urls: urls }, GROK_RATIOS)],
];

/** fal's 422 detail for an input its endpoint does not take, or undefined when it takes it (404 for an endpoint fal does not have). */
export function falRefusal(endpoint: string, input: unknown): { status: number; detail: unknown } | undefined {
  const schema = FAL_ENDPOINT_INPUTS.find(([pattern]) => pattern.test(endpoint))?.[1];
  if (!schema) return { status: 404, detail: `Application '${endpoint}' not found` };
  const parsed = schema.safeParse(input);
  if (parsed.success) return undefined;
  return { status: 422, detail: parsed.error.issues.map((issue) => ({ loc: ['body', ...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])], msg: issue.message, type: issue.code })) };
}
