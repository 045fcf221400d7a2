import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputUrls } from '../../src/channels/input-urls.ts';
import { startFakeDashScope, type FakeDashScope } from '../fakes/dashscope.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { until, waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** A client's media server that lies: vidgate (by its User-Agent) gets a 3 s clip, anyone else a 20 s one. */
async function twoFacedServer(fixtures: string): Promise<{ server: Server; url: string; agents: string[] }> {
  const agents: string[] = [];
  const server = createServer((req, res) => {
    const agent = String(req.headers['user-agent'] ?? '');
    agents.push(agent);
    const file = agent === 'vidgate' ? 'clip-3s-silent-640x360.mp4' : 'clip-20s-640x360.mp4';
    res.writeHead(200, { 'content-type': 'video/mp4' }).end(readFileSync(path.join(fixtures, file)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return { server, url: `http://127.0.0.2:${(server.address() as AddressInfo).port}/clip.mp4`, agents };
}

describe('the upstream gets the bytes vidgate measured (CONTRACT §8.3)', () => {
  const fixtures = fixturesDir();
  const short = readFileSync(path.join(fixtures, 'clip-3s-silent-640x360.mp4'));
  let fake: FakeDashScope;
  let media: Awaited<ReturnType<typeof twoFacedServer>>;
  let server: TestServer;
  before(async () => {
    fake = await startFakeDashScope({ video: path.join(fixtures, 'clip-1s-640x360.mp4') });
    media = await twoFacedServer(fixtures);
    const channel = (name: string, model: string, delivery: string) => ({
      name, engine: 'dashscope', base_url: fake.baseUrl, api_key_env: 'FAKE_DASHSCOPE_KEY', poll_interval: '100ms', models: [model], input_delivery: delivery,
    });
    const channels = [
      channel('uploads', 'wan2.7-video-edit', 'upload'),
      channel('signs', 'happyhorse-1.0-video-edit', 'signed_url'),
      channel('trusts', 'wan2.7-image-to-video', 'passthrough'),
    ];
    server = await startTestServer({ VIDGATE_CHANNELS: JSON.stringify(channels), FAKE_DASHSCOPE_KEY: fake.apiKey, VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' }, { worker: true });
  });
  after(async () => {
    await server.close();
    await fake.close();
    await new Promise((resolve) => media.server.close(resolve));
  });

  async function submitted(body: Record<string, unknown>) {
    const before = fake.creates.length;
    fake.script = () => ({ queueMs: 0, runMs: 3000 }); // long enough to fetch a signed input while the task runs
    const created = await server.call('POST', '/v1/videos/generations', { body });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    await until(() => fake.creates.length > before, 'the upstream got the task');
    return { id: created.body.id as string, create: fake.creates.at(-1)! };
  }

  it('upload (default): the upstream holds exactly the 3 s clip vidgate probed and billed, and never asked the client', async () => {
    const agents = media.agents.length;
    const { id, create } = await submitted({ model: 'wan2.7-video-edit', prompt: 'snow', video_urls: [media.url] });
    const [video] = create.body.input.media;
    assert.match(video.url, /^oss:\/\//);
    assert.ok(fake.ossObjects.get(video.url.slice(6))!.bytes.equals(short), 'the probed bytes, not the 20 s clip');
    assert.deepEqual(media.agents.slice(agents), ['vidgate'], 'only vidgate fetched the client URL');
    const task = await waitForTask(server, id);
    assert.equal(task.task_info.video_duration, 3);
  });

  it('signed_url: a URL of ours serving exactly the probed bytes (with Range), and nothing for a forged token', async () => {
    const { id, create } = await submitted({ model: 'happyhorse-1.0-video-edit', prompt: 'anime', video_urls: [media.url] });
    const [video] = create.body.input.media;
    assert.ok(video.url.startsWith(`${server.baseUrl}/v1/inputs/`), video.url);
    const fetched = await fetch(video.url, { headers: { 'user-agent': 'some-upstream' } }); // no key
    assert.equal(fetched.status, 200);
    assert.equal(fetched.headers.get('content-type'), 'video/mp4');
    assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(short));
    const ranged = await fetch(video.url, { headers: { range: 'bytes=4-11' } });
    assert.equal(ranged.status, 206);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(short.subarray(4, 12)));
    const [claims, signature] = video.url.split('/').pop().split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), f: 'image_urls[0]' })).toString('base64url');
    assert.equal((await fetch(`${server.baseUrl}/v1/inputs/${forged}.${signature}`)).status, 404);
    assert.equal((await waitForTask(server, id)).status, 'completed');
  });

  it('passthrough: the client URL as sent, trusting the client', async () => {
    const { id, create } = await submitted({ model: 'wan2.7-image-to-video', video_urls: [media.url], duration: 5 });
    assert.equal(create.body.input.media[0].url, media.url);
    assert.equal((await waitForTask(server, id)).status, 'completed');
  });

  it('signed URLs expire and are bound to their task and field', () => {
    const urls = new InputUrls(Buffer.alloc(32, 9), 'https://gw.example');
    const url = urls.url({ taskId: 'task-unified-1-aaaaaaaa', field: 'video_urls[0]' }, 10_000);
    const token = url.slice('https://gw.example/v1/inputs/'.length);
    assert.deepEqual(urls.verify(token, 9_000), { taskId: 'task-unified-1-aaaaaaaa', field: 'video_urls[0]' });
    assert.equal(urls.verify(token, 11_000), null, 'expired');
    assert.equal(new InputUrls(Buffer.alloc(32, 8), 'https://gw.example').verify(token, 9_000), null, 'another install\'s key');
    assert.equal(urls.verify(`${token}x`, 9_000), null);
    assert.equal(urls.verify('not-a-token', 9_000), null);
  });
});
