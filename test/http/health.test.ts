import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitForTask } from '../helpers/poll.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** The value of one sample in Prometheus text, e.g. sample(text, 'vidgate_tasks{status="completed"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('health, readiness and metrics', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const token = 'metrics-token-0123456789';
  const metrics = async () => {
    const res = await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  before(async () => {
    receiver = await startReceiver((n) => (n === 0 ? 500 : 200));
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_METRICS_TOKEN: token, VIDGATE_CALLBACK_RETRIES: '100ms' }, { worker: true });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  it('answers /healthz and /readyz without a key', async () => {
    assert.deepEqual((await server.call('GET', '/healthz', { key: null })).body, { status: 'ok' });
    assert.deepEqual((await server.call('GET', '/readyz', { key: null })).body, { status: 'ready', store: 'ok', storage: 'ok' });
  });

  it('wants the metrics token when one is set', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${token}x`]) {
      const res = await fetch(`${server.baseUrl}/metrics`, { headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 401);
    }
  });

  it('counts requests, task states, durations, callbacks, the queue and the ledger', async () => {
    const created = await server.call('POST', '/v1/videos/generations', {
      body: { model: 'wan2.7-text-to-video', prompt: 'a lighthouse', duration: 2, callback_url: receiver.url },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal((await server.call('POST', '/v1/videos/generations', { body: { model: 'nope' } })).status, 400);
    const task = await waitForTask(server, created.body.id);
    assert.equal(task.status, 'completed');
    await receiver.waitFor(2);
    const text = await metrics();
    assert.equal(sample(text, 'vidgate_http_requests_total{method="POST",route="/v1/videos/generations",status="200"}'), 1);
    assert.equal(sample(text, 'vidgate_http_requests_total{method="POST",route="/v1/videos/generations",status="400"}'), 1);
    assert.ok(sample(text, 'vidgate_http_request_duration_seconds_count{method="GET",route="/v1/tasks/:task_id"}')! >= 1);
    assert.equal(sample(text, 'vidgate_tasks{status="completed"}'), 1);
    assert.equal(sample(text, 'vidgate_tasks_ended_total{model="wan2.7-text-to-video",channel="local",status="completed"}'), 1);
    assert.equal(sample(text, 'vidgate_render_duration_seconds_count{channel="local",model="wan2.7-text-to-video"}'), 1);
    assert.equal(sample(text, 'vidgate_queue_wait_seconds_count{model="wan2.7-text-to-video"}'), 1);
    assert.equal(sample(text, 'vidgate_queue_jobs{state="queued"}'), 0);
    assert.equal(sample(text, 'vidgate_queue_oldest_due_seconds'), 0);
    assert.equal(sample(text, 'vidgate_callback_attempts_total{outcome="retry"}'), 1);
    assert.equal(sample(text, 'vidgate_callback_attempts_total{outcome="delivered"}'), 1);
    assert.equal(sample(text, 'vidgate_callback_deliveries{state="delivered"}'), 1);
    const reserved = task.usage.credits_reserved;
    assert.equal(sample(text, 'vidgate_ledger_credits{kind="reserve"}'), reserved); // amounts are positive; the kind says which way
    assert.equal((sample(text, 'vidgate_ledger_credits{kind="charge"}') ?? 0) + (sample(text, 'vidgate_ledger_credits{kind="release"}') ?? 0), reserved);
    assert.ok(sample(text, 'vidgate_process_resident_memory_bytes')! > 0);
  });
});
