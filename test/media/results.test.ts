import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { ResultFiles } from '../../src/media/results.ts';
import { FileObjectStore } from '../../src/storage/file-store.ts';
import { UploadedFiles } from '../../src/files/storage.ts';
import { Sweeper } from '../../src/media/sweeper.ts';
import { systemClock } from '../../src/util/clock.ts';
import { otherFileSystemDir } from '../helpers/dirs.ts';
import { describeOnEachStore } from '../helpers/store.ts';
import { seedTask } from '../helpers/tasks.ts';

describe('a file store moving a file in', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'vidgate-move-'));
  const shared = otherFileSystemDir('vidgate-move-');
  after(() => {
    rmSync(work, { recursive: true, force: true });
    if (shared) rmSync(shared, { recursive: true, force: true });
  });

  it('renames within one file system', async () => {
    const file = path.join(work, 'a.mp4');
    writeFileSync(file, 'same disk');
    await new FileObjectStore(work).moveIn('results/b.mp4', file);
    assert.equal(readFileSync(path.join(work, 'results', 'b.mp4'), 'utf8'), 'same disk');
    assert.equal(existsSync(file), false);
  });

  it('copies across file systems (EXDEV), leaving no partial file and no source', { skip: shared ? false : 'no second file system here' }, async () => {
    const file = path.join(work, 'c.mp4');
    const bytes = Buffer.alloc(3 << 20, 7);
    writeFileSync(file, bytes);
    await new FileObjectStore(shared!).moveIn('results/c.mp4', file);
    assert.deepEqual(readFileSync(path.join(shared!, 'results', 'c.mp4')), bytes);
    assert.deepEqual(readdirSync(path.join(shared!, 'results')), ['c.mp4'], 'no partial copy left beside it');
    assert.equal(existsSync(file), false);
  });

  it('keeps the source when the move fails', async () => {
    const file = path.join(work, 'd.mp4');
    writeFileSync(file, 'x');
    const store = new FileObjectStore(work);
    mkdirSync(path.join(work, 'results', 'taken.mp4'), { recursive: true }); // a folder where the object would go
    await assert.rejects(store.moveIn('results/taken.mp4', file));
    assert.equal(existsSync(file), true);
  });

  it('refuses a key that leaves its folder', async () => {
    await assert.rejects(new FileObjectStore(work).head('../outside'), /outside the storage folder/);
  });
});

describeOnEachStore('the sweeper and orphan result files', (handle) => {
  it('removes result files and inputs no task names once they are older than the orphan age, and nothing else', async () => {
    const storage = mkdtempSync(path.join(tmpdir(), 'vidgate-orphans-'));
    try {
      const objects = new FileObjectStore(storage);
      const results = new ResultFiles(objects, { publicUrl: 'http://127.0.0.1:1' });
      const resultsDir = path.join(storage, 'results');
      mkdirSync(resultsDir);
      const task = 'task-unified-1700000000-abcdefgh';
      await seedTask(handle.store, task);
      const kept = `${task}-${'a'.repeat(20)}.mp4`;
      await handle.store.db.updateTable('tasks').set({ status: 'completed', result_path: `results/${kept}` }).where('id', '=', task).execute();
      const names = {
        kept,
        sameTaskOtherAttempt: `${task}-${'b'.repeat(20)}.mp4`,
        unknownTask: `task-unified-1700000001-zzzzzzzz-${'c'.repeat(20)}.mp4`,
        fresh: `task-unified-1700000002-yyyyyyyy-${'d'.repeat(20)}.mp4`,
        partial: `.${task}-${'e'.repeat(20)}.mp4.k3j4h5g6.part`,
        notOurs: 'README.txt',
      };
      const hourAgo = new Date(Date.now() - 3_600_000);
      for (const [which, name] of Object.entries(names)) {
        writeFileSync(path.join(resultsDir, name), which);
        if (which !== 'fresh') utimesSync(path.join(resultsDir, name), hourAgo, hourAgo);
      }
      // Inputs: the task's own stay; a never-recorded task's (a create that died) go once old; fresh ones wait.
      const inputs = { ownTask: `inputs/${task}/image_start`, neverRecorded: 'inputs/task-unified-1700000003-xxxxxxxx/image_start', freshCreate: 'inputs/task-unified-1700000004-wwwwwwww/image_start' };
      for (const [which, key] of Object.entries(inputs)) {
        mkdirSync(path.dirname(path.join(storage, key)), { recursive: true });
        writeFileSync(path.join(storage, key), which);
        if (which !== 'freshCreate') utimesSync(path.join(storage, key), hourAgo, hourAgo);
      }
      const sweeper = new Sweeper({
        store: handle.store, clock: systemClock, results, uploads: new UploadedFiles(objects), objects, resultTtlMs: 86_400_000,
        orphanAgeMs: 60_000, intervalMs: 60_000, logger: pino({ level: 'silent' }),
      });
      assert.equal(await sweeper.sweep(), 4);
      assert.deepEqual(readdirSync(resultsDir).sort(), [names.kept, names.fresh, names.notOurs].sort());
      assert.deepEqual(Object.entries(inputs).filter(([, key]) => existsSync(path.join(storage, key))).map(([which]) => which), ['ownTask', 'freshCreate']);
    } finally {
      rmSync(storage, { recursive: true, force: true });
    }
  });
});
