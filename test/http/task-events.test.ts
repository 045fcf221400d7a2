import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { FileObjectStore } from '../../src/storage/file-store.ts';
import { ResultFiles } from '../../src/media/results.ts';
import { LocalSignalBus } from '../../src/store/signals.ts';
import { eventId, TaskEvents } from '../../src/tasks/events.ts';
import { systemClock } from '../../src/util/clock.ts';
import { type SseEvent, readEvents } from '../helpers/sse.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/poll.ts';
import { startVidgate } from '../helpers/process.ts';
import { tempPostgresDatabase } from '../helpers/store.ts';

const ORDER = ['pending', 'processing', 'completed'];

describe('task events (Server-Sent Events)', () => {
  let server: TestServer;
  let otherKey: string;
  const stream = (path: string, headers: Record<string, string> = {}, key = server.key, signal?: AbortSignal) =>
    fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers }, signal });

  before(async () => {
    server = await startTestServer({}, { worker: true, taskEvents: { heartbeatMs: 200 } });
    otherKey = await server.newKey({ user: 'mallory', userCredits: 100_000_000 });
  });
  after(() => server.close());

  it('streams a task from its current state through its progress to the end, ids growing, and then closes', async () => {
    const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'a slow tide', duration: 3, quality: '720p' } });
    const res = await stream(`/v1/tasks/${created.body.id}/events`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const events = await readEvents(res); // ends when the server closes it
    assert.ok(events.length >= 2, `${events.length} events`);
    const tasks = events.map((event) => JSON.parse(event.data));
    assert.ok(events.every((event) => event.event === 'task'));
    assert.equal(tasks.at(-1).status, 'completed');
    assert.ok(tasks.at(-1).results[0].endsWith('.mp4'));
    for (let i = 1; i < events.length; i++) {
      assert.ok(Number(events[i].id) > Number(events[i - 1].id), 'ids grow');
      assert.ok(ORDER.indexOf(tasks[i].status) >= ORDER.indexOf(tasks[i - 1].status), 'statuses only move on');
      assert.ok(tasks[i].progress >= tasks[i - 1].progress, 'progress never goes back');
    }
    const done = (await server.call('GET', `/v1/tasks/${created.body.id}`)).body;
    assert.deepEqual(tasks.at(-1), done, 'the last event is the task object GET answers');

    // Resume: after the second-last event only the end comes again; after the last, nothing and an immediate close.
    const resumed = await readEvents(await stream(`/v1/tasks/${created.body.id}/events`, { 'last-event-id': events.at(-2)!.id! }));
    assert.deepEqual(resumed.map((event) => event.id), [events.at(-1)!.id]);
    assert.deepEqual(await readEvents(await stream(`/v1/tasks/${created.body.id}/events`, { 'last-event-id': events.at(-1)!.id! })), []);
  });

  it('shows a task only to its owner, and says what is wrong with a bad id or Last-Event-ID', async () => {
    const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'mine', duration: 2 } });
    const foreign = await stream(`/v1/tasks/${created.body.id}/events`, {}, otherKey);
    assert.equal(foreign.status, 404);
    assert.equal(((await foreign.json()) as any).error.code, 'task_not_found');
    assert.equal((await stream('/v1/tasks/nonsense/events')).status, 400);
    const badResume = await stream(`/v1/tasks/${created.body.id}/events`, { 'last-event-id': 'yesterday' });
    assert.equal(badResume.status, 400);
    assert.match(((await badResume.json()) as any).error.message, /last-event-id/);
    assert.equal((await stream(`/v1/tasks/${created.body.id}/events`, {}, '')).status, 401);
  });

  it('streams every task of the user on one stream, with heartbeats, and stays open', async () => {
    const controller = new AbortController();
    const seen = new Map<string, string[]>();
    let comments = 0;
    const res = await stream('/v1/tasks/events', {}, server.key, controller.signal);
    let ended = false;
    const reading = readEvents(res, {
      onEvent: (event: SseEvent) => {
        const task = JSON.parse(event.data);
        (seen.get(task.id) ?? seen.set(task.id, []).get(task.id)!).push(task.status);
      },
      onComment: () => comments++,
    }).finally(() => (ended = true));
    const ids: string[] = [];
    for (const prompt of ['one', 'two']) ids.push((await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt, duration: 2 } })).body.id);
    const foreign = (await server.call('POST', '/v1/videos/generations', { key: otherKey, body: { model: 'wan2.7-text-to-video', prompt: 'not yours', duration: 2 } })).body.id;
    await until(() => ids.every((id) => seen.get(id)?.includes('completed')), 'both tasks seen through to the end');
    await until(() => comments >= 1, 'a heartbeat comment');
    assert.equal(seen.has(foreign), false, "another user's task never shows");
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    assert.match(metrics, /^vidgate_task_event_streams 1$/m, 'the open stream is counted');
    assert.equal(ended, false, 'still open after the tasks ended');
    controller.abort();
    await reading;
  });
});

