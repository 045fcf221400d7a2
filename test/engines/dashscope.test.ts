import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startFakeDashScope, type FakeDashScope } from '../fakes/dashscope.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { tableResolver } from '../helpers/resolver.ts';
import { channelSchema, resolveChannel } from '../../src/channels/config.ts';
import { DashScopeEngine } from '../../src/engines/dashscope/index.ts';
import { Pacer } from '../../src/engines/pacer.ts';
import type { UpstreamHandle } from '../../src/engines/upstream.ts';
import { AddressPolicy } from '../../src/net/address-policy.ts';
import { OutboundGuard } from '../../src/net/outbound-guard.ts';
import { until, untilAccepted, waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** A channel on a fake DashScope, fast timings for tests. */
function dashscopeChannel(fake: FakeDashScope, extra: Record<string, unknown> = {}) {
  return { name: 'ali', engine: 'dashscope', base_url: fake.baseUrl, api_key_env: 'FAKE_DASHSCOPE_KEY', poll_interval: '100ms', request_timeout: '500ms', ...extra };
}

/** The create body with every oss:// URL swapped back for the media-server URL of the fixture whose bytes it holds. */
function withClientUrls(fake: FakeDashScope, body: any): any {
  const fixtures = fixturesDir();
  return JSON.parse(JSON.stringify(body), (_key, value) => {
    if (typeof value !== 'string' || !value.startsWith('oss://')) return value;
    const object = fake.ossObjects.get(value.slice('oss://'.length));
    assert.ok(object, `${value} was uploaded`);
    assert.equal(object.model, body.model, 'uploaded under a policy for this model');
    const name = readdirSync(fixtures).find((file) => readFileSync(path.join(fixtures, file)).equals(object.bytes));
    assert.ok(name, `${value} holds a fixture's exact bytes`);
    return `${mediaOrigin}/${name}`;
  });
}
let mediaOrigin = '';

describe('the dashscope engine against a fake Model Studio', () => {
  let fake: FakeDashScope;
  let media: MediaServer;
  let server: TestServer;

  before(async () => {
    const fixtures = fixturesDir();
    fake = await startFakeDashScope({ video: path.join(fixtures, 'clip-1s-640x360.mp4') });
    media = await startMediaServer(fixtures, '127.0.0.2');
    mediaOrigin = media.origin;
    server = await startTestServer(
      { VIDGATE_CHANNELS: JSON.stringify([dashscopeChannel(fake)]), FAKE_DASHSCOPE_KEY: fake.apiKey, VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' },
      { worker: true },
    );
  });
  after(async () => {
    await server.close();
    await fake.close();
    await media.close();
  });
  beforeEach(() => {
    fake.creates.length = 0;
    fake.refusals.length = 0;
    fake.nextSubmits.length = 0;
    fake.script = () => ({ queueMs: 50, runMs: 200 });
  });

  async function run(body: Record<string, unknown>) {
    const created = await server.call('POST', '/v1/videos/generations', { body });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return waitForTask(server, created.body.id, 30_000);
  }

  it('text-to-video: the exact async create, the result copied home, billed by usage', async () => {
    fake.script = () => ({ queueMs: 50, runMs: 200, billedSeconds: 3 });
    const task = await run({ model: 'wan2.7-text-to-video', prompt: 'a fox', negative_prompt: 'blur', duration: 4, aspect_ratio: '9:16', seed: 42 });
    assert.equal(task.status, 'completed', JSON.stringify(task));
    const [create] = fake.creates;
    assert.equal(create.headers['x-dashscope-async'], 'enable');
    assert.equal(create.headers.authorization, `Bearer ${fake.apiKey}`);
    assert.deepEqual(create.body, {
      model: 'wan2.7-t2v',
      input: { prompt: 'a fox', negative_prompt: 'blur' },
      parameters: { resolution: '720P', watermark: false, seed: 42, ratio: '9:16', duration: 4, prompt_extend: false },
    });
    assert.ok(task.results[0].startsWith(server.baseUrl), 'served by vidgate, not the upstream');
    const video = await fetch(task.results[0]);
    assert.equal(video.status, 200);
    assert.ok((await video.arrayBuffer()).byteLength > 1000);
    assert.equal(task.usage.credits_charged, 25.8, '3 billed seconds × 8.6, not the 4 reserved');
  });

  it('sends every model and mode with the media-array bodies of UPSTREAMS.md §3.1', async () => {
    const image = media.url('image-640x360.png');
    const image2 = media.url('image-800x600.webp');
    const clip = media.url('clip-5s-640x360.mp4');
    const audio = media.url('audio-3s.wav');
    const cases: [Record<string, unknown>, unknown][] = [
      [{ model: 'wan2.7-text-to-video', prompt: 'p', audio_urls: [audio], quality: '1080p', seed: 1 },
        { model: 'wan2.7-t2v', input: { prompt: 'p', audio_url: audio }, parameters: { resolution: '1080P', watermark: false, seed: 1, ratio: '16:9', duration: 5, prompt_extend: false } }],
      [{ model: 'wan2.7-image-to-video', image_start: image, audio_urls: [audio], seed: 2 },
        { model: 'wan2.7-i2v', input: { media: [{ type: 'first_frame', url: image }, { type: 'driving_audio', url: audio }] }, parameters: { resolution: '720P', watermark: false, seed: 2, duration: 5, prompt_extend: false } }],
      [{ model: 'wan2.7-image-to-video', prompt: 'q', image_start: image, image_end: image2, duration: 3, seed: 3 },
        { model: 'wan2.7-i2v', input: { prompt: 'q', media: [{ type: 'first_frame', url: image }, { type: 'last_frame', url: image2 }] }, parameters: { resolution: '720P', watermark: false, seed: 3, duration: 3, prompt_extend: false } }],
      [{ model: 'wan2.7-image-to-video', video_urls: [clip], image_end: image, duration: 8, seed: 4, prompt_extend: true },
        { model: 'wan2.7-i2v', input: { media: [{ type: 'first_clip', url: clip }, { type: 'last_frame', url: image }] }, parameters: { resolution: '720P', watermark: false, seed: 4, duration: 8, prompt_extend: true } }],
      [{ model: 'wan2.7-video-edit', prompt: 'make it snow', video_urls: [clip], image_urls: [image, image2], keep_original_sound: true, aspect_ratio: '1:1', duration: 3, seed: 5 },
        { model: 'wan2.7-videoedit', input: { prompt: 'make it snow', media: [{ type: 'video', url: clip }, { type: 'reference_image', url: image }, { type: 'reference_image', url: image2 }] },
          parameters: { resolution: '720P', watermark: false, seed: 5, ratio: '1:1', duration: 3, audio_setting: 'origin', prompt_extend: false } }],
      [{ model: 'happyhorse-1.0-video-edit', prompt: 'anime style', video: clip, image_urls: [image2], quality: '1080p', seed: 6 },
        { model: 'happyhorse-1.0-video-edit', input: { prompt: 'anime style', media: [{ type: 'video', url: clip }, { type: 'reference_image', url: image2 }] },
          parameters: { resolution: '1080P', watermark: false, seed: 6, audio_setting: 'auto' } }],
    ];
    for (const [request, expected] of cases) {
      fake.creates.length = 0;
      const task = await run(request);
      assert.equal(task.status, 'completed', JSON.stringify(task));
      // Uploaded (the default input_delivery): each client URL became an oss:// copy of exactly the bytes it served.
      assert.deepEqual(withClientUrls(fake, fake.creates[0].body), expected, `body for ${JSON.stringify(request)}`);
      assert.equal(fake.creates[0].headers['x-dashscope-ossresourceresolve'], 'enable');
    }
  });

  it('sends the wan and happyhorse catalog models with the bodies of UPSTREAMS-2.md §2, every field one the model takes', async () => {
    const image = media.url('image-640x360.png');
    const image2 = media.url('image-800x600.webp');
    const clip = media.url('clip-4s-400x300.mp4');
    const mp3 = media.url('audio-4s.mp3');
    const wav = media.url('audio-3s.wav');
    const cases: [Record<string, unknown>, unknown][] = [
      [{ model: 'wan2.5-text-to-video', prompt: 'p', quality: '480p', aspect_ratio: '9:16', duration: 10 },
        { model: 'wan2.5-t2v-preview', input: { prompt: 'p' }, parameters: { size: '480*832', duration: 10, prompt_extend: true, watermark: false } }],
      [{ model: 'wan2.5-image-to-video', prompt: 'p', image_urls: [image], quality: '1080p' },
        { model: 'wan2.5-i2v-preview', input: { prompt: 'p', img_url: image }, parameters: { resolution: '1080P', duration: 5, prompt_extend: true, watermark: false } }],
      [{ model: 'wan2.6-text-to-video', prompt: 'p', audio_url: mp3, aspect_ratio: '4:3', duration: 7, model_params: { shot_type: 'multi' } },
        { model: 'wan2.6-t2v', input: { prompt: 'p', audio_url: mp3 }, parameters: { size: '1088*832', duration: 7, prompt_extend: true, shot_type: 'multi', watermark: false } }],
      [{ model: 'wan2.6-image-to-video-flash', prompt: 'p', image_urls: [image], generate_audio: false, duration: 3 },
        { model: 'wan2.6-i2v-flash', input: { prompt: 'p', img_url: image }, parameters: { resolution: '720P', duration: 3, prompt_extend: true, audio: false, watermark: false } }],
      [{ model: 'wan2.6-reference-video', prompt: 'character1 waves', video_urls: [clip], duration: 4, quality: '1080p' },
        { model: 'wan2.6-r2v', input: { prompt: 'character1 waves', reference_urls: [clip] }, parameters: { size: '1920*1080', duration: 4, watermark: false } }],
      [{ model: 'wan2.7-reference-video', prompt: 'Image 1 meets Video 1', image_start: image2, image_urls: [image], video_urls: [clip], duration: 4 },
        { model: 'wan2.7-r2v', input: { prompt: 'Image 1 meets Video 1', media: [{ type: 'first_frame', url: image2 }, { type: 'reference_image', url: image }, { type: 'reference_video', url: clip }] },
          parameters: { resolution: '720P', duration: 4, prompt_extend: false, watermark: false } }],
      [{ model: 'wan3.0-text-to-video', prompt: 'p', quality: '480p', aspect_ratio: '1:1', duration: 12, seed: 0 },
        { model: 'wan3.0-video', input: { prompt: 'p' }, parameters: { resolution: '480P', ratio: '1:1', duration: 12, watermark: false, seed: 0 } }],
      [{ model: 'wan3.0-image-to-video', image_start: image, image_end: image2 },
        { model: 'wan3.0-video', input: { media: [{ type: 'first_frame', url: image }, { type: 'last_frame', url: image2 }] }, parameters: { resolution: '720P', duration: 5, watermark: false } }],
      [{ model: 'wan3.0-reference-video', prompt: 'Image 1 sings Audio 1', image_urls: [image], audio_urls: [wav], model_params: { link_url: 'https://docs.example/brief' } },
        { model: 'wan3.0-video', input: { prompt: 'Image 1 sings Audio 1', media: [{ type: 'reference_image', url: image }, { type: 'reference_audio', url: wav }, { type: 'link', url: 'https://docs.example/brief' }] },
          parameters: { resolution: '720P', duration: 5, watermark: false } }],
      [{ model: 'happyhorse-1.0-text-to-video', prompt: 'a horse', aspect_ratio: '3:4', quality: '1080p', duration: 3 },
        { model: 'happyhorse-1.0-t2v', input: { prompt: 'a horse' }, parameters: { resolution: '1080P', ratio: '3:4', duration: 3, watermark: false } }],
      [{ model: 'happyhorse-1.1-image-to-video', image_urls: [image] },
        { model: 'happyhorse-1.1-i2v', input: { media: [{ type: 'first_frame', url: image }] }, parameters: { resolution: '720P', duration: 5, watermark: false } }],
      [{ model: 'happyhorse-1.0-reference-to-video', prompt: 'character1 and character2', image_urls: [image2, image2] },
        { model: 'happyhorse-1.0-r2v', input: { prompt: 'character1 and character2', media: [{ type: 'reference_image', url: image2 }, { type: 'reference_image', url: image2 }] },
          parameters: { resolution: '720P', ratio: '16:9', duration: 5, watermark: false } }],
    ];
    for (const [request, expected] of cases) {
      fake.creates.length = 0;
      const task = await run(request);
      assert.equal(task.status, 'completed', `${request.model}: ${JSON.stringify(task)} ${fake.refusals.at(-1) ?? ''}`);
      assert.deepEqual(withClientUrls(fake, fake.creates[0].body), expected, `body for ${request.model}`);
    }
    assert.deepEqual(fake.refusals, [], 'no field the service would refuse');
  });

  it('fails a task with invalid_parameters where the wire is unknown, rather than guessing, and the fake refuses unknown fields', async () => {
    const smart = await run({ model: 'wan3.0-text-to-video', prompt: 'p', duration: -1 });
    assert.equal(smart.status, 'failed');
    assert.equal(smart.error.code, 'invalid_parameters');
    assert.match(smart.error.message, /cannot send duration -1 \(the model picks the length\) for wan3.0-text-to-video/);
    const ratio = await run({ model: 'happyhorse-1.1-text-to-video', prompt: 'p', aspect_ratio: '21:9' });
    assert.match(ratio.error.message, /cannot send aspect_ratio 21:9/);
    assert.equal(fake.creates.length, 0, 'nothing was sent');
    const refused = await fetch(`${fake.baseUrl}/services/aigc/video-generation/video-synthesis`, {
      method: 'POST', headers: { authorization: `Bearer ${fake.apiKey}`, 'x-dashscope-async': 'enable', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'wan2.6-t2v', input: { prompt: 'p' }, parameters: { ratio: '16:9' } }),
    });
    assert.equal(refused.status, 400);
    const answer = (await refused.json()) as { code: string; message: string };
    assert.deepEqual([answer.code, answer.message], ['InvalidParameter', 'Unrecognized field parameters.ratio']);
  });

  it('maps upstream failures to task error codes, releases the credits and leaks no upstream id', async () => {
    const cases: [string, string][] = [
      ['DataInspectionFailed', 'content_policy_violation'],
      ['InvalidParameter', 'invalid_parameters'],
      ['InvalidImageResolution', 'image_processing_error'],
      ['InternalError', 'service_error'],
      ['SomethingNew', 'unknown_error'],
    ];
    for (const [code, expected] of cases) {
      fake.script = () => ({ runMs: 50, end: { status: 'FAILED', code } });
      const task = await run({ model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 });
      assert.equal(task.status, 'failed');
      assert.equal(task.error.code, expected, code);
      assert.equal(task.usage.credits_charged, 0);
      const upstreamId = [...fake.tasks.values()].at(-1)!.id;
      assert.ok(!JSON.stringify(task).includes(upstreamId), 'no upstream id in the task');
    }
  });

  it('fails an upstream task that expired (UNKNOWN), and keeps asking through an unrecognised status', async () => {
    fake.script = () => ({ runMs: 50, end: { status: 'UNKNOWN' } });
    const lost = await run({ model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 });
    assert.equal(lost.status, 'failed');
    assert.equal(lost.error.code, 'service_error');

    fake.script = () => ({ runMs: 50, end: { status: 'SUSPENDED' } });
    const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 } });
    await untilAccepted(server, created.body.id);
    const upstream = [...fake.tasks.values()].at(-1)!;
    await until(() => upstream.answered.filter((status) => status === 'SUSPENDED').length >= 2, 'vidgate asked again after SUSPENDED');
    const middle = await server.call('GET', `/v1/tasks/${created.body.id}`);
    assert.equal(middle.body.status, 'processing', 'an unrecognised status is never shown or final');
    upstream.script = { runMs: 50 }; // it finishes after all
    const done = await waitForTask(server, created.body.id);
    assert.equal(done.status, 'completed');
  });

  it('a submit answered too late is looked up and adopted, never sent twice', async () => {
    fake.nextSubmits.push('hang');
    const task = await run({ model: 'wan2.7-text-to-video', prompt: 'lost answer', duration: 2 });
    assert.equal(task.status, 'completed', JSON.stringify(task));
    assert.equal(fake.creates.length, 1, 'one create: the lookup found it');
  });

  it('a submit whose connection died before the upstream kept it is confirmed absent, then sent again', async () => {
    fake.nextSubmits.push('drop');
    const task = await run({ model: 'wan2.7-text-to-video', prompt: 'dropped', duration: 2 });
    assert.equal(task.status, 'completed', JSON.stringify(task));
    assert.equal(fake.creates.length, 2, 'resent once, after the lookup found nothing');
  });

  it('cancels a PENDING upstream task when its task is cancelled', async () => {
    fake.script = () => ({ queueMs: 60_000, runMs: 100 });
    const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'cancel me', duration: 2 } });
    await untilAccepted(server, created.body.id);
    const cancelled = await server.call('DELETE', `/v1/tasks/${created.body.id}`);
    assert.equal(cancelled.status, 200);
    const upstream = [...fake.tasks.values()].at(-1)!;
    await until(() => upstream.cancelledAt !== undefined, 'the upstream task was cancelled');
    const task = await waitForTask(server, created.body.id);
    assert.equal(task.status, 'cancelled');
    assert.equal(task.usage.credits_charged, 0);
  });
});

