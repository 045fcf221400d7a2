import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { until, waitForTask } from '../helpers/poll.ts';
import { processesWorkingIn } from '../helpers/process.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { STORE_KINDS } from '../helpers/store.ts';

const CREDIT = 1_000_000;
const T2V = { model: 'wan2.7-text-to-video', prompt: 'a lighthouse at dusk', duration: 2 };

async function credits(server: TestServer, key: string): Promise<any> {
  const res = await server.call('GET', '/v1/credits', { key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual([res.body.success, res.body.message], [true, '']);
  return res.body.data;
}

const create = (server: TestServer, key: string, body: Record<string, unknown> = T2V, headers: Record<string, string> = {}) =>
  server.call('POST', '/v1/videos/generations', { body, key, headers });

async function waitForStatus(server: TestServer, id: string, key: string, status: string): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const task = (await server.call('GET', `/v1/tasks/${id}`, { key })).body;
    if (task.status === status) return task;
    await sleep(25);
  }
  throw new Error(`task ${id} never became ${status}`);
}

for (const store of STORE_KINDS) describe(`credits, limits, cancel and idempotency (${store})`, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_WORKER_POLL: '50ms', VIDGATE_CALLBACK_RETRIES: '100ms' }, { store, worker: true });
  });
  after(() => server.close());

  it('reserves at create, charges at completion, and GET /v1/credits shows both the key and the user', async () => {
    const key = await server.newKey({ user: 'erin', credits: 100 * CREDIT });
    assert.deepEqual(await credits(server, key), {
      token: { remaining_credits: 100, used_credits: 0, unlimited_credits: false },
      user: { remaining_credits: 100, used_credits: 0 },
    });
    const created = await create(server, key);
    assert.equal(created.body.usage.credits_reserved, 17.2);
    assert.equal(created.body.usage.credits_charged, undefined);
    const held = await credits(server, key);
    assert.deepEqual([held.token.remaining_credits, held.user.remaining_credits, held.user.used_credits], [82.8, 82.8, 0]);
    const done = await waitForTask(server, created.body.id, 60_000, key);
    assert.equal(done.usage.credits_charged, 17.2);
    for (let i = 0; i < 20; i++) await server.call('GET', `/v1/tasks/${done.id}`, { key }); // polling is free
    assert.deepEqual(await credits(server, key), {
      token: { remaining_credits: 82.8, used_credits: 17.2, unlimited_credits: false },
      user: { remaining_credits: 82.8, used_credits: 17.2 },
    });
  });

  it('answers 402 when the balance or the key\'s allowance cannot cover the quote, reserving nothing', async () => {
    const poor = await server.newKey({ user: 'frank', userCredits: 10 * CREDIT });
    const res = await create(server, poor);
    assert.equal(res.status, 402);
    assert.deepEqual([res.body.error.code, res.body.error.type], ['insufficient_quota', 'insufficient_quota']);
    assert.match(res.body.error.message, /^credits: this task needs 17\.2 credits and the balance is 10 credits/);
    assert.equal((await credits(server, poor)).user.remaining_credits, 10);

    const capped = await server.newKey({ user: 'alice', credits: 5 * CREDIT }); // alice is rich; this key is not
    const capRes = await create(server, capped);
    assert.equal(capRes.status, 402);
    assert.match(capRes.body.error.message, /this key's allowance has 5 credits left/);
    assert.equal((await credits(server, capped)).token.remaining_credits, 5);
  });

  it('never refuses an unlimited key for credits, and still records what it spends', async () => {
    const key = await server.newKey({ user: 'gina', unlimited: true });
    const res = await create(server, key);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await waitForTask(server, res.body.id, 60_000, key);
    const data = await credits(server, key);
    assert.deepEqual(data.token, { remaining_credits: -17.2, used_credits: 17.2, unlimited_credits: true });
    assert.deepEqual(data.user, { remaining_credits: -17.2, used_credits: 17.2 });
  });

  it('cancels a running render: cancelled with request_cancelled, ffmpeg stopped, everything released, callback sent', async () => {
    const receiver = await startReceiver();
    try {
      const key = await server.newKey({ user: 'hana', credits: 500 * CREDIT });
      const body = { model: 'wan2.7-text-to-video', prompt: 'a slow river', duration: 15, resolution: '1080p', callback_url: receiver.url };
      const created = await create(server, key, body);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      await waitForStatus(server, created.body.id, key, 'processing');
      await sleep(300);
      const res = await server.call('DELETE', `/v1/tasks/${created.body.id}`, { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { id: created.body.id, object: 'task.cancelled', status: 'cancelled', message: res.body.message });
      const task = (await server.call('GET', `/v1/tasks/${created.body.id}`, { key })).body;
      assert.equal(task.status, 'cancelled');
      assert.equal(task.task_info.can_cancel, false);
      assert.equal(task.error.code, 'request_cancelled');
      assert.equal(task.usage.credits_charged, 0);
      assert.deepEqual(await credits(server, key), {
        token: { remaining_credits: 500, used_credits: 0, unlimited_credits: false },
        user: { remaining_credits: 500, used_credits: 0 },
      });
      const [callback] = await receiver.waitFor(1);
      assert.deepEqual(JSON.parse(callback.body), task);
      await until(() => server.app.worker!.busy === 0, 'the render stopped');
      assert.deepEqual(processesWorkingIn(server.dataDir), []);
      const again = await server.call('DELETE', `/v1/tasks/${created.body.id}`, { key });
      assert.equal(again.status, 400);
      assert.match(again.body.error.message, /^task_id: the task is cancelled and can no longer be cancelled/);
    } finally {
      await receiver.close();
    }
  });

  it('cancels a pending task before any worker takes it; a finished task cannot be cancelled', async () => {
    const key = await server.newKey({ user: 'ivan', credits: 100 * CREDIT });
    const done = await waitForTask(server, (await create(server, key)).body.id, 60_000, key);
    const res = await server.call('DELETE', `/v1/tasks/${done.id}`, { key });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'invalid_request');
    assert.equal((await server.call('DELETE', '/v1/tasks/task-unified-1700000000-zzzzzzzz', { key })).status, 404);
    assert.equal((await server.call('DELETE', '/v1/tasks/nope', { key })).status, 400);
  });

  it('limits task creations per minute per key with 429 and Retry-After; reads are not limited', async () => {
    const key = await server.newKey({ user: 'judy', credits: 100 * CREDIT, rpm: 2 });
    assert.equal((await create(server, key)).status, 200);
    assert.equal((await create(server, key)).status, 200);
    const limited = await create(server, key);
    assert.equal(limited.status, 429);
    assert.deepEqual([limited.body.error.code, limited.body.error.type], ['rate_limit_exceeded', 'rate_limit_error']);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1 && Number(limited.headers.get('retry-after')) <= 60);
    for (let i = 0; i < 10; i++) assert.equal((await server.call('GET', '/v1/credits', { key })).status, 200);
    assert.equal((await create(server, server.key)).status, 200, 'other keys are not affected');
  });

  it('limits unfinished tasks per key with 429 and Retry-After, reserving nothing', async () => {
    const key = await server.newKey({ user: 'ken', credits: 1000 * CREDIT, maxUnfinished: 1 });
    const first = await create(server, key, { ...T2V, duration: 10 });
    assert.equal(first.status, 200);
    const second = await create(server, key);
    assert.equal(second.status, 429);
    assert.match(second.body.error.message, /1 unfinished tasks/);
    assert.ok(Number(second.headers.get('retry-after')) >= 1);
    assert.equal((await credits(server, key)).token.remaining_credits, 1000 - 86);
    await waitForTask(server, first.body.id, 60_000, key);
    assert.equal((await create(server, key)).status, 200, 'allowed again once the first finished');
  });

  it('replays an Idempotency-Key: one task and one charge for concurrent repeats, 409 for another body', async () => {
    const key = await server.newKey({ user: 'lena', credits: 20 * CREDIT }); // enough for one task, not two
    const headers = { 'idempotency-key': 'order-42' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => create(server, key, T2V, headers)));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1, 'one task');
    assert.equal((await credits(server, key)).user.remaining_credits, 2.8, 'one reservation');
    const ids = await server.app.db.selectFrom('tasks').select('id').where('user_id', '=', (await userIdOf(server, 'lena'))).execute();
    assert.equal(ids.length, 1);

    const later = await create(server, key, { ...T2V, unknown_field: 'ignored' }, headers);
    assert.equal(later.body.id, answers[0].body.id, 'unknown fields do not change the request');
    const conflict = await create(server, key, { ...T2V, prompt: 'something else' }, headers);
    assert.equal(conflict.status, 409);
    assert.deepEqual([conflict.body.error.code, conflict.body.error.param], ['idempotency_conflict', 'Idempotency-Key']);
    const other = await server.newKey({ user: 'mia', credits: 100 * CREDIT });
    assert.notEqual((await create(server, other, T2V, headers)).body.id, answers[0].body.id, 'keys are per user');
    const bad = await create(server, key, T2V, { 'idempotency-key': 'x'.repeat(256) });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^idempotency-key: /);
  });

  it('forgets an Idempotency-Key after 24 hours', async () => {
    const key = await server.newKey({ user: 'nora', credits: 100 * CREDIT });
    const headers = { 'idempotency-key': 'daily' };
    const first = await create(server, key, T2V, headers);
    await server.app.db.updateTable('idempotency_keys').set({ expires_at: Date.now() - 1 }).where('key', '=', 'daily').execute();
    const second = await create(server, key, { ...T2V, prompt: 'a new day' }, headers);
    assert.equal(second.status, 200);
    assert.notEqual(second.body.id, first.body.id);
  });
});

async function userIdOf(server: TestServer, name: string): Promise<string> {
  return (await server.app.db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
}
