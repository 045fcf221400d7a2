import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { bookQueryTurn, holdOffQueries, recordChannelFailure, recordChannelSuccess, restingChannels, sharedQueryTurns, takeSubmitSlot } from '../../src/channels/health.ts';
import { Pacer } from '../../src/engines/pacer.ts';
import type { Channel } from '../../src/channels/channel.ts';
import { ChannelRouter } from '../../src/channels/router.ts';
import { loadSettings } from '../../src/config.ts';
import type { Upstream } from '../../src/engines/upstream.ts';
import { claimDueJobs, fenceOf, enqueueJob } from '../../src/queue/jobs.ts';
import { systemClock } from '../../src/util/clock.ts';
import { seedTask } from '../helpers/tasks.ts';
import { failureFor, statusOf } from '../../src/engines/dashscope/status.ts';
import { fillWorkflow, placeholdersIn } from '../../src/engines/comfyui/workflow.ts';
import { FalWebhookVerifier } from '../../src/engines/fal/webhook.ts';
import { describeOnEachStore } from '../helpers/store.ts';

describeOnEachStore('channel health and submit pacing (one row per channel, shared by processes)', (handle) => {

  it('lets one second\'s worth of submits through, then says how long until the next', async () => {
    const { db } = handle.store;
    const now = 1_000_000;
    const taken = [];
    for (let i = 0; i < 4; i += 1) taken.push(await takeSubmitSlot(db, 'paced', 2, now));
    assert.deepEqual(taken.map((w) => w === 0), [true, true, false, false], '2 a second: a burst of 2');
    assert.ok(taken[2] > 0 && taken[2] <= 500);
    assert.equal(await takeSubmitSlot(db, 'paced', 2, now + 500), 0, 'one more after half a second');
    assert.equal(await takeSubmitSlot(db, 'unpaced', 0, now), 0);
    const thirds = [];
    for (let i = 0; i < 4; i += 1) thirds.push(await takeSubmitSlot(db, 'thirds', 3, now));
    assert.deepEqual(thirds.map((w) => w === 0), [true, true, true, false], '3 a second (an interval of 333⅓ ms)');
  });

  it('rests a channel after three failures in a row, or at once for a Retry-After; a success ends the streak', async () => {
    const { db } = handle.store;
    const now = 2_000_000;
    await recordChannelFailure(db, 'flaky', now);
    await recordChannelFailure(db, 'flaky', now);
    assert.equal((await restingChannels(db, now)).has('flaky'), false);
    await recordChannelFailure(db, 'flaky', now);
    assert.equal((await restingChannels(db, now + 1)).has('flaky'), true);
    await recordChannelSuccess(db, 'flaky', now + 2);
    assert.equal((await restingChannels(db, now + 3)).has('flaky'), false);
    await recordChannelFailure(db, 'throttled', now, 5_000);
    assert.equal((await restingChannels(db, now + 4_999)).has('throttled'), true);
    assert.equal((await restingChannels(db, now + 5_000)).has('throttled'), false);
  });

  it('books query turns a gap apart, whoever asks, and holds them all off after a throttle', async () => {
    const { db } = handle.store;
    const now = 3_000_000;
    const starts = [];
    for (let i = 0; i < 3; i += 1) starts.push(await bookQueryTurn(db, 'queried', 100, now));
    assert.deepEqual(starts, [now, now + 100, now + 200]);
    assert.equal(await bookQueryTurn(db, 'queried', 100, now + 1_000), now + 1_000, 'an idle channel starts at once');
    await holdOffQueries(db, 'queried', now + 5_000);
    assert.equal(await bookQueryTurn(db, 'queried', 100, now + 1_001), now + 5_000);
    await holdOffQueries(db, 'queried', now + 2_000);
    assert.equal(await bookQueryTurn(db, 'queried', 100, now + 1_002), now + 5_100, 'a shorter hold-off changes nothing');
  });

  it('spaces the calls of three processes\' pacers as one: each call waits for a turn booked a gap after the last', async () => {
    const shared = sharedQueryTurns(handle.store, 'shared');
    const booked: number[] = [];
    const early: number[] = [];
    await Promise.all([0, 1, 2].map(async () => {
      let mine = 0;
      const pacer = new Pacer(20, { ...shared, book: async (gapMs, now) => (mine = await shared.book(gapMs, now)) });
      for (let i = 0; i < 10; i += 1) {
        await pacer.take();
        booked.push(mine);
        if (Date.now() - mine < -2) early.push(Date.now() - mine); // timers may round a millisecond early, never more
      }
    }));
    booked.sort((a, b) => a - b);
    const gaps = booked.slice(1).map((at, i) => at - booked[i]);
    assert.ok(Math.min(...gaps) >= Math.ceil(1000 / 18), `turns ${Math.min(...gaps)} ms apart`);
    assert.deepEqual(early, [], 'no call started before its turn');
  });
});

