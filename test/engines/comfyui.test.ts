import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type FakeComfyUi, startFakeComfyUi } from '../fakes/comfyui.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { until, untilAccepted, waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const WORKFLOWS = new URL('../../workflows/', import.meta.url).pathname;

describe('the comfyui engine against a fake ComfyUI', () => {
  let fake: FakeComfyUi;
  let media: MediaServer;
  let server: TestServer;

  before(async () => {
    const fixtures = fixturesDir();
    fake = await startFakeComfyUi({ video: path.join(fixtures, 'clip-1s-640x360.mp4') });
    media = await startMediaServer(fixtures, '127.0.0.2');
    const channel = {
      name: 'gpu', engine: 'comfyui', base_url: fake.baseUrl, poll_interval: '100ms', request_timeout: '500ms',
      models: { 'wan2.7-text-to-video': path.join(WORKFLOWS, 'wan2.2-ti2v-5b-t2v.json'), 'wan2.7-image-to-video': path.join(WORKFLOWS, 'wan2.2-ti2v-5b-i2v.json') },
    };
    server = await startTestServer({ VIDGATE_CHANNELS: JSON.stringify([channel]), VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' }, { worker: true });
  });
  after(async () => {
    await server.close();
    await fake.close();
    await media.close();
  });
  beforeEach(() => {
    fake.steps = 4;
    fake.stepMs = 50;
    fake.refuseSockets = false;
    fake.holdAtStep = null;
  });

  async function create(body: Record<string, unknown>) {
    const created = await server.call('POST', '/v1/videos/generations', { body });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return created.body.id as string;
  }

  it('queues the filled workflow under its own prompt id, shows websocket progress, and copies the video home', async () => {
    fake.steps = 5;
    fake.holdAtStep = 1;
    const id = await create({ model: 'wan2.7-text-to-video', prompt: 'a heron at dawn', negative_prompt: 'blurry', duration: 3, seed: 42 });
    await until(() => fake.heldAt === 1, 'the sampler ran its first step');
    await until(() => fake.connected(fake.prompts.at(-1)!.clientId), 'vidgate listens on the websocket');
    fake.holdAtStep = 2; // this step's frame reaches the open socket
    fake.resume();
    await until(() => fake.heldAt === 2, 'the sampler ran its second step');
    await until(async () => (await server.call('GET', `/v1/tasks/${id}`)).body.progress >= 38, 'the sampler\'s 2 of 5 steps reached the task as progress');
    fake.holdAtStep = null;
    fake.resume();
    const task = await waitForTask(server, id);
    assert.equal(task.status, 'completed', JSON.stringify(task));
    const prompt = fake.prompts.at(-1)!;
    const job = await server.app.db.selectFrom('jobs').select(['submit_key', 'upstream_id']).where('task_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(prompt.id, job.submit_key, 'the prompt id is vidgate\'s');
    assert.equal(job.upstream_id, job.submit_key);
    const g = prompt.graph;
    assert.equal(g['4'].inputs.text, 'a heron at dawn');
    assert.equal(g['5'].inputs.text, 'blurry');
    assert.equal(g['8'].inputs.seed, 42);
    assert.deepEqual([g['6'].inputs.width, g['6'].inputs.height, g['10'].inputs.fps], [1280, 720, 30]);
    assert.equal((g['6'].inputs.length as number) % 4, 1, 'Wan takes 4k+1 frames');
    assert.equal(g['11'].inputs.filename_prefix, `vidgate/${id}`);
    assert.ok(task.results[0].startsWith(server.baseUrl));
  });

  it('image-to-video uploads the first frame and names it in LoadImage', async () => {
    const task = await waitForTask(server, await create({ model: 'wan2.7-image-to-video', image_start: media.url('image-640x360.png'), duration: 2 }));
    assert.equal(task.status, 'completed', JSON.stringify(task));
    const image = fake.prompts.at(-1)!.graph['12'].inputs.image as string;
    assert.match(image, /^vidgate-task-unified-.*-image_start\.png$/);
    assert.ok(fake.uploads.get(image)!.length > 100, 'the bytes were uploaded');
  });

  it('follows the job by polling history when the websocket is refused', async () => {
    fake.refuseSockets = true;
    const task = await waitForTask(server, await create({ model: 'wan2.7-text-to-video', prompt: 'no socket', duration: 2 }));
    assert.equal(task.status, 'completed');
  });

  it('a node error fails the task with service_error and no server details', async () => {
    fake.failNext = true;
    const task = await waitForTask(server, await create({ model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 }));
    assert.equal(task.status, 'failed');
    assert.equal(task.error.code, 'service_error');
    assert.ok(!/CUDA|srv/.test(task.error.message));
  });

  it('cancels with a queue delete while pending and an interrupt while running', async () => {
    fake.steps = 100;
    fake.stepMs = 100;
    const first = await create({ model: 'wan2.7-text-to-video', prompt: 'long', duration: 2 });
    const second = await create({ model: 'wan2.7-text-to-video', prompt: 'waiting', duration: 2 });
    await Promise.all([untilAccepted(server, first), untilAccepted(server, second)]);
    const [firstId, secondId] = await Promise.all([first, second].map(async (id) =>
      (await server.app.db.selectFrom('jobs').select('upstream_id').where('task_id', '=', id).executeTakeFirstOrThrow()).upstream_id!));
    assert.equal((await server.call('DELETE', `/v1/tasks/${second}`)).status, 200);
    assert.equal((await server.call('DELETE', `/v1/tasks/${first}`)).status, 200);
    await until(() => fake.deleted.includes(secondId) && fake.interrupts.includes(firstId), 'ComfyUI was told to drop both');
    assert.ok(fake.deleted.includes(secondId), 'the pending prompt was deleted from the queue');
    assert.ok(fake.interrupts.includes(firstId), 'the running prompt was interrupted');
  });

  it('a lost answer is found in the queue by its prompt id; a dropped one is absent and queued again', async () => {
    const before = fake.prompts.length;
    fake.nextPrompts.push('hang');
    const found = await waitForTask(server, await create({ model: 'wan2.7-text-to-video', prompt: 'hang', duration: 2 }));
    assert.equal(found.status, 'completed');
    assert.equal(fake.prompts.length, before + 1, 'queued once');
    fake.nextPrompts.push('drop');
    const resent = await waitForTask(server, await create({ model: 'wan2.7-text-to-video', prompt: 'drop', duration: 2 }));
    assert.equal(resent.status, 'completed');
    assert.equal(fake.prompts.length, before + 2, 'queued once, after the lookup found nothing');
  });

  it('fails a job ComfyUI forgot (a restart loses its history) instead of waiting for ever', async () => {
    fake.steps = 100;
    fake.stepMs = 100;
    const id = await create({ model: 'wan2.7-text-to-video', prompt: 'forgotten', duration: 2 });
    await untilAccepted(server, id);
    fake.restart();
    const task = await waitForTask(server, id);
    assert.equal(task.status, 'failed');
    assert.equal(task.error.code, 'service_error');
  });
});