/** `count` tasks running on the fake for ten minutes more, up-0 the newest; their handles, task-0 … */
function runningTasks(fake: FakeDashScope, count: number) {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const id = `up-${i}`;
    fake.tasks.set(id, { id, model: 'wan2.7-t2v', body: { input: { prompt: 'p' }, parameters: { duration: 2 } }, createdAt: now - 1000 - i, script: { runMs: 600_000 }, answered: [] });
    return { taskId: `task-${i}`, upstreamId: id, ref: null, submittedAt: now - 1000 - i };
  });
}

/** One poll pass over `handles`: what it reported, by upstream id. */
async function passReports(engine: DashScopeEngine, handles: UpstreamHandle[]): Promise<Map<string, string>> {
  const reports = new Map<string, string>();
  await engine.poll(handles, (taskId, status) => reports.set(taskId.replace('task', 'up'), status.state), new AbortController().signal);
  return reports;
}

/**
 * A DashScope engine on a fake account, closed after `use`. Its calls may take a minute: a pass
 * whose page timed out reports nothing, and these tests check what a pass reports, not timeouts.
 */
async function withEngine(use: (fake: FakeDashScope, engine: DashScopeEngine) => Promise<void>): Promise<void> {
  const fake = await startFakeDashScope({ video: path.join(fixturesDir(), 'clip-1s-640x360.mp4') });
  const guard = new OutboundGuard(new AddressPolicy(), tableResolver());
  const channel = dashscopeChannel(fake, { request_timeout: '60s' });
  const settings = resolveChannel(channelSchema.parse(channel), { FAKE_DASHSCOPE_KEY: fake.apiKey }, (f) => f);
  const engine = new DashScopeEngine(settings, guard, new Pacer(settings.query_per_second));
  try {
    await use(fake, engine);
  } finally {
    await engine.close();
    await guard.close();
    await fake.close();
  }
}