describeOnEachStore('routing by many workers at once', (handle) => {
  it('never routes past max_concurrency, however many workers route at the same moment', async () => {
    const { store } = handle;
    const settings = loadSettings({
      FAKE_KEY: 'k',
      VIDGATE_CHANNELS: JSON.stringify([
        { name: 'tight', engine: 'dashscope', base_url: 'http://127.0.0.1:9/api/v1', api_key_env: 'FAKE_KEY', max_concurrency: 1, priority: 10 },
        { name: 'roomy', engine: 'dashscope', base_url: 'http://127.0.0.1:9/api/v1', api_key_env: 'FAKE_KEY', max_concurrency: 2 },
      ]),
    });
    // Never called: routing only decides where a job goes (the base URL above is never contacted).
    const channels: Channel[] = settings.channels.map((c) => ({ name: c.name, settings: c, renderer: null, upstream: {} as Upstream }));
    const router = new ChannelRouter(channels, store, systemClock);
    const now = Date.now();
    const ids = Array.from({ length: 8 }, (_, i) => `task-unified-1700000000-race000${i}`);
    for (const id of ids) {
      await seedTask(store, id, now);
      await store.write((trx) => enqueueJob(trx, id, 'wan2.7-text-to-video', 3, now));
    }
    // Eight workers, each holding one job, all routing at once (each in its own transaction on PostgreSQL).
    const leases = await Promise.all(ids.map((_, i) => store.write((trx) => claimDueJobs(trx, { workerId: `w${i}`, limit: 1, now, leaseMs: 60_000 }))));
    const decisions = await Promise.all(leases.map(([job]) =>
      store.write((trx) => router.route(trx, fenceOf(job, job.lease_owner!), job.model, [], now))));
    const routedTo = decisions.flatMap((d) => (d.kind === 'routed' ? [d.channel.name] : [])).sort();
    assert.deepEqual(routedTo, ['roomy', 'roomy', 'tight']);
    assert.deepEqual(decisions.filter((d) => d.kind === 'parked').length, 5);
  });
});

