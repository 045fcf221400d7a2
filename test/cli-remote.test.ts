import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixturesDir } from './helpers/fixtures.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { videoFacts } from './helpers/video.ts';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

// generate and tasks talk to a running vidgate over HTTP, as from another machine.
describe('vidgate generate and vidgate tasks', () => {
  let server: TestServer;
  const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-cli-remote-'));
  // Not spawnSync: the server runs in this process and must keep answering.
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [MAIN, ...args], { cwd: dir, env: { ...process.env, VIDGATE_BASE_URL: server.baseUrl, VIDGATE_API_KEY: server.key, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  before(async () => {
    server = await startTestServer({}, { worker: true });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a local image, follows the task and saves the MP4 where --out says', async () => {
    const image = path.join(fixturesDir(), 'image-640x360.png');
    const gen = await run(['generate', '--model', 'wan2.7-image-to-video', '--image-start', image, '--prompt', 'a slow pan', '--duration', '2', '-o', 'pan.mp4']);
    assert.equal(gen.status, 0, gen.stderr);
    assert.match(gen.stderr, /^uploading .*image-640x360\.png \(29\.\d KB\)\ncreated task-unified-\d+-[a-z0-9]{8} \(17\.2 credits reserved\)\n/);
    assert.match(gen.stderr, /completed 100%\n$/, 'without a terminal, a line per status');
    assert.match(gen.stdout, /^saved .*pan\.mp4 \(\d+(\.\d)? KB, 17\.2 credits\)\n$/);
    const video = await videoFacts(path.join(dir, 'pan.mp4'));
    assert.deepEqual([video.width, video.height], [1280, 720]);
    assert.ok(!existsSync(path.join(dir, 'pan.mp4.part')));
  });

  it('drives any catalog model: --video and --audio go to the field the model names, local files in --param fields are uploaded', async () => {
    const fixtures = fixturesDir();
    const gen = await run(['generate', '--model', 'videoretalk', '--video', path.join(fixtures, 'clip-5s-640x360.mp4'), '--audio', path.join(fixtures, 'audio-3s.wav'),
      '--param', `ref_image_url=${path.join(fixtures, 'image-640x360.png')}`, '--param', 'query_face_threshold=150', '-o', 'retalk.mp4', '--json']);
    assert.equal(gen.status, 0, gen.stderr);
    const task = JSON.parse(gen.stdout);
    assert.equal(task.model, 'videoretalk');
    const inputs = await server.app.db.selectFrom('task_inputs').select(['field', 'url']).where('task_id', '=', task.id).orderBy('field').execute();
    assert.deepEqual(inputs.map((input) => input.field), ['audio_url', 'ref_image_url', 'video_url'], 'the singular fields videoretalk names');
    for (const input of inputs) assert.ok(input.url.startsWith(`${server.baseUrl}/files/`), `${input.field} was uploaded`);
    const row = await server.app.db.selectFrom('tasks').select('params_json').where('id', '=', task.id).executeTakeFirstOrThrow();
    assert.equal(JSON.parse(row.params_json).query_face_threshold, 150);
    assert.equal((await videoFacts(path.join(dir, 'retalk.mp4'))).durationSec.toFixed(0), '3', 'as long as the speech');
  });

  it('prints only JSON with --json, saving to ./<task id>.mp4 by default', async () => {
    const gen = await run(['generate', '--model', 'wan2.7-text-to-video', '--prompt', 'a red kite', '--duration', '2', '--json']);
    assert.equal(gen.status, 0, gen.stderr);
    assert.equal(gen.stderr, '');
    const task = JSON.parse(gen.stdout);
    assert.equal(task.status, 'completed');
    assert.equal(task.file, path.join(dir, `${task.id}.mp4`));
    assert.ok(statSync(task.file).size > 1000);
    const listed = JSON.parse((await run(['tasks', 'ls', '--json', '--limit', '1'])).stdout);
    assert.equal(listed.data[0].id, task.id);
    assert.match((await run(['tasks', 'get', task.id])).stdout, new RegExp(`^${task.id}  wan2.7-text-to-video\\nstatus    completed\\n[^]*video     http`));
    assert.match((await run(['tasks', 'ls'])).stdout, new RegExp(`^ID +MODEL +STATUS[^]*\\n${task.id} +wan2.7-text-to-video +completed +100%`));
  });

  it('returns at once with --no-wait, and cancels with tasks cancel', async () => {
    const gen = await run(['generate', '--model', 'wan2.7-text-to-video', '--prompt', 'long', '--duration', '15', '--quality', '1080p', '--no-wait']);
    assert.equal(gen.status, 0, gen.stderr);
    const id = gen.stdout.trim();
    assert.match(id, /^task-unified-\d+-[a-z0-9]{8}$/);
    assert.equal((await run(['tasks', 'cancel', id])).stdout, `cancelled ${id}\n`);
    const again = await run(['tasks', 'cancel', id]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^vidgate: invalid_request: task_id: the task is cancelled and can no longer be cancelled\n$/);
  });

  it('sends any request field with --param, read as JSON when it parses, and refuses one its own option sets', async () => {
    const gen = await run(['generate', '--model', 'wan2.7-text-to-video', '--prompt', 'params', '--duration', '15', '--no-wait',
      '--param', 'seed=7', '--param', 'prompt_extend=true', '--param', 'negative_prompt=blurry, dark', '--param', 'aspect_ratio="9:16"']);
    assert.equal(gen.status, 0, gen.stderr);
    const id = gen.stdout.trim();
    const task = await server.app.db.selectFrom('tasks').select(['seed', 'params_json', 'output_width', 'output_height']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(task.seed, 7);
    assert.deepEqual([task.output_width, task.output_height], [720, 1280], 'aspect_ratio 9:16 at 720p');
    const params = JSON.parse(task.params_json);
    assert.deepEqual([params.prompt_extend, params.negative_prompt], [true, 'blurry, dark']);
    await server.call('DELETE', `/v1/tasks/${id}`);

    const twice = await run(['generate', '--model', 'wan2.7-text-to-video', '--seed', '2', '--param', 'seed=1']);
    assert.equal(twice.status, 2);
    assert.equal(twice.stderr, 'vidgate: --param seed: its own option already sets it\n');
    const malformed = await run(['generate', '--model', 'wan2.7-text-to-video', '--param', 'no-equals-sign']);
    assert.equal(malformed.status, 2);
    assert.match(malformed.stderr, /--param .*"no-equals-sign" is not field=value/);
  });

  it('stops waiting on Ctrl-C and says how to follow the task, which goes on', async () => {
    const child = spawn(process.execPath, [MAIN, 'generate', '--model', 'wan2.7-text-to-video', '--prompt', 'long', '--duration', '15', '--quality', '1080p'], {
      cwd: dir, env: { ...process.env, VIDGATE_BASE_URL: server.baseUrl, VIDGATE_API_KEY: server.key },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    await new Promise<void>((resolve) => child.stderr.on('data', () => stderr.includes('created') && resolve()));
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    const id = /created (task-unified-\S+)/.exec(stderr)![1];
    assert.match(stderr, new RegExp(`stopped waiting; the task goes on: vidgate tasks get ${id}\\n$`));
    assert.notEqual((await server.call('GET', `/v1/tasks/${id}`)).body.status, 'cancelled');
    await server.call('DELETE', `/v1/tasks/${id}`);
  });

  it('says what is wrong in one line: bad input, API errors, no key, no server', async () => {
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [['generate', '--model', 'wan2.7-text-to-video', '--prompt', 'x', '--duration', '99'], {}, 1, /^vidgate: invalid_request: duration: must be from 2 to 15 \(got 99\)\n$/],
      [['generate', '--model', 'wan2.7-image-to-video', '--image-start', './nope.png'], {}, 2, /^vidgate: \.\/nope\.png: no such file/],
      [['generate', '--model', 'wan2.7-text-to-video', '--duration', 'two'], {}, 2, /--duration.*must be a whole number/],
      [['generate', '--prompt', 'x'], {}, 2, /required option '--model <id>' not specified/],
      [['generate', '--model', 'wan2.7-text-to-video', '--bogus'], {}, 2, /unknown option '--bogus'/],
      [['tasks', 'get', 'task-unified-1-abcdefgh'], {}, 1, /^vidgate: task_not_found: task_id: no task/],
      [['tasks', 'ls'], { VIDGATE_API_KEY: 'sk-evo-wrong' }, 1, /^vidgate: unauthorized: /],
      [['tasks', 'ls'], { VIDGATE_API_KEY: '' }, 2, /^vidgate: no API key: pass --key or set VIDGATE_API_KEY\n$/],
      [['tasks', 'ls', '--limit', '500'], {}, 2, /--limit.*1 to 100/],
      [['tasks', 'ls', '--base-url', 'http://127.0.0.1:2'], {}, 1, /^vidgate: cannot reach vidgate at http:\/\/127\.0\.0\.1:2: ECONNREFUSED/],
    ];
    for (const [args, env, status, message] of cases) {
      const res = await run(args, env);
      assert.equal(res.status, status, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
    }
  });
});
