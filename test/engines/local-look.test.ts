import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { renderPlan } from '../../src/engines/local/index.ts';
import { ALL_EDIT_STYLES, baseHue, editStyle, hslHex, seededRandom, soundtrackExpression, speaksOfSound } from '../../src/engines/local/look.ts';
import { parseShots } from '../../src/engines/local/shots.ts';
import { wrapText } from '../../src/engines/local/graph.ts';

const run = promisify(execFile);

describe('local engine: shots', () => {
  it('treats a prompt without timed shots as one shot', () => {
    assert.deepEqual(parseShots('a fox in the snow', 5), [{ start: 0, end: 5, text: 'a fox in the snow' }]);
  });

  it('cuts at each shot start, in time order, whatever order they are written in', () => {
    const shots = parseShots('Shot 2 [3-5s] it jumps. Shot 1 [0-3s]: a fox runs', 5);
    assert.deepEqual(shots, [
      { start: 0, end: 3, text: 'a fox runs' },
      { start: 3, end: 5, text: 'it jumps.' },
    ]);
  });

  it('accepts 3s-5s, Chinese marks and decimals, and clamps to the duration', () => {
    assert.deepEqual(parseShots('shot 1 [0s-1.5s] a. Shot 2 [1.5s-9s] b. 镜头3 [9-12秒] c', 6).map((s) => [s.start, s.end]), [[0, 1.5], [1.5, 6]]);
  });

  it('starts the first shot at 0 and merges shots that start together', () => {
    assert.deepEqual(parseShots('Shot 1 [0-2s] a Shot 2 [0-3s] b Shot 3 [3-4s] c', 4), [
      { start: 0, end: 3, text: 'a b' },
      { start: 3, end: 4, text: 'c' },
    ]);
    assert.deepEqual(parseShots('Shot 1 [1-2s] a Shot 2 [2-4s] b', 4).map((s) => [s.start, s.end]), [[0, 2], [2, 4]]);
  });
});

describe('local engine: look', () => {
  it('draws the same numbers from the same seed and salt only', () => {
    const a = seededRandom(5, 'x');
    const b = seededRandom(5, 'x');
    const c = seededRandom(6, 'x');
    const first = [a(), a(), a()];
    assert.deepEqual(first, [b(), b(), b()]);
    assert.notDeepEqual(first, [c(), c(), c()]);
    for (const value of first) assert.ok(value >= 0 && value < 1);
  });

  it('takes hues from the prompt and colours as hex', () => {
    assert.equal(baseHue('the deep blue ocean', () => 0.5), 205);
    assert.equal(baseHue('a quiet room', () => 0.5), 180);
    assert.equal(hslHex(0, 1, 0.5), '0xff0000');
    assert.equal(hslHex(120, 1, 0.25), '0x008000');
  });

  it('picks the edit style from prompt words, a grade otherwise', () => {
    assert.equal(editStyle('Make it Black and White please').name, 'black and white');
    assert.equal(editStyle('画面变成黑白').name, 'black and white');
    assert.equal(editStyle('claymation look').name, 'clay');
    assert.equal(editStyle('a snowy winter day').name, 'snow');
    assert.equal(editStyle('sharper').name, 'graded');
  });

  it('knows when a prompt speaks of sound', () => {
    assert.equal(speaksOfSound('add gentle piano music'), true);
    assert.equal(speaksOfSound('make it sepia'), false);
  });

  it('every style filter and the soundtrack are valid for this ffmpeg', async () => {
    for (const style of ALL_EDIT_STYLES) {
      await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=64x64:d=0.1', '-vf', style.filter, '-f', 'null', '-']).catch((error) => {
        assert.fail(`style ${style.name}: ${error.stderr}`);
      });
    }
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `aevalsrc=${soundtrackExpression(9)}:s=48000:d=0.2`, '-f', 'null', '-']);
  });

  it('wraps captions to lines and a line limit', () => {
    assert.equal(wrapText('one two three four', 9), 'one two\nthree\nfour');
    assert.equal(wrapText('a b c d e f', 1, 2), 'a\nb …');
  });
});

describe('local engine: plans', () => {
  const base = { taskId: 't', quality: '720p' as const, seed: 3, output: { width: 1280, height: 720, fps: 30, durationSec: 2 }, inputs: {} };

  it('puts prompt text in files, never in the filter graph', () => {
    const plan = renderPlan({ ...base, model: 'wan2.7-text-to-video', params: { prompt: "it's 10:30; [a] 'b' \\c" } });
    assert.match(plan.files['shot-0.txt'], /it's 10:30; \[a\]/);
    assert.ok(plan.commands.flat().every((arg) => !arg.includes('10:30')));
  });

  it('refuses a model it does not know with a task error', () => {
    assert.throws(() => renderPlan({ ...base, model: 'sora', params: {} }), { name: 'TaskFailure', code: 'invalid_parameters' });
  });
});
