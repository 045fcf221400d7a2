import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const REDOCLY = new URL('../../node_modules/.bin/redocly', import.meta.url).pathname;
const T2V = { model: 'wan2.7-text-to-video', prompt: 'a lighthouse at dusk' };

describe('API over HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  describe('authentication', () => {
    for (const [name, headers] of [
      ['missing', {}],
      ['not Bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ['unknown key', { authorization: 'Bearer sk-evo-00000000000000000000000000000000' }],
      ['empty bearer', { authorization: 'Bearer ' }],
    ] as const) {
      it(`answers 401 for a ${name} key on every /v1 route`, async () => {
        for (const [method, path] of [['POST', '/v1/videos/generations'], ['GET', '/v1/tasks/task-unified-1-abcdefgh'], ['GET', '/v1/models']]) {
          const res = await server.call(method, path, { key: null, headers: { ...headers }, body: method === 'POST' ? T2V : undefined });
          assert.equal(res.status, 401, `${method} ${path}`);
          assert.equal(res.body.error.code, 'unauthorized');
          assert.equal(res.body.error.type, 'authentication_error');
          assert.match(res.body.error.message, /^Authorization/);
        }
      });
    }
  });

  describe('create', () => {
    it('answers the pending task object', async () => {
      const before = Math.floor(Date.now() / 1000);
      const res = await server.call('POST', '/v1/videos/generations', { body: { ...T2V, duration: 6, quality: '1080p' } });
      assert.equal(res.status, 200);
      const task = res.body;
      assert.match(task.id, /^task-unified-\d+-[a-z0-9]{8}$/);
      assert.equal(Number(task.id.split('-')[2]), task.created);
      assert.ok(task.created >= before && task.created <= before + 5);
      assert.deepEqual(
        { ...task, id: undefined, created: undefined },
        {
          id: undefined,
          created: undefined,
          object: 'video.generation.task',
          model: 'wan2.7-text-to-video',
          status: 'pending',
          progress: 0,
          type: 'video',
          task_info: { can_cancel: true, estimated_time: task.task_info.estimated_time, video_duration: 6 },
          usage: { billing_rule: 'per_second', credits_reserved: 86.4, user_group: 'default' },
        },
      );
      assert.ok(Number.isInteger(task.task_info.estimated_time) && task.task_info.estimated_time > 0);
    });

    it('stores the seed actually used, random when omitted', async () => {
      const a = (await server.call('POST', '/v1/videos/generations', { body: T2V })).body;
      const b = (await server.call('POST', '/v1/videos/generations', { body: { ...T2V, seed: 42 } })).body;
      const rows = await server.app.db.selectFrom('tasks').select(['id', 'seed']).where('id', 'in', [a.id, b.id]).execute();
      const seeds = Object.fromEntries(rows.map((r) => [r.id, r.seed]));
      assert.equal(seeds[b.id], 42);
      assert.ok(seeds[a.id] >= 1 && seeds[a.id] <= 2147483647);
    });

    it('prices each model and quality from the price book', async () => {
      const cases: [Record<string, unknown>, number][] = [
        [{ ...T2V, duration: 5 }, 43],
        [{ ...T2V, duration: 10, quality: '1080p' }, 144],
        [{ ...T2V, duration: 2 }, 17.2],
      ];
      for (const [body, credits] of cases) {
        const res = await server.call('POST', '/v1/videos/generations', { body });
        assert.equal(res.body.usage.credits_reserved, credits, JSON.stringify(body));
      }
    });

    it('answers 400 naming the field, the value and the rule', async () => {
      const res = await server.call('POST', '/v1/videos/generations', { body: { ...T2V, duration: 16 } });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, {
        error: { code: 'invalid_request', message: 'duration: must be from 2 to 15 (got 16)', type: 'invalid_request_error', param: 'duration' },
      });
      const nested = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-video-edit', video_urls: ['gopher://x'] } });
      assert.match(nested.body.error.message, /^video_urls\[0\]: must be an http:\/\/ or https:\/\/ URL/);
      const model = await server.call('POST', '/v1/videos/generations', { body: { model: 'sora-2', prompt: 'x' } });
      assert.equal(model.status, 400);
      assert.equal(model.body.error.message, 'model: unknown model "sora-2"; did you mean "sora-2-preview"?');
      assert.equal(model.body.error.param, 'model');
    });

    it('answers missing_video_urls for happyhorse without a video', async () => {
      const res = await server.call('POST', '/v1/videos/generations', { body: { model: 'happyhorse-1.0-video-edit', prompt: 'snow' } });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'missing_video_urls');
    });

    it('answers the EvoLink error body for malformed, empty, non-object, non-JSON and oversized bodies', async () => {
      const cases: [string | undefined, Record<string, string>, number, RegExp][] = [
        ['{"model":', {}, 400, /^request body: malformed JSON/],
        ['', {}, 400, /^request body/],
        ['[]', {}, 400, /^request body/],
        ['"text"', {}, 400, /^request body/],
        ['null', {}, 400, /^request body/],
        ['model=x', { 'content-type': 'application/x-www-form-urlencoded' }, 400, /^Content-Type/],
        [JSON.stringify({ ...T2V, prompt: 'x'.repeat(1_100_000) }), {}, 413, /^request body: larger/],
      ];
      for (const [body, headers, status, message] of cases) {
        const res = await server.call('POST', '/v1/videos/generations', { body, headers });
        assert.equal(res.status, status, String(body).slice(0, 30));
        assert.equal(typeof res.body.error?.code, 'string');
        assert.equal(typeof res.body.error?.type, 'string');
        assert.match(res.body.error.message, message);
      }
    });

    it('refuses callback URLs that are not https or point inside', async () => {
      const cases: [string, RegExp][] = [
        ['http://hooks.example/cb', /must be an https:\/\/ URL/],
        ['https://localhost/cb', /^callback_url: the URL is not allowed$/],
        ['https://127.0.0.1/cb', /^callback_url: the URL is not allowed$/],
        ['https://[::1]/cb', /^callback_url: the URL is not allowed$/],
        ['https://10.0.0.1/cb', /^callback_url: the URL is not allowed$/],
        ['https://192.168.0.1/cb', /^callback_url: the URL is not allowed$/],
        ['https://172.16.5.4/cb', /^callback_url: the URL is not allowed$/],
        ['https://169.254.169.254/latest', /^callback_url: the URL is not allowed$/],
        ['https://100.64.0.1/cb', /^callback_url: the URL is not allowed$/],
        ['https://0.0.0.0/cb', /^callback_url: the URL is not allowed$/],
        ['https://2130706433/cb', /^callback_url: the URL is not allowed$/],
        ['https://[::ffff:127.0.0.1]/cb', /^callback_url: the URL is not allowed$/],
        ['https://[::7f00:1]/cb', /^callback_url: the URL is not allowed$/],
        ['https://unresolvable.test/cb', /^callback_url: the host could not be reached$/],
        [`https://hooks.example/${'a'.repeat(2100)}`, /at most 2048/],
      ];
      for (const [url, reason] of cases) {
        const res = await server.call('POST', '/v1/videos/generations', { body: { ...T2V, callback_url: url } });
        assert.equal(res.status, 400, url);
        assert.match(res.body.error.message, /^callback_url: /, url);
        assert.match(res.body.error.message, reason, url);
        // No oracle: never the address a name resolved to, nor its range (CONTRACT §8.6).
        assert.doesNotMatch(res.body.error.message, /loopback|private|link-local|CGNAT|unspecified|resolves|127\.0|::1/, url);
      }
    });

    it('forbids models a key may not use, and lists only its models', async () => {
      const key = await server.newKey({ user: 'bob', models: ['wan2.7-video-edit'] });
      const res = await server.call('POST', '/v1/videos/generations', { key, body: T2V });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'model_access_denied');
      const models = await server.call('GET', '/v1/models', { key });
      assert.deepEqual(models.body, {
        object: 'list', data: [{ id: 'wan2.7-video-edit', object: 'model', owned_by: 'alibaba', family: 'wan', kind: 'edit', billing_rule: 'per_second' }],
      });
      assert.equal((await server.call('GET', '/v1/models/wan2.7-video-edit', { key })).status, 200);
      const other = await server.call('GET', '/v1/models/wan2.7-text-to-video', { key });
      assert.equal(other.status, 404, 'a model the key may not use is not shown either');
      assert.equal(other.body.error.param, 'model_id');
    });
  });

  describe('estimate', () => {
    it('answers what create would reserve, and creates and reserves nothing', async () => {
      const body = { model: 'wan2.7-text-to-video', prompt: 'how much', duration: 8, quality: '1080p' };
      const credits = async () => (await server.call('GET', '/v1/credits')).body.data.user.remaining_credits;
      const tasks = async () => (await server.call('GET', '/v1/tasks?limit=100')).body.data.length;
      const [creditsBefore, tasksBefore] = [await credits(), await tasks()];
      const estimate = await server.call('POST', '/v1/videos/generations/estimate', { body });
      assert.equal(estimate.status, 200);
      assert.deepEqual([estimate.body.object, estimate.body.model, estimate.body.quality, estimate.body.billed_seconds], ['task.estimate', 'wan2.7-text-to-video', '1080p', 8]);
      assert.deepEqual([await credits(), await tasks()], [creditsBefore, tasksBefore]);
      const created = await server.call('POST', '/v1/videos/generations', { body });
      assert.equal(created.body.usage.credits_reserved, estimate.body.credits);
      await server.call('DELETE', `/v1/tasks/${created.body.id}`);
      const bad = await server.call('POST', '/v1/videos/generations/estimate', { body: { ...body, duration: 99 } });
      assert.deepEqual([bad.status, bad.body.error.param], [400, 'duration']);
    });
  });

  describe('get', () => {
    it("returns the owner's task as create returned it", async () => {
      const created = (await server.call('POST', '/v1/videos/generations', { body: T2V })).body;
      const res = await server.call('GET', `/v1/tasks/${created.id}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, created);
    });
    it("answers 404 for another user's task, as for a missing one", async () => {
      const created = (await server.call('POST', '/v1/videos/generations', { body: T2V })).body;
      const mallory = await server.newKey({ user: 'mallory' });
      const res = await server.call('GET', `/v1/tasks/${created.id}`, { key: mallory });
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'task_not_found');
      const missing = await server.call('GET', '/v1/tasks/task-unified-1700000000-zzzzzzzz');
      assert.deepEqual({ ...missing.body.error, message: '' }, { ...res.body.error, message: '' });
    });
    it('a second key of the same user sees the task', async () => {
      const created = (await server.call('POST', '/v1/videos/generations', { body: T2V })).body;
      const second = await server.newKey({ user: 'alice' });
      assert.equal((await server.call('GET', `/v1/tasks/${created.id}`, { key: second })).status, 200);
    });
    it('answers 400 invalid_task_id for ids not of the task-unified- form', async () => {
      for (const id of ['abc', 'task-unified-', 'task-unified-123-ABCDEFGH', 'task-unified-123-abc', '%27%20or%201=1']) {
        const res = await server.call('GET', `/v1/tasks/${id}`);
        assert.equal(res.status, 400, id);
        assert.equal(res.body.error.code, 'invalid_task_id');
      }
    });
  });

  describe('list', () => {
    it("pages through the caller's own tasks, newest first, and filters by status", async () => {
      const key = await server.newKey({ user: 'lister', userCredits: 1_000_000_000 });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await server.call('POST', '/v1/videos/generations', { body: T2V, key })).body.id);
      await server.call('DELETE', `/v1/tasks/${ids[1]}`, { key });
      const pages: string[][] = [];
      let before: string | null = null;
      for (;;) {
        const res = await server.call('GET', `/v1/tasks?limit=2${before ? `&before=${before}` : ''}`, { key });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.object, 'list');
        pages.push(res.body.data.map((t: any) => t.id));
        before = res.body.last_id;
        if (!res.body.has_more) break;
      }
      assert.deepEqual(pages.flat(), [...ids].reverse());
      assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
      const cancelled = await server.call('GET', '/v1/tasks?status=cancelled', { key });
      assert.deepEqual(cancelled.body.data.map((t: any) => [t.id, t.status]), [[ids[1], 'cancelled']]);
      const others = await server.call('GET', '/v1/tasks?limit=100', { key: server.key });
      assert.ok(!others.body.data.some((t: any) => ids.includes(t.id)), "another user's list never shows them");
      for (const [query, field] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['status=done', 'status'], ['before=nope', 'before']]) {
        const res = await server.call('GET', `/v1/tasks?${query}`, { key });
        assert.equal(res.status, 400, query);
        assert.ok(res.body.error.message.startsWith(`${field}: `), res.body.error.message);
      }
      assert.equal((await server.call('GET', `/v1/tasks?before=${ids[0]}`, { key: server.key })).status, 404);
    });
  });

  describe('models, docs and unknown routes', () => {
    it('lists the whole catalog with each model\'s family, kind and billing rule', async () => {
      const res = await server.call('GET', '/v1/models');
      assert.equal(res.body.data.length, 74);
      const row = (id: string) => res.body.data.map((m: Record<string, string>) => [m.id, m.family, m.kind, m.billing_rule]).find((r: string[]) => r[0] === id);
      assert.deepEqual(row('wan2.7-text-to-video'), ['wan2.7-text-to-video', 'wan', 't2v', 'per_second']);
      assert.deepEqual(row('happyhorse-1.0-video-edit'), ['happyhorse-1.0-video-edit', 'happyhorse', 'edit', 'per_second']);
      assert.deepEqual(row('kling-o1-image-to-video'), ['kling-o1-image-to-video', 'kling', 'i2v', 'per_call']);
      assert.deepEqual(row('gemini-omni-flash-text-to-video'), ['gemini-omni-flash-text-to-video', 'gemini', 't2v', 'per_token']);
      assert.deepEqual(row('topaz-video-upscale'), ['topaz-video-upscale', 'other', 'other', 'per_second']);
    });
    it('answers one model with its request schema and its prices by quality; 404 for an unknown id', async () => {
      const res = await server.call('GET', '/v1/models/happyhorse-1.0-video-edit');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([res.body.id, res.body.family, res.body.kind, res.body.billing_rule], ['happyhorse-1.0-video-edit', 'happyhorse', 'edit', 'per_second']);
      assert.deepEqual(res.body.prices, { '720p': 17.9, '1080p': 31.8 });
      const document = res.body.input_schema;
      assert.equal(document.$schema, 'https://json-schema.org/draft/2020-12/schema');
      const schema = document.$ref ? document.$defs[document.$ref.split('/').pop()] : document;
      assert.deepEqual(schema.required, ['model', 'prompt']);
      assert.ok(schema.properties.video_urls && schema.properties.keep_original_sound, 'the request fields');
      assert.equal(schema.properties.image_urls.maxItems, 5);
      const unknown = await server.call('GET', '/v1/models/no-such-model');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'not_found');
    });
    it('serves OpenAPI 3.1 generated from the model schemas, and a docs page', async () => {
      const doc = (await server.call('GET', '/openapi.json', { key: null })).body;
      assert.equal(doc.openapi, '3.1.0');
      const create = doc.paths['/v1/videos/generations'].post;
      const body = JSON.stringify(create.requestBody.content['application/json'].schema);
      for (const model of ['Wan27TextToVideoRequest', 'Wan27ImageToVideoRequest', 'Wan27VideoEditRequest', 'HappyHorseVideoEditRequest']) {
        assert.ok(body.includes(model), model);
      }
      const t2v = JSON.stringify(doc.components.schemas.Wan27TextToVideoRequest);
      assert.ok(!Object.keys(doc.components.schemas).some((name) => name.endsWith('Input')), 'schemas keep their own names');
      assert.ok(t2v.includes('"aspect_ratio"') && t2v.includes('"3:4"') && t2v.includes('"minimum":2'));
      assert.ok(doc.paths['/v1/tasks/{task_id}'].get);
      for (const events of ['/v1/tasks/events', '/v1/tasks/{task_id}/events']) {
        assert.deepEqual(Object.keys(doc.paths[events].get.responses['200'].content), ['text/event-stream'], events);
        assert.equal(doc.paths[events].get.parameters.find((p: any) => p.in === 'header').name, 'last-event-id');
      }
      const page = await fetch(`${server.baseUrl}/docs/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
    });
    it('serves a document that passes redocly lint with its recommended rules: no errors, no warnings', async () => {
      const doc = (await server.call('GET', '/openapi.json', { key: null })).body;
      const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-openapi-'));
      try {
        writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(doc));
        const lint = spawnSync(REDOCLY, ['lint', '--extends=recommended', '--format=json', 'openapi.json'], { cwd: dir, encoding: 'utf8' });
        const report = JSON.parse(lint.stdout);
        assert.deepEqual(report.problems.map((p: { ruleId: string; message: string }) => `${p.ruleId}: ${p.message}`), []);
        assert.deepEqual([report.totals.errors, report.totals.warnings], [0, 0]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const operations = Object.values(doc.paths).flatMap((ops: any) => Object.values(ops)) as { operationId?: string }[];
      assert.ok(operations.every((op) => op.operationId), 'every operation has an operationId, for generated clients');
    });
    it('answers unknown routes with the error body', async () => {
      const res = await server.call('GET', '/v1/nothing-here');
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'not_found');
    });
  });
});

describe('GET /v1/models with channels that serve only some models', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ VIDGATE_CHANNELS: JSON.stringify([{ name: 'only-t2v', engine: 'local', models: ['wan2.7-text-to-video'] }]) });
  });
  after(() => server.close());

  it('lists what the key may use and some channel serves, so every listed model can be created', async () => {
    const models = await server.call('GET', '/v1/models');
    assert.deepEqual(models.body.data.map((m: { id: string }) => m.id), ['wan2.7-text-to-video']);
    const unserved = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-video-edit', video_urls: ['http://127.0.0.1:9/a.mp4'] } });
    assert.equal(unserved.status, 503, 'an unlisted model is one no channel serves');
  });
});