describe('task events across processes (PostgreSQL)', { skip: !process.env.VIDGATE_TEST_DATABASE_URL && 'needs PostgreSQL (bin/test starts one)' }, () => {
  it('a task a worker in another process runs reaches the stream through the signal bus alone', { timeout: 120_000 }, async () => {
    const database = await tempPostgresDatabase();
    // No catch-up read in the API process: only the worker's signals can bring the changes.
    const api = await startTestServer({ VIDGATE_DATABASE_URL: database.url }, { worker: false, taskEvents: { catchUpMs: 3_600_000 } });
    const worker = await startVidgate(['worker'], { VIDGATE_DATABASE_URL: database.url, VIDGATE_DATA_DIR: api.dataDir });
    try {
      const controller = new AbortController();
      const tasks: any[] = [];
      const res = await fetch(`${api.baseUrl}/v1/tasks/events`, { headers: { authorization: `Bearer ${api.key}` }, signal: controller.signal });
      const reading = readEvents(res, { onEvent: (event) => tasks.push(JSON.parse(event.data)) });
      const created = await api.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'far away', duration: 2 } });
      await until(() => tasks.some((task) => task.status === 'completed'), 'the completed task on the stream');
      controller.abort();
      await reading;
      assert.ok(tasks.every((task) => task.id === created.body.id));
      const statuses = [...new Set(tasks.map((task) => task.status))];
      assert.deepEqual(statuses.slice(-2), ['processing', 'completed'], "the worker's changes, in order");
      assert.equal(tasks.at(-1).results.length, 1);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await api.close();
      await database.drop();
    }
  });
});

describe('a slow reader', () => {
  it('gets only the latest state of each task once it drains: the hub holds no backlog', async () => {
    const signals = new LocalSignalBus();
    const written: string[] = [];
    let full = false;
    const socket = Object.assign(new EventEmitter(), {
      writableEnded: false,
      destroyed: false,
      write(chunk: Buffer | string) {
        written.push(String(chunk));
        return !full;
      },
      end() {
        this.writableEnded = true;
      },
    });
    const reply = { raw: { socket }, hijack() {} } as any;
    const rows = new Map<string, any>();
    const db = { selectFrom: () => ({ selectAll: () => ({ where: (_c: string, _o: string, ids: string[]) => ({ execute: async () => ids.map((id) => rows.get(id)).filter(Boolean) }) }) }) } as any;
    const events = new TaskEvents({ db, results: new ResultFiles(new FileObjectStore('/tmp'), { publicUrl: 'http://127.0.0.1:1' }), clock: systemClock, signals, logger: pino({ level: 'silent' }), catchUpMs: 3_600_000 });
    const row = (progress: number) => ({
      id: 'task-unified-1-aaaaaaaa', user_id: 'u', model: 'wan2.7-text-to-video', status: 'processing' as const, progress, created_at: 1, updated_at: 1000 + progress,
      estimated_time: 5, video_duration: 2, billing_rule: 'per_second', credits_reserved_micro: 1, credits_charged_micro: null, user_group: 'default',
      error_code: null, error_message: null, result_path: null, result_url: null, can_cancel: 1,
    });
    rows.set('task-unified-1-aaaaaaaa', row(1));
    await events.open(reply, { userId: 'u', task: rows.get('task-unified-1-aaaaaaaa'), lastEventId: null });
    assert.equal(written.filter((chunk) => chunk.startsWith('id:')).length, 1);
    full = true;
    for (let progress = 2; progress <= 90; progress++) {
      rows.set('task-unified-1-aaaaaaaa', row(progress));
      signals.publish({ kind: 'task_changed', taskId: 'task-unified-1-aaaaaaaa', userId: 'u' });
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const sentWhileFull = written.filter((chunk) => chunk.startsWith('id:')).length;
    assert.equal(sentWhileFull, 2, 'one write found the socket full; nothing more was written');
    full = false;
    socket.emit('drain');
    const last = written.filter((chunk) => chunk.startsWith('id:')).at(-1)!;
    assert.equal(written.filter((chunk) => chunk.startsWith('id:')).length, 3, 'one event on drain');
    assert.ok(last.startsWith(`id: ${eventId(row(90))}\n`), 'the latest state');
    events.stop();
  });
});
