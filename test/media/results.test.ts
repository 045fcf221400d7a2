import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { moveInto } from '../../src/media/results.ts';
import { otherFileSystemDir } from '../helpers/dirs.ts';

describe('moveInto', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'vidgate-move-'));
  const shared = otherFileSystemDir('vidgate-move-');
  after(() => {
    rmSync(work, { recursive: true, force: true });
    if (shared) rmSync(shared, { recursive: true, force: true });
  });

  it('renames within one file system', async () => {
    const file = path.join(work, 'a.mp4');
    writeFileSync(file, 'same disk');
    await moveInto(file, work, 'b.mp4');
    assert.equal(readFileSync(path.join(work, 'b.mp4'), 'utf8'), 'same disk');
    assert.equal(existsSync(file), false);
  });

  it('copies across file systems (EXDEV), leaving no partial file and no source', { skip: shared ? false : 'no second file system here' }, async () => {
    const file = path.join(work, 'c.mp4');
    const bytes = Buffer.alloc(3 << 20, 7);
    writeFileSync(file, bytes);
    await moveInto(file, shared!, 'c.mp4');
    assert.deepEqual(readFileSync(path.join(shared!, 'c.mp4')), bytes);
    assert.deepEqual(readdirSync(shared!), ['c.mp4'], 'no partial copy left beside it');
    assert.equal(existsSync(file), false);
  });

  it('keeps the source when the target folder is missing', async () => {
    const file = path.join(work, 'd.mp4');
    writeFileSync(file, 'x');
    await assert.rejects(moveInto(file, path.join(work, 'missing'), 'd.mp4'), { code: 'ENOENT' });
    assert.equal(existsSync(file), true);
  });
});
