import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RenderTimes } from '../../src/tasks/eta.ts';
import { useTempStore } from '../helpers/store.ts';
import { seedTask } from '../helpers/tasks.ts';

describe('render time estimates', () => {
  const handle = useTempStore();

  it('uses the engine prior without history, then the median pace of recent completed tasks', async () => {
    let now = 1_000_000;
    const times = new RenderTimes(handle.store.db, { now: () => now });
    const key = { model: 'wan2.7-text-to-video', engine: 'local', quality: '720p' };
    assert.equal(await times.estimateSeconds(key, 5, 42), 42);

    // Three 2-second tasks took 4, 6 and 100 s: the median pace is 3 s per output second.
    for (const [i, took] of [4, 6, 100].entries()) {
      const id = `task-unified-3-eta0000${i}`;
      await seedTask(handle.store, id, 10_000);
      await handle.store.db.updateTable('tasks').set({ status: 'completed', finished_at: 10_000 + took * 1000 }).where('id', '=', id).execute();
    }
    await seedTask(handle.store, 'task-unified-3-eta00009', 10_000); // still pending: not history
    assert.equal(await times.estimateSeconds(key, 5, 42), 42, 'cached for a few seconds');
    now += 11_000;
    assert.equal(await times.estimateSeconds(key, 5, 42), 15);
    assert.equal(await times.estimateSeconds({ ...key, quality: '1080p' }, 5, 42), 42, 'per quality');
    assert.equal(await times.estimateSeconds({ ...key, engine: 'dashscope' }, 5, 42), 42, 'per engine');
  });
});