describe('dashscope status and error mapping', () => {
  const query = (task_status: string, extra: Record<string, unknown> = {}) => ({ output: { task_id: 't', task_status, ...extra } });

  it('maps every documented status and keeps unknown ones out of sight', () => {
    assert.equal(statusOf(query('PENDING')).state, 'queued');
    assert.equal(statusOf(query('RUNNING')).state, 'running');
    assert.deepEqual(statusOf({ ...query('SUCCEEDED', { video_url: 'https://oss/x.mp4' }), usage: { duration: 12 } }), { state: 'succeeded', result: { url: 'https://oss/x.mp4', billedSeconds: 12 } });
    assert.deepEqual(statusOf({ ...query('SUCCEEDED', { video_url: 'u' }), usage: { input_video_duration: 4, output_video_duration: 4 } }), { state: 'succeeded', result: { url: 'u', billedSeconds: 8 } });
    // The flat 2.5 / 2.6 shape (UPSTREAMS-2.md §2.5).
    assert.deepEqual(statusOf({ ...query('SUCCEEDED', { video_url: 'u' }), usage: { video_duration: 10, video_count: 1, video_ratio: '1280*720' } as never }), { state: 'succeeded', result: { url: 'u', billedSeconds: 10 } });
    assert.equal(statusOf(query('SUCCEEDED')).state, 'failed', 'no video: no content');
    assert.equal(statusOf(query('CANCELED')).state, 'cancelled');
    assert.equal(statusOf(query('UNKNOWN')).state, 'lost');
    assert.deepEqual(statusOf(query('SUSPENDED')), { state: 'unrecognised', status: 'SUSPENDED' });
  });

  it('maps error codes to task codes in its own words', () => {
    const cases: [string, string][] = [
      ['DataInspectionFailed', 'content_policy_violation'], ['InvalidParameter', 'invalid_parameters'], ['InvalidURL', 'invalid_parameters'],
      ['InvalidImageFormat', 'image_processing_error'], ['Throttling.RateQuota', 'resource_exhausted'], ['Arrearage', 'service_unavailable'],
      ['InternalError', 'service_error'], ['Whatever', 'unknown_error'],
    ];
    for (const [code, expected] of cases) {
      const failure = failureFor(code);
      assert.equal(failure.code, expected, code);
      assert.ok(!failure.message.includes(code));
    }
  });
});

describe('comfyui workflow placeholders', () => {
  it('fills whole-value placeholders with typed values and embedded ones as text', () => {
    const graph = { 1: { class_type: 'KSampler', inputs: { seed: '{{seed}}', note: 'seed {{seed}} for {{task_id}}', model: ['2', 0] } } };
    assert.deepEqual([...placeholdersIn(graph)].sort(), ['seed', 'task_id']);
    const filled = fillWorkflow(graph, { seed: 42, task_id: 't1' });
    assert.deepEqual(filled[1].inputs, { seed: 42, note: 'seed 42 for t1', model: ['2', 0] });
  });
});

describe('fal webhook signatures', () => {
  const keys = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const jwks = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: (keys.publicKey.export({ format: 'jwk' }) as { x: string }).x }] };
  const body = Buffer.from('{"request_id":"r1","status":"OK"}');
  const headers = (timestamp: number, key = keys.privateKey, payload = body, user = 'u1') => {
    const message = `r1\n${user}\n${timestamp}\n${createHash('sha256').update(payload).digest('hex')}`;
    return {
      'x-fal-webhook-request-id': 'r1', 'x-fal-webhook-user-id': user, 'x-fal-webhook-timestamp': String(timestamp),
      'x-fal-webhook-signature': sign(null, Buffer.from(message), key).toString('hex'),
    };
  };

  it('accepts fal\'s signature over the exact body within five minutes, nothing else', async () => {
    let fetched = 0;
    const verifier = new FalWebhookVerifier(async () => (fetched += 1, jwks), 'u1');
    const now = 1_800_000_000_000;
    const t = now / 1000;
    assert.equal(await verifier.verify(headers(t), body, now), 'r1');
    assert.equal(await verifier.verify(headers(t, other.privateKey), body, now), null, 'another key');
    assert.equal(await verifier.verify(headers(t), Buffer.from(`${body} `), now), null, 'another body');
    assert.equal(await verifier.verify(headers(t - 301), body, now), null, 'too old');
    assert.equal(await verifier.verify({ ...headers(t), 'x-fal-webhook-signature': 'zz' }, body, now), null);
    assert.equal(await verifier.verify(headers(t, keys.privateKey, body, 'u2'), body, now), null, "another fal account's, validly signed");
    assert.equal(fetched, 1, 'the keys are fetched once and kept');
  });
});
