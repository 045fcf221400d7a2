import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { until } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { videoFacts } from '../helpers/video.ts';

type ToolResult = { content: { type: string; text: string }[]; structuredContent?: any; isError?: boolean };

/** vidgate's MCP server through the official SDK's client, over a real loopback socket. */
describe('the MCP server at /mcp', () => {
  let server: TestServer;
  let media: MediaServer;
  let client: Client;
  const clients: Client[] = [];

  async function connect(key: string): Promise<Client> {
    const next = new Client({ name: 'vidgate-test', version: '1.0.0' });
    await next.connect(new StreamableHTTPClientTransport(new URL(`${server.baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    clients.push(next);
    return next;
  }
  const call = async (name: string, args: Record<string, unknown> = {}, on = client) => (await on.callTool({ name, arguments: args })) as ToolResult;

  before(async () => {
    media = await startMediaServer(fixturesDir(), '127.0.0.2');
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' }, { worker: true });
    client = await connect(server.key);
  });
  after(async () => {
    for (const open of clients) await open.close();
    await server.close();
    await media.close();
  });

  it('lists the tools; generate_video offers each model the key may use with its own fields', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['cancel_task', 'estimate_cost', 'generate_video', 'get_credits', 'get_task', 'list_models', 'upload_file', 'wait_for_task']);
    const generate = tools.find((tool) => tool.name === 'generate_video')!.inputSchema as any;
    assert.equal(generate.oneOf.length, 74);
    // A field schema several models share is written once, under $defs.
    const field = (model: string, name: string) => {
      const property = generate.oneOf.find((schema: any) => schema.title === model).properties[name];
      return property.$ref ? generate.$defs[property.$ref.replace('#/$defs/', '')] : property;
    };
    assert.equal(field('wan2.7-text-to-video', 'duration').maximum, 15);
    assert.equal(field('wan2.7-text-to-video', 'prompt').type, 'string');
    assert.match(field('wan2.7-image-to-video', 'image_start').description, /file_id/);
    assert.equal(field('wan2.7-image-to-video', 'image_start').format, undefined, 'a file id is not a URI');

    const narrow = await connect(await server.newKey({ user: 'narrow', userCredits: 10_000_000, models: ['wan2.7-text-to-video'] }));
    const narrowTools = (await narrow.listTools()).tools;
    assert.deepEqual((narrowTools.find((tool) => tool.name === 'generate_video')!.inputSchema as any).properties.model.enum, ['wan2.7-text-to-video']);
    const models = (await call('list_models', {}, narrow)).structuredContent.models;
    assert.deepEqual(models.map((m: any) => m.id), ['wan2.7-text-to-video']);
    assert.equal(models[0].kind, 't2v');
    assert.ok(models[0].prices['720p'] > 0);
    assert.match(models[0].fields.duration, /^integer 2–15/);
  });

  it('estimates, generates from a URL, waits with progress notifications, and the video downloads', async () => {
    const body = { model: 'wan2.7-image-to-video', image_start: media.url('image-640x360.png'), duration: 2 };
    const estimate = (await call('estimate_cost', body)).structuredContent;
    assert.equal(estimate.object, 'task.estimate');
    const before = (await call('get_credits')).structuredContent.user.remaining_credits;
    assert.ok(estimate.credits > 0);

    const created = await call('generate_video', body);
    assert.equal(created.isError, undefined);
    const task = created.structuredContent;
    assert.equal(task.usage.credits_reserved, estimate.credits, 'the estimate is what create reserves');
    assert.match(created.content[0].text, /wait_for_task/);

    const progress: { progress: number; total?: number; message?: string }[] = [];
    const done = (await client.callTool({ name: 'wait_for_task', arguments: { task_id: task.id } }, undefined, { onprogress: (p) => progress.push(p), timeout: 120_000 })) as ToolResult;
    assert.equal(done.structuredContent.status, 'completed');
    assert.ok(progress.length >= 1, 'progress notifications while it waited');
    assert.ok(progress.every((p, i) => p.total === 100 && (i === 0 || p.progress > progress[i - 1].progress)), 'progress only grows');
    const video = await fetch(done.structuredContent.results[0]);
    assert.equal(video.status, 200);
    assert.equal(video.headers.get('content-type'), 'video/mp4');
    assert.equal((await call('get_task', { task_id: task.id })).structuredContent.status, 'completed');
    assert.ok((await call('get_credits')).structuredContent.user.remaining_credits < before);
  });

  it('uploads a file (base64 and URL) and generates from its file_id', async () => {
    const png = readFileSync(path.join(fixturesDir(), 'image-640x360.png')).toString('base64');
    const uploaded = (await call('upload_file', { base64: png, file_name: 'start.png' })).structuredContent;
    assert.match(uploaded.file_id, /^file_/);
    assert.equal(uploaded.mime_type, 'image/png');
    const fromUrl = (await call('upload_file', { url: media.url('image-640x360.png') })).structuredContent;
    assert.match(fromUrl.file_id, /^file_/);
    const task = (await call('generate_video', { model: 'wan2.7-image-to-video', image_start: uploaded.file_id, duration: 2 })).structuredContent;
    assert.equal(task.status, 'pending');
    const cancelled = await call('cancel_task', { task_id: task.id });
    assert.equal(cancelled.structuredContent.status, 'cancelled');
    const other = await server.newKey({ user: 'other-uploader', userCredits: 10_000_000 });
    const foreign = await call('generate_video', { model: 'wan2.7-image-to-video', image_start: uploaded.file_id, duration: 2 }, await connect(other));
    assert.equal(foreign.isError, true);
    assert.equal(foreign.structuredContent.error.param, 'image_start');
  });

  it('answers errors as tool errors carrying the API code and message', async () => {
    const badField = await call('generate_video', { model: 'wan2.7-text-to-video', prompt: 'x', duration: 99 });
    assert.equal(badField.isError, true);
    assert.deepEqual([badField.structuredContent.error.code, badField.structuredContent.error.param], ['invalid_request', 'duration']);
    assert.match(badField.content[0].text, /^invalid_request: duration/);

    const unknown = await call('get_task', { task_id: 'task-unified-1700000000-zzzzzzzz' });
    assert.equal(unknown.structuredContent.error.code, 'task_not_found');
    assert.equal((await call('wait_for_task', { task_id: 'task-unified-1700000000-zzzzzzzz' })).structuredContent.error.code, 'task_not_found');
    assert.equal((await call('get_task', {})).structuredContent.error.param, 'task_id');

    const poor = await connect(await server.newKey({ user: 'poor', userCredits: 0 }));
    assert.equal((await call('generate_video', { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 }, poor)).structuredContent.error.code, 'insufficient_quota');

    const narrow = await connect(await server.newKey({ user: 'narrow-2', userCredits: 10_000_000, models: ['wan2.7-text-to-video'] }));
    const denied = await call('generate_video', { model: 'seedance-2.0-text-to-video', prompt: 'x' }, narrow);
    assert.equal(denied.structuredContent.error.code, 'model_access_denied');

    const anonymous = new Client({ name: 'nobody', version: '1' });
    await assert.rejects(anonymous.connect(new StreamableHTTPClientTransport(new URL(`${server.baseUrl}/mcp`))), /401|unauthorized/i);
  });

  it('a client that leaves mid-wait leaves the task running', async () => {
    const leaver = await connect(server.key);
    const task = (await call('generate_video', { model: 'wan2.7-text-to-video', prompt: 'left alone', duration: 2 }, leaver)).structuredContent;
    const controller = new AbortController();
    const waiting = leaver.callTool({ name: 'wait_for_task', arguments: { task_id: task.id } }, undefined, { signal: controller.signal, onprogress: () => controller.abort() }).catch((error) => error);
    assert.ok((await waiting) instanceof Error);
    await leaver.close();
    await until(async () => (await server.call('GET', `/v1/tasks/${task.id}`)).body.status === 'completed', 'the task completes anyway');
    const { results } = (await server.call('GET', `/v1/tasks/${task.id}`)).body;
    const file = path.join(server.dataDir, 'left.mp4');
    writeFileSync(file, Buffer.from(await (await fetch(results[0])).arrayBuffer()));
    assert.ok((await videoFacts(file)).durationSec > 1.5);
  });
});
