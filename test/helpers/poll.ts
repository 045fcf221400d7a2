import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal } from '../../src/contract/task-view.ts';
import type { TestServer } from './server.ts';

/**
 * Waits for `condition` to hold, checking every 20 ms: tests wait for the event itself, and the
 * deadline is only a backstop for a broken build (generous, so a loaded machine never trips it).
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) assert.fail(`${what} (still not so after ${timeoutMs} ms)`);
    await sleep(20);
  }
}

/** Polls a task (with `key`, default the server's) until it is terminal, checking that progress never goes down. */
export async function waitForTask(server: TestServer, id: string, timeoutMs = 60_000, key?: string): Promise<any> {
  const end = Date.now() + timeoutMs;
  let progress = 0;
  for (;;) {
    const res = await server.call('GET', `/v1/tasks/${id}`, { key });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.progress >= progress, `progress fell from ${progress} to ${res.body.progress}`);
    if (res.body.status === 'processing') assert.ok(res.body.progress >= 1 && res.body.progress <= 99, `a processing task shows ${res.body.progress}%`);
    progress = res.body.progress;
    if (isTerminal(res.body.status)) return res.body;
    if (Date.now() > end) throw new Error(`task ${id} still ${res.body.status} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Creates a task, waits for it to complete, downloads its video to `file`; returns the final task. */
export async function renderThrough(server: TestServer, body: Record<string, unknown>, file: string): Promise<any> {
  const created = await server.call('POST', '/v1/videos/generations', { body });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const task = await waitForTask(server, created.body.id);
  assert.equal(task.status, 'completed', JSON.stringify(task));
  const video = await fetch(task.results[0]);
  assert.equal(video.status, 200);
  assert.equal(video.headers.get('content-type'), 'video/mp4');
  writeFileSync(file, Buffer.from(await video.arrayBuffer()));
  return task;
}

/** Waits until a task's upstream job is accepted: the upstream holds it under an id vidgate stored. */
export async function untilAccepted(server: TestServer, taskId: string): Promise<void> {
  await until(async () => {
    const job = await server.app.db.selectFrom('jobs').select('phase').where('task_id', '=', taskId).executeTakeFirst();
    return job?.phase === 'accepted';
  }, `the job of ${taskId} was accepted upstream`);
}
