import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { waitForTask } from '../helpers/poll.ts';
import { type Received, startReceiver } from '../helpers/receiver.ts';
import { tableResolver } from '../helpers/resolver.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { STORE_KINDS, tempPostgresDatabase } from '../helpers/store.ts';

const ALLOW = { VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_WORKER_POLL: '50ms' };
const T2V = { model: 'wan2.7-text-to-video', prompt: 'a paper boat on a pond', duration: 2 };

async function createTask(server: TestServer, body: Record<string, unknown>, key?: string): Promise<string> {
  const res = await server.call('POST', '/v1/videos/generations', { body, key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.id;
}

async function deliveries(server: TestServer, taskId: string, key?: string): Promise<any[]> {
  const res = await server.call('GET', `/v1/tasks/${taskId}/callbacks`, { key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
}

async function waitForDelivery(server: TestServer, taskId: string, status: string, timeoutMs = 20_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [delivery] = await deliveries(server, taskId);
    if (delivery?.status === status) return delivery;
    if (Date.now() > end) throw new Error(`delivery of ${taskId} is ${JSON.stringify(delivery)}, not ${status}`);
    await sleep(50);
  }
}

function verify(secret: string, request: Received): unknown {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
}

for (const store of STORE_KINDS) describe(`callbacks (${store})`, () => {
  describe('with the default schedule (1 s, 2 s, 4 s)', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(ALLOW, { store, worker: true });
    });
    after(() => server.close());

    it('posts the task object as GET shows it, signed with the user\'s secret, after the ledger is settled', async () => {
      let creditsAtDelivery: Promise<any> | undefined;
      const receiver = await startReceiver(() => {
        creditsAtDelivery ??= server.call('GET', '/v1/credits').then((r) => r.body.data);
        return 204;
      });
      try {
        const before = (await server.call('GET', '/v1/credits')).body.data;
        const id = await createTask(server, { ...T2V, callback_url: receiver.url });
        const [request] = await receiver.waitFor(1);
        const task = (await server.call('GET', `/v1/tasks/${id}`)).body;
        assert.equal(task.status, 'completed');
        assert.deepEqual(JSON.parse(request.body), task);
        assert.equal(request.headers['content-type'], 'application/json');
        assert.match(String(request.headers['webhook-id']), /^msg_[a-z0-9]{26}$/);
        assert.deepEqual(verify(server.webhookSecret, request), task);
        assert.throws(() => verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, request), /signature/i);
        const settled = await creditsAtDelivery!;
        assert.equal(task.usage.credits_charged, 17.2);
        assert.equal(Math.round((settled.user.used_credits - before.user.used_credits) * 1000) / 1000, 17.2, 'charged before the callback was sent');
        const [delivery] = await deliveries(server, id);
        assert.equal(delivery.status, 'delivered');
        assert.deepEqual(delivery.attempts.map((a: any) => [a.attempt, a.status_code, a.error]), [[1, 204, null]]);
      } finally {
        await receiver.close();
      }
    });

    it('retries after 1, 2 and 4 s with the same webhook-id, and records every attempt', async () => {
      const receiver = await startReceiver((n) => (n < 3 ? 500 : 200));
      try {
        const id = await createTask(server, { ...T2V, callback_url: receiver.url });
        const requests = await receiver.waitFor(4, 30_000);
        const gaps = requests.slice(1).map((r, i) => r.at - requests[i].at);
        for (const [i, expected] of [1000, 2000, 4000].entries()) {
          assert.ok(gaps[i] >= expected - 20 && gaps[i] < expected + 1500, `retry ${i + 1} came after ${gaps[i]} ms, not ${expected}`);
        }
        assert.equal(new Set(requests.map((r) => r.headers['webhook-id'])).size, 1);
        for (const request of requests) assert.equal(request.body, requests[0].body);
        for (const request of requests) verify(server.webhookSecret, request);
        const delivery = await waitForDelivery(server, id, 'delivered');
        assert.deepEqual(delivery.attempts.map((a: any) => a.status_code), [500, 500, 500, 200]);
        assert.match(delivery.attempts[0].error, /HTTP 500/);
        assert.equal(delivery.id, requests[0].headers['webhook-id']);
      } finally {
        await receiver.close();
      }
    });

    it('re-sends a delivered callback on request, with the same webhook-id and body', async () => {
      const receiver = await startReceiver();
      try {
        const id = await createTask(server, { ...T2V, callback_url: receiver.url });
        await receiver.waitFor(1);
        await waitForDelivery(server, id, 'delivered');
        const res = await server.call('POST', `/v1/tasks/${id}/callbacks/resend`);
        assert.equal(res.status, 202, JSON.stringify(res.body));
        const [first, second] = await receiver.waitFor(2);
        assert.equal(second.headers['webhook-id'], first.headers['webhook-id']);
        assert.equal(second.body, first.body);
        const delivery = await waitForDelivery(server, id, 'delivered');
        assert.deepEqual(delivery.attempts.map((a: any) => a.attempt), [1, 2]);
        const other = await server.newKey({ user: 'mallory' });
        assert.equal((await server.call('POST', `/v1/tasks/${id}/callbacks/resend`, { key: other })).status, 404);
        assert.equal((await server.call('GET', `/v1/tasks/${id}/callbacks`, { key: other })).status, 404);
      } finally {
        await receiver.close();
      }
    });

    it('refuses to re-send for a task without a callback_url', async () => {
      const id = await createTask(server, T2V);
      await waitForTask(server, id);
      const res = await server.call('POST', `/v1/tasks/${id}/callbacks/resend`);
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /^callback_url: /);
    });
  });

  describe('with a short schedule (200 ms, 200 ms) and a 1 s timeout', () => {
    let server: TestServer;
    const table: Record<string, string[]> = { 'hooks.test': ['127.0.0.2'] };
    before(async () => {
      server = await startTestServer(
        { ...ALLOW, VIDGATE_CALLBACK_RETRIES: '200ms,200ms', VIDGATE_CALLBACK_TIMEOUT: '1s', VIDGATE_WORKER_CONCURRENCY: '1' },
        { store, worker: true, resolver: async (host) => tableResolver(table)(host) },
      );
    });
    after(() => server.close());

    it('gives up after the schedule when the receiver is down', async () => {
      const receiver = await startReceiver();
      const deadUrl = receiver.url;
      await receiver.close(); // nothing listens there now
      const id = await createTask(server, { ...T2V, callback_url: deadUrl });
      const delivery = await waitForDelivery(server, id, 'failed');
      assert.equal(delivery.attempts.length, 3);
      for (const attempt of delivery.attempts) {
        assert.equal(attempt.status_code, null);
        assert.match(attempt.error, /ECONNREFUSED/);
      }
    });

    it('counts a redirect and a timeout as failures', async () => {
      const receiver = await startReceiver((n) => (n === 0 ? 302 : n === 1 ? 'hang' : 200));
      try {
        const id = await createTask(server, { ...T2V, callback_url: receiver.url });
        const delivery = await waitForDelivery(server, id, 'delivered');
        assert.deepEqual(delivery.attempts.map((a: any) => a.status_code), [302, null, 200]);
        assert.match(delivery.attempts[0].error, /HTTP 302/);
        assert.match(delivery.attempts[1].error, /no answer within 1 s/);
        assert.equal(receiver.received.filter((r) => r.path === '/elsewhere').length, 0, 'the redirect is not followed');
      } finally {
        await receiver.close();
      }
    });

    it('re-checks the destination at every attempt', async () => {
      const receiver = await startReceiver(() => 500);
      try {
        table['hooks.test'] = ['127.0.0.2'];
        const id = await createTask(server, { ...T2V, callback_url: `http://hooks.test:${receiver.port}/hook` });
        await receiver.waitFor(1);
        table['hooks.test'] = ['127.0.0.1']; // the name now points outside the allow-list
        const delivery = await waitForDelivery(server, id, 'failed');
        assert.equal(receiver.received.length, 1);
        assert.equal(delivery.attempts[0].status_code, 500);
        for (const attempt of delivery.attempts.slice(1)) assert.match(attempt.error, /^callback_url: (must be an https:\/\/ URL|the URL is not allowed)/);
      } finally {
        table['hooks.test'] = ['127.0.0.2'];
        await receiver.close();
      }
    });
  });

  describe('with a receiver that hangs for the whole 30 s timeout', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ ...ALLOW, VIDGATE_CALLBACK_TIMEOUT: '30s', VIDGATE_WORKER_CONCURRENCY: '1' }, { store, worker: true });
    });
    after(() => server.close());

    it('never slows task processing: the hanging callback holds no render slot', async () => {
      const receiver = await startReceiver(() => 'hang');
      try {
        const first = await createTask(server, { ...T2V, callback_url: receiver.url });
        await receiver.waitFor(1);
        const second = await createTask(server, T2V);
        const done = await waitForTask(server, second, 25_000);
        assert.equal(done.status, 'completed');
        const [delivery] = await deliveries(server, first);
        assert.deepEqual([delivery.status, receiver.received.length], ['sending', 1], 'the first callback is still waiting for its answer');
      } finally {
        await receiver.close(); // ends the hanging attempt, so the server can stop
      }
    });
  });

  it('resumes a retry schedule after a restart, with the same webhook-id', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vidgate-restart-'));
    const database = store === 'postgres' ? await tempPostgresDatabase() : null; // both servers on one database
    const receiver = await startReceiver((n) => (n === 0 ? 503 : 200));
    const env = { ...ALLOW, VIDGATE_DATA_DIR: dataDir, VIDGATE_CALLBACK_RETRIES: '2s', ...(database ? { VIDGATE_DATABASE_URL: database.url } : {}) };
    try {
      const first = await startTestServer(env, { worker: true });
      const id = await createTask(first, { ...T2V, callback_url: receiver.url });
      await receiver.waitFor(1);
      await waitForDelivery(first, id, 'pending');
      await first.close();
      const second = await startTestServer(env, { worker: true });
      try {
        const [failed, delivered] = await receiver.waitFor(2);
        assert.equal(delivered.headers['webhook-id'], failed.headers['webhook-id']);
        assert.ok(delivered.at - failed.at >= 1980, `resumed after ${delivered.at - failed.at} ms`);
        const delivery = await waitForDelivery(second, id, 'delivered');
        assert.deepEqual(delivery.attempts.map((a: any) => [a.attempt, a.status_code]), [[1, 503], [2, 200]]);
      } finally {
        await second.close();
      }
    } finally {
      await receiver.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
