import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startFakeDashScope, type FakeDashScope } from '../fakes/dashscope.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { checkLedgerInvariants } from '../helpers/ledger.ts';
import { waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const channel = (fake: FakeDashScope, name: string, extra: Record<string, unknown> = {}) => ({
  name, engine: 'dashscope', base_url: fake.baseUrl, api_key_env: 'FAKE_DASHSCOPE_KEY', poll_interval: '100ms', request_timeout: '500ms', ...extra,
});

/** Polls the task until `test` holds for it (the event, not a clock), within a minute. */
async function waitUntil(server: TestServer, id: string, test: (task: any) => boolean): Promise<any> {
  for (let i = 0; i < 600; i += 1) {
    const { body } = await server.call('GET', `/v1/tasks/${id}`);
    if (test(body)) return body;
    await sleep(100);
  }
  throw new Error(`task ${id} never reached the state`);
}

describe('upstream jobs (CONTRACT §8.7)', () => {
  let fake: FakeDashScope;
  let server: TestServer;
  before(async () => {
    fake = await startFakeDashScope({ video: path.join(fixturesDir(), 'clip-1s-640x360.mp4') });
    // Two channels on one account: "ali-a" first, "ali-b" when a refuses.
    const channels = [channel(fake, 'ali-a', { priority: 10, timeout: '2s' }), channel(fake, 'ali-b', { priority: 0, timeout: '2s' })];
    server = await startTestServer({ VIDGATE_CHANNELS: JSON.stringify(channels), FAKE_DASHSCOPE_KEY: fake.apiKey }, { worker: true });
  });
  after(async () => {
    await server.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.queryFailure = null;
    fake.nextSubmits.length = 0;
    fake.script = () => ({ queueMs: 20, runMs: 100 });
  });

  async function create(prompt: string) {
    const res = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt, duration: 2 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.id as string;
  }

  for (const status of [500, 401]) {
    it(`fails an accepted job whose status route answers ${status} after the channel timeout, released`, async () => {
      fake.queryFailure = status;
      const task = await waitForTask(server, await create(`broken status ${status}`));
      assert.equal(task.status, 'failed');
      assert.equal(task.error.code, 'generation_timeout');
      assert.equal(task.usage.credits_charged, 0);
    });
  }

  it('never adopts a job of another channel on the account, nor a foreign task, for a lost submit', async () => {
    fake.script = () => ({ queueMs: 0, runMs: 1500 });
    fake.nextSubmits.push({ status: 500, code: 'InternalError' }); // ali-a refuses: the first task lands on ali-b
    const first = await create('first, on ali-b');
    await waitUntil(server, first, (t) => t.status === 'processing');
    // Another app on the same account, same model, created just now.
    fake.tasks.set('foreign-task', { id: 'foreign-task', model: 'wan2.7-t2v', body: { input: { prompt: 'not ours' } }, createdAt: Date.now(), script: { runMs: 60_000 }, answered: [] });

    fake.nextSubmits.push('drop'); // the second submit never reaches the account: absent, so sent again
    const dropped = await create('second, dropped');
    fake.nextSubmits.push('hang'); // the third reaches it, its answer is lost: found by its prompt
    const lost = await create('third, answer lost');
    const tasks = await Promise.all([first, dropped, lost].map((id) => waitForTask(server, id)));
    assert.deepEqual(tasks.map((t) => t.status), ['completed', 'completed', 'completed']);

    const jobs = await server.app.db.selectFrom('jobs').select(['task_id', 'upstream_id']).where('task_id', 'in', [first, dropped, lost]).execute();
    const upstreamIds = jobs.map((j) => j.upstream_id);
    assert.equal(new Set(upstreamIds).size, 3, 'each task has its own upstream job');
    assert.ok(!upstreamIds.includes('foreign-task'), 'the foreign task was never adopted');
    const prompts = new Map([...fake.tasks.values()].map((t) => [t.id, t.body.input?.prompt]));
    for (const job of jobs) {
      const own = tasks.find((t) => t.id === job.task_id)!;
      assert.equal(prompts.get(job.upstream_id!), { [first]: 'first, on ali-b', [dropped]: 'second, dropped', [lost]: 'third, answer lost' }[own.id]);
    }
    await checkLedgerInvariants(server.app.db);
  });

  it('turns can_cancel false once the upstream runs the job: DELETE answers 400, and the task finishes, charged', async () => {
    fake.script = () => ({ queueMs: 0, runMs: 1500 });
    const id = await create('running, not stoppable');
    const running = await waitUntil(server, id, (t) => t.task_info.can_cancel === false || t.status !== 'pending' && t.status !== 'processing');
    assert.equal(running.status, 'processing');
    const refused = await server.call('DELETE', `/v1/tasks/${id}`);
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /^task_id: the task is already being made upstream/);
    const task = await waitForTask(server, id);
    assert.equal(task.status, 'completed');
    assert.equal(task.usage.credits_charged, 17.2);
  });
});
