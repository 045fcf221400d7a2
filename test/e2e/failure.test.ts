import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('a render that keeps failing', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(
      { VIDGATE_FFMPEG_PATH: '/nonexistent/ffmpeg', VIDGATE_JOB_ATTEMPTS: '2', VIDGATE_RETRY_BASE: '100ms', VIDGATE_WORKER_POLL: '50ms' },
      { worker: true },
    );
  });
  after(() => server.close());

  it('is retried, then ends failed with a task error code and no internals in the message', async () => {
    const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 } });
    const task = await waitForTask(server, created.body.id, 10_000);
    assert.equal(task.status, 'failed');
    assert.deepEqual(task.error, { code: 'service_error', message: 'the local engine could not render this video', type: 'task_error' });
    assert.equal(task.task_info.can_cancel, false);
    assert.ok(task.progress < 100);
    const job = await server.app.db.selectFrom('jobs').selectAll().where('task_id', '=', task.id).executeTakeFirstOrThrow();
    assert.deepEqual([job.state, job.attempts], ['failed', 2]);
    const work = path.join(server.dataDir, 'work');
    assert.deepEqual(existsSync(work) ? readdirSync(work) : [], []);
  });
});
