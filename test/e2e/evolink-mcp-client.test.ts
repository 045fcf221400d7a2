import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { until } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * EvoLink's own MCP server, `@evolinkai/evolink-media@1.2.1` unchanged, driving vidgate: it has no
 * base-URL setting, so this process's fetch sends its calls to api.evolink.ai to vidgate on
 * loopback instead, and refuses anything else that is not loopback. Nothing leaves the machine.
 */
const HOSTED = 'https://api.evolink.ai';

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

describe('EvoLink\'s MCP client against vidgate', () => {
  let server: TestServer;
  let media: MediaServer;
  let client: Client;
  const realFetch = globalThis.fetch;
  const seen: string[] = [];

  before(async () => {
    media = await startMediaServer(fixturesDir(), '127.0.0.2');
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' }, { worker: true });
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.origin === HOSTED) {
        seen.push(`${init?.method ?? 'GET'} ${url.pathname}`);
        return realFetch(`${server.baseUrl}${url.pathname}${url.search}`, init);
      }
      if (!['127.0.0.1', '127.0.0.2', 'localhost'].includes(url.hostname)) throw new Error(`test fetch refused ${url.origin}`);
      return realFetch(input, init);
    }) as typeof fetch;
    process.env.EVOLINK_API_KEY = server.key;
    const { createConfig, createServer } = await import('@evolinkai/evolink-media/dist/core/src/server.js' as string);
    const mcp = createServer(createConfig('official'));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcp.connect(serverSide);
    client = new Client({ name: 'vidgate-test', version: '1.0.0' });
    await client.connect(clientSide);
  });
  after(async () => {
    await client?.close();
    globalThis.fetch = realFetch;
    delete process.env.EVOLINK_API_KEY;
    await server.close();
    await media.close();
  });

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as ToolResult;
    return { text: result.content.map((part) => part.text).join('\n'), isError: result.isError === true };
  };

  /** generate_video, then check_task until the client shows the video, as an agent following its instructions would. */
  async function generate(args: Record<string, unknown>): Promise<{ id: string; result: string }> {
    const created = await call('generate_video', args);
    assert.equal(created.isError, false, created.text);
    const id = /Task ID: (\S+)/.exec(created.text)![1];
    let last = '';
    await until(async () => {
      last = (await call('check_task', { task_id: id })).text;
      assert.doesNotMatch(last, /Status: failed/);
      return /Status: completed/.test(last);
    }, `task ${id} completed`);
    return { id, result: /\[1\] (\S+)/.exec(last)![1] };
  }

  const cases: [string, Record<string, unknown>, string][] = [
    ['a seedance, its default model', { prompt: 'a paper lantern rising', duration: 4, quality: '480p' }, 'seedance-1.5-pro'],
    ['a seedance from an image', { model: 'seedance-1.5-pro', prompt: 'the picture comes alive', duration: 4, quality: '480p', image_urls: ['{media}/image-640x360.png'] }, 'seedance-1.5-pro'],
    ['a kling', { model: 'kling-v3-text-to-video', prompt: 'a cat on a fence', duration: 3, aspect_ratio: '1:1' }, 'kling-v3-text-to-video'],
    ['a veo under its old name', { model: 'veo3.1-fast', prompt: 'a red balloon' }, 'veo3.1-fast-beta'],
    ['a wan2.6', { model: 'wan2.6-text-to-video', prompt: 'rain on a window', duration: 3 }, 'wan2.6-text-to-video'],
  ];
  for (const [name, args, model] of cases) {
    it(`generates ${name} and downloads the video`, async () => {
      const { id, result } = await generate(JSON.parse(JSON.stringify(args).replaceAll('{media}', media.origin)));
      const task = (await server.call('GET', `/v1/tasks/${id}`)).body;
      assert.equal(task.model, model);
      const video = await fetch(result);
      assert.equal(video.status, 200);
      assert.equal(video.headers.get('content-type'), 'video/mp4');
      assert.ok((await video.arrayBuffer()).byteLength > 1000);
    });
  }

  it('reaches vidgate only through the two endpoints it knows', () => {
    assert.deepEqual([...new Set(seen.map((line) => line.replace(/\/task-[^/]+$/, '/{id}')))].sort(), ['GET /v1/tasks/{id}', 'POST /v1/videos/generations']);
  });

  it('shows vidgate\'s 400 naming the field for a value the model does not take', async () => {
    const refused = await call('generate_video', { model: 'MiniMax-Hailuo-02', prompt: 'x', duration: 5 });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /duration: must be one of 6, 10/);
  });
});
