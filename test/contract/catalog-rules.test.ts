import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/contract/errors.ts';
import { fieldName } from '../../src/http/error-handler.ts';
import { generationRequestSchema, modelSpec } from '../../src/contract/models/index.ts';

/**
 * The rules CATALOG.md §1.3 finds only in the prose (enums, defaults, cross-field rules,
 * strictness): the stricter of prose and schema holds (CONTRACT §9.1). The file-driven test
 * cannot see these, so each is stated here with a request that breaks it.
 */
const IMG = (i = 0) => `https://media.example/${i}.png`;
const CLIP = 'https://media.example/c.mp4';

function outcome(body: Record<string, unknown>): { ok: true; params: Record<string, unknown>; quality: string } | { ok: false; field: string; message: string } {
  const parsed = generationRequestSchema.safeParse(body);
  if (!parsed.success) return { ok: false, field: fieldName(parsed.error.issues[0].path), message: parsed.error.issues[0].message };
  try {
    const request = modelSpec(String(body.model)).normalize(parsed.data as never);
    return { ok: true, params: request.params, quality: request.quality };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { ok: false, field: error.message.slice(0, error.message.indexOf(':')), message: error.message };
  }
}

const REFUSED: [string, Record<string, unknown>, string, RegExp][] = [
  ['wan2.5: duration is 5 or 10', { model: 'wan2.5-text-to-video', prompt: 'x', duration: 7 }, 'duration', /one of 5, 10/],
  ['wan2.5: 4:3 is not a 480p ratio', { model: 'wan2.5-text-to-video', prompt: 'x', quality: '480p', aspect_ratio: '4:3' }, 'aspect_ratio', /at 480p/],
  ['wan2.6: quality is 720p or 1080p', { model: 'wan2.6-text-to-video', prompt: 'x', quality: '480p' }, 'quality', /"720p", "1080p"/],
  ['wan2.6 references: at least one clip', { model: 'wan2.6-reference-video', prompt: 'x', video_urls: [] }, 'video_urls', /at least 1/],
  ['wan2.7 references: at most 5 together', { model: 'wan2.7-reference-video', prompt: 'x', image_urls: [IMG(1), IMG(2), IMG(3)], video_urls: [CLIP, CLIP, CLIP] }, 'image_urls', /at most 5/],
  ['wan2.7 references: image_start alone is not enough', { model: 'wan2.7-reference-video', prompt: 'x', image_start: IMG() }, 'image_urls', /image_start alone/],
  ['wan2.7 references: ≤10 s with a clip', { model: 'wan2.7-reference-video', prompt: 'x', video_urls: [CLIP], duration: 12 }, 'duration', /at most 10/],
  ['wan2.7 references: voice key grammar', { model: 'wan2.7-reference-video', prompt: 'x', image_urls: [IMG()], model_params: { voice_bindings: { img1: 'https://media.example/v.wav' } } }, 'model_params.voice_bindings.img1', /key "img1" invalid/],
  ['wan2.7 references: voice out of range', { model: 'wan2.7-reference-video', prompt: 'x', image_urls: [IMG()], model_params: { voice_bindings: { image2: 'https://media.example/v.wav' } } }, 'model_params.voice_bindings.image2', /out of range/],
  ['wan3.0: 2–30 or −1', { model: 'wan3.0-text-to-video', prompt: 'x', duration: 1 }, 'duration', /-1, or an integer from 2 to 30/],
  ['wan3.0: file or link, not both', { model: 'wan3.0-reference-video', model_params: { file_url: 'https://docs.example/a.pdf', link_url: 'https://docs.example/' } }, 'model_params.link_url', /not both/],
  ['wan3.0: a prompt or some material', { model: 'wan3.0-reference-video' }, 'prompt', /no reference material/],
  ['wan3.0: a last frame needs a first', { model: 'wan3.0-image-to-video', image_end: IMG() }, 'image_start', /required/],
  ['seedance 1.0: adaptive needs an image', { model: 'doubao-seedance-1.0-pro-fast', prompt: 'x', aspect_ratio: 'keep_ratio' }, 'aspect_ratio', /needs an image/],
  ['seedance 2.0: audio never alone', { model: 'seedance-2.0-reference-to-video', prompt: 'x', audio_urls: ['https://media.example/a.wav'] }, 'audio_urls', /only reference/],
  ['seedance 2.0 fast: no 1080p yet', { model: 'seedance-2.0-fast-text-to-video', prompt: 'x', quality: '1080p' }, 'quality', /"480p", "720p"/],
  ['seedance 2.5: 4–30 or −1', { model: 'seedance-2.5-text-to-video', prompt: 'x', duration: 3 }, 'duration', /-1, or an integer from 4 to 30/],
  ['seedance 2.5 references: one of three', { model: 'seedance-2.5-reference-to-video', prompt: 'x' }, 'image_urls', /reference is required/],
  ['kling: multi-shot durations add up', { model: 'kling-v3-text-to-video', duration: 5, model_params: { multi_shot: true, shot_type: 'customize', multi_prompt: [{ index: 1, prompt: 'a', duration: '2' }] } }, 'model_params.multi_prompt', /add up to 2 s/],
  ['kling: shot durations are strings', { model: 'kling-o3-text-to-video', duration: 3, model_params: { multi_shot: true, shot_type: 'customize', multi_prompt: [{ index: 1, prompt: 'a', duration: 3 }] } }, 'model_params.multi_prompt[0].duration', /string/],
  ['kling: a prompt unless custom shots', { model: 'kling-v3-text-to-video', duration: 5 }, 'prompt', /unless model_params.multi_shot/],
  ['kling o3 i2v: a last frame needs a first', { model: 'kling-o3-image-to-video', prompt: 'x', image_end: IMG() }, 'image_end', /needs image_start/],
  ['kling o3 r2v: images and elements ≤4 with a clip', { model: 'kling-o3-reference-to-video', prompt: 'x', video_url: CLIP, image_urls: [IMG(1), IMG(2), IMG(3)], model_params: { element_list: [{ element_id: 'a' }, { element_id: 'b' }] } }, 'image_urls', /at most 4/],
  ['kling o3 edit: the clip to edit is required', { model: 'kling-o3-video-edit', prompt: 'x' }, 'video_url', /required/],
  ['kling motion: one image', { model: 'kling-v3-motion-control', image_urls: [IMG(1), IMG(2)], video_urls: [CLIP], model_params: { character_orientation: 'image' } }, 'image_urls', /exactly 1/],
  ['kling motion: elements need orientation video', { model: 'kling-v3-motion-control', image_urls: [IMG()], video_urls: [CLIP], model_params: { character_orientation: 'image', element_list: [{ element_id: 'a' }] } }, 'model_params.character_orientation', /"video"/],
  ['kling element: the list its type needs', { model: 'kling-custom-element', model_params: { element_name: 'a', element_description: 'b', reference_type: 'video_refer' } }, 'model_params.element_video_list', /required/],
  ['hailuo: 1080p only at 6 s', { model: 'MiniMax-Hailuo-02', prompt: 'x', quality: '1080p', duration: 10 }, 'duration', /6 at 1080p/],
  ['hailuo: 512p only from an image', { model: 'MiniMax-Hailuo-02', prompt: 'x', quality: '512p' }, 'quality', /needs an image/],
  ['minimax h3: unknown fields are refused', { model: 'minimax-h3-text-to-video', prompt: 'x', image_urls: [IMG()] }, 'image_urls', /not a field this model takes/],
  ['minimax h3 i2v: a first or a last frame', { model: 'minimax-h3-image-to-video', prompt: 'x' }, 'image_start', /at least one of image_start, image_end/],
  ['veo: TEXT takes no images', { model: 'veo-3.1-generate-preview', prompt: 'x', generation_type: 'TEXT', image_urls: [IMG()] }, 'image_urls', /"TEXT"/],
  ['veo: REFERENCE is 16:9', { model: 'veo3.1-fast-beta', prompt: 'x', generation_type: 'REFERENCE', image_urls: [IMG()], aspect_ratio: '9:16' }, 'aspect_ratio', /"16:9"/],
  ['veo preview: 4, 6 or 8 s', { model: 'veo-3.1-fast-generate-preview', prompt: 'x', duration: 5 }, 'duration', /one of 4, 6, 8/],
  ['sora: 4, 8 or 12 s', { model: 'sora-2-pro-preview', prompt: 'x', duration: 5 }, 'duration', /one of 4, 8, 12/],
  ['grok 1.0 t2v: no images', { model: 'grok-imagine-video-1.0-t2v', prompt: 'x', image_urls: [IMG()] }, 'image_urls', /at most 0/],
  ['grok 1.5: 1080p takes one image', { model: 'grok-imagine-video-1.5-preview', prompt: 'x', quality: '1080p', image_urls: [IMG(1), IMG(2)] }, 'quality', /at most 1 image/],
  ['grok 1.5: prompt ≤4096', { model: 'grok-imagine-video-1.5-preview', prompt: 'x'.repeat(4097) }, 'prompt', /at most 4096/],
  ['gemini i2v: the image is required', { model: 'gemini-omni-flash-image-to-video', prompt: 'x' }, 'image_urls', /required/],
  ['topaz: the factor is a documented string', { model: 'topaz-video-upscale', video_urls: [CLIP], model_params: { upscale_factor: '3' } }, 'model_params.upscale_factor', /"1", "2", "4"/],
];

