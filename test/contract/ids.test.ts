import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newTaskId, TASK_ID_PATTERN } from '../../src/contract/ids.ts';

describe('task ids', () => {
  it('are task-unified-<unix seconds>-<8 chars [a-z0-9]>, the seconds those of the creation', () => {
    const id = newTaskId(1761313744_999);
    assert.match(id, TASK_ID_PATTERN);
    assert.equal(id.split('-')[2], '1761313744');
  });

  it('sort as they were made, millisecond by millisecond (new tasks land together in the id indexes)', () => {
    const start = 1761313744_000;
    const ids = Array.from({ length: 3000 }, (_, ms) => newTaskId(start + ms));
    assert.deepEqual([...ids].sort(), ids);
  });

  it('made in the same millisecond still differ, in six random chars', () => {
    const ids = Array.from({ length: 10_000 }, () => newTaskId(1761313744_500));
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(new Set(ids.map((id) => id.slice(-6, -5))).size, 36, 'every char of the alphabet appears in the random part');
    assert.equal(new Set(ids.map((id) => id.slice(-8, -6))).size, 1, 'the millisecond part is shared');
  });
});
