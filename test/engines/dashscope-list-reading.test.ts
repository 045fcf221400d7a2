import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ListReading } from '../../src/engines/dashscope/list-reading.ts';

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `t${from + i}`);

/** A whole reading of a RUNNING list of `tasks`, `size` a page. */
function readWhole(last: ListReading | null, tasks: string[], size: number): { reading: ListReading; left: string[] } {
  const reading = new ListReading(last);
  const left: string[] = [];
  const pages = Math.max(1, Math.ceil(tasks.length / size));
  for (let page = 1; page <= pages; page += 1) left.push(...reading.page('RUNNING', page, tasks.slice((page - 1) * size, page * size), page === pages));
  return { reading, left };
}

describe('reading the DashScope lists while they shift', () => {
  it('a task missing from inside a page, before the first page or after the last has left the list', () => {
    const first = readWhole(null, ids(0, 30), 10).reading;
    const gone = ['t0', 't5', 't29'];
    const { reading, left } = readWhole(first, ids(0, 30).filter((id) => !gone.includes(id)), 10);
    assert.deepEqual(left.sort(), [...gone].sort());
    for (const id of gone) assert.ok(reading.hasLeft(id), id);
    assert.equal(reading.hasLeft('t6'), false, 'a listed task has not left');
    assert.equal(reading.listOf('t6'), 'RUNNING');
  });

  it('a task missing from a gap between pages may only have been skipped: not said to have left', () => {
    const first = readWhole(null, ids(0, 30), 10).reading;
    const reading = new ListReading(first);
    assert.deepEqual(reading.page('RUNNING', 1, ids(0, 10), false), []);
    // t3 ends before page 2 is read: the list shifts by one and t10 falls onto page 1, already read.
    assert.deepEqual(reading.page('RUNNING', 2, ids(11, 21), false), []);
    assert.deepEqual(reading.page('RUNNING', 3, ids(21, 30), true), []);
    assert.equal(reading.listOf('t10'), undefined, 'skipped');
    assert.equal(reading.knew('t10'), true);
    assert.equal(reading.hasLeft('t10'), false, 'skipped, not ended');
    // The next reading lists it again.
    const next = readWhole(reading, [...ids(0, 3), ...ids(4, 30)], 10);
    assert.equal(next.reading.listOf('t10'), 'RUNNING');
    assert.deepEqual(next.left, ['t3'], 'the task that ended is the one left');
  });

  it('an empty first page that is the last means every task left; an empty page past the first says nothing of the tail', () => {
    const first = readWhole(null, ids(0, 15), 10).reading;
    const emptied = new ListReading(first);
    assert.deepEqual(emptied.page('RUNNING', 1, [], true).sort(), ids(0, 15).sort());
    const shrunk = new ListReading(first);
    shrunk.page('RUNNING', 1, ids(0, 8), false); // t8–t14 ended while page 1 was answered: page 2 comes back empty
    assert.deepEqual(shrunk.page('RUNNING', 2, [], true), []);
    assert.equal(shrunk.hasLeft('t12'), false, 'past the pages read: perhaps skipped');
    assert.equal(shrunk.hasLeft('t3'), false);
  });

  it('new tasks at the head push the list down: tasks shown twice are taken once, none is said to have left', () => {
    const first = readWhole(null, ids(0, 20), 10).reading;
    const reading = new ListReading(first);
    assert.deepEqual(reading.page('RUNNING', 1, ids(0, 10), false), []);
    // Two new tasks arrive at the head before page 2: t8 and t9 are shown again.
    assert.deepEqual(reading.page('RUNNING', 2, ['t8', 't9', ...ids(10, 18)], false), []);
    assert.deepEqual(reading.page('RUNNING', 3, ids(18, 20), true), []);
    for (const id of ids(0, 20)) assert.equal(reading.listOf(id), 'RUNNING', id);
  });

  it('a task that left PENDING is said to have left that list only; it may be listed as RUNNING', () => {
    const first = new ListReading(null);
    first.page('PENDING', 1, ['p1', 'p2', 'p3'], true);
    first.page('RUNNING', 1, ['r1'], true);
    const reading = new ListReading(first);
    assert.deepEqual(reading.page('PENDING', 1, ['p1', 'p3'], true), ['p2']);
    assert.deepEqual(reading.page('RUNNING', 1, ['p2', 'r1'], true), []);
    assert.equal(reading.listOf('p2'), 'RUNNING');
    assert.equal(reading.hasLeft('p2'), false, 'listed again');
  });

  it('with no earlier reading nothing is known', () => {
    const { reading, left } = readWhole(null, ids(0, 5), 10);
    assert.deepEqual(left, []);
    assert.equal(reading.knew('t1'), false);
    assert.equal(reading.hasLeft('t9'), false);
  });
});