describe('catalog rules from the prose', () => {
  for (const [name, body, field, message] of REFUSED) {
    it(`refuses: ${name}`, () => {
      const result = outcome(body);
      assert.equal(result.ok, false, `accepted ${JSON.stringify(body).slice(0, 200)}`);
      if (result.ok) return;
      if (field) assert.equal(result.field, field, result.message);
      assert.match(result.message, message);
    });
  }

  it('fills the defaults the prose gives and the schema does not', () => {
    const wan26 = outcome({ model: 'wan2.6-text-to-video', prompt: 'x' });
    assert.ok(wan26.ok);
    assert.deepEqual([wan26.quality, wan26.params.aspect_ratio, wan26.params.prompt_extend, wan26.params.duration], ['720p', '16:9', true, 5]);
    const sora = outcome({ model: 'sora-2-preview', prompt: 'x' });
    assert.ok(sora.ok);
    assert.equal(sora.params.duration, 4);
    assert.equal(sora.params.quality, undefined, 'sora-2-preview has no quality field: none is relayed');
    const seedance = outcome({ model: 'doubao-seedance-1.0-pro-fast', prompt: 'x' });
    assert.ok(seedance.ok);
    assert.equal(seedance.quality, '1080p');
  });

  it('cuts long prompts where the model truncates (happyhorse: 2500 with Chinese, else 5000)', () => {
    const latin = outcome({ model: 'happyhorse-1.0-text-to-video', prompt: 'a'.repeat(6000) });
    const chinese = outcome({ model: 'happyhorse-1.0-text-to-video', prompt: '马'.repeat(3000) });
    assert.ok(latin.ok && chinese.ok);
    assert.equal((latin.params.prompt as string).length, 5000);
    assert.equal([...(chinese.params.prompt as string)].length, 2500);
  });

  it('accepts kling multi-shot without a prompt, and the old names through the route', () => {
    assert.ok(outcome({ model: 'kling-o3-text-to-video', duration: 3, model_params: { multi_shot: true, shot_type: 'customize', multi_prompt: [{ index: 1, prompt: 'a', duration: '3' }] } }).ok);
  });
});