describe('dashscope polling under the account\'s query limit', () => {
  // The engine's pass, built by the test: which jobs a pass holds never depends on timing.
  it('lists unfinished tasks page by page for a large pass, asks only for those that left the list, and survives a 429', async () => {
    await withEngine(async (fake, engine) => {
      const now = Date.now();
      const handles = Array.from({ length: 140 }, (_, i) => {
        const id = `up-${i}`;
        // 20 queued, 110 running (two list pages), 10 finished: those are asked for one by one.
        const script = i < 10 ? { runMs: 0 } : i < 30 ? { queueMs: 600_000 } : { runMs: 600_000 };
        fake.tasks.set(id, { id, model: 'wan2.7-t2v', body: { input: { prompt: 'p' }, parameters: { duration: 2 } }, createdAt: now - 1000, script, answered: [] });
        return { taskId: `task-${i}`, upstreamId: id, ref: null, submittedAt: now - 1000 };
      });
      fake.throttleNext = 1; // the first list call is refused: backed off and asked again
      const reports = new Map<string, string>();
      await engine.poll(handles, (taskId, status) => reports.set(taskId, status.state), new AbortController().signal);
      assert.equal(reports.size, 140, 'every job reported');
      assert.deepEqual([...reports.values()].filter((s) => s === 'succeeded').length, 10);
      assert.deepEqual([...reports.values()].filter((s) => s === 'queued').length, 20);
      assert.deepEqual([...reports.values()].filter((s) => s === 'running').length, 110);
      assert.equal(fake.queries.throttled, 1);
      assert.equal(fake.queries.list, 1 + 2, 'PENDING (1 page, asked again after the 429) and RUNNING (2 pages)');
      assert.equal(fake.queries.single, 10, 'only the finished ones were asked for');
    });
  });

  it('asks for a task that ended as soon as a page shows it gone, and not for one the shifting list skipped', async () => {
    await withEngine(async (fake, engine) => {
      // 250 running tasks, newest first: up-0 … up-249 (three RUNNING pages of 100).
      const handles = runningTasks(fake, 250);
      const end = (...ids: string[]) => ids.forEach((id) => (fake.tasks.get(id)!.script = { runMs: 0 }));
      const pass = (of: typeof handles) => passReports(engine, of);
      const first = await pass(handles);
      assert.equal(first.size, 250);
      assert.equal(fake.queries.single, 0, 'all listed');

      end('up-249'); // the oldest, after the last page
      fake.beforeListPage = (status, pageNo) => {
        // Between RUNNING pages 1 and 2: up-3 (already read) ends, so the list shifts and up-101 falls onto page 1;
        // up-100 ends in the gap between the pages, up-150 inside page 2.
        if (status === 'RUNNING' && pageNo === 2) end('up-3', 'up-100', 'up-150');
      };
      const second = await pass(handles);
      fake.beforeListPage = null;
      assert.equal(second.get('up-150'), 'succeeded', 'gone from inside a page');
      assert.equal(second.get('up-249'), 'succeeded', 'gone from after the last page');
      assert.equal(second.get('up-3'), 'running', 'listed on page 1 before it ended');
      assert.equal(second.has('up-101'), false, 'skipped: not asked for');
      assert.equal(second.has('up-100'), false, 'missing from the gap: perhaps skipped, so not asked yet');
      assert.equal(fake.queries.single, 2, 'no query spent in vain');

      const third = await pass(handles.filter((h) => second.get(h.upstreamId) !== 'succeeded'));
      assert.equal(third.get('up-101'), 'running', 'listed again');
      assert.equal(third.get('up-3'), 'succeeded');
      assert.equal(third.get('up-100'), 'succeeded', 'missed twice: asked for');
      assert.equal(fake.queries.single, 4);
    });
  });

  it('asks for a task gone from inside a page before the list is read to its end', async () => {
    await withEngine(async (fake, engine) => {
      const handles = runningTasks(fake, 250);
      await passReports(engine, handles);
      fake.tasks.get('up-150')!.script = { runMs: 0 };
      // The list breaks at page 3: the pass ends there, so only an ask made after page 2 reaches the task.
      fake.beforeListPage = (status, pageNo) => (status === 'RUNNING' && pageNo === 3 ? 500 : undefined);
      const reports = await passReports(engine, handles);
      assert.deepEqual([...reports], [['up-150', 'succeeded']]);
      assert.equal(fake.queries.single, 1);
    });
  });

  it('never leaves a job near its timeout for the next pass, even one missing from a gap', async () => {
    await withEngine(async (fake, engine) => {
      const handles = runningTasks(fake, 150);
      handles[100].submittedAt -= 3 * 3_600_000; // up-100: past the channel's 2 h timeout, this pass may be its last
      await passReports(engine, handles);
      fake.beforeListPage = (status, pageNo) => {
        if (status === 'RUNNING' && pageNo === 2) for (const id of ['up-0', 'up-100']) fake.tasks.get(id)!.script = { runMs: 0 };
      };
      const reports = await passReports(engine, handles);
      assert.equal(reports.get('up-100'), 'succeeded', 'missing from the gap, but asked for');
      assert.equal(reports.has('up-101'), false, 'skipped, and not near its timeout: left for the next pass');
      assert.equal(fake.queries.single, 1);
    });
  });

  it('finishes 30 jobs on an account that allows 4 queries a second while the channel believes in 20', async () => {
    const fake = await startFakeDashScope({ video: path.join(fixturesDir(), 'clip-1s-640x360.mp4'), queriesPerSecond: 4 });
    fake.script = () => ({ queueMs: 100, runMs: 2_000 });
    const server = await startTestServer({ VIDGATE_CHANNELS: JSON.stringify([dashscopeChannel(fake, { poll_interval: '300ms', request_timeout: '5s' })]), FAKE_DASHSCOPE_KEY: fake.apiKey, VIDGATE_WORKER_CONCURRENCY: '30' }, { worker: true });
    try {
      const created = await Promise.all(Array.from({ length: 30 }, () => server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'many', duration: 2 } })));
      const tasks = await Promise.all(created.map((c) => waitForTask(server, c.body.id, 90_000)));
      assert.ok(tasks.every((t) => t.status === 'completed'), JSON.stringify(tasks.filter((t) => t.status !== 'completed')));
    } finally {
      await server.close();
      await fake.close();
    }
  });
});
