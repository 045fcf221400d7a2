import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fixturesDir } from './helpers/fixtures.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { modelTableMarkdown } from '../src/contract/catalog/model-table.ts';
import { PriceBook } from '../src/billing/price-book.ts';
import { loadSettings } from '../src/config.ts';

const run = promisify(execFile);
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const SDK = new URL('../src/sdk/index.ts', import.meta.url).pathname;

/** The first fenced block of `language` after the line that starts with `heading`. */
function block(heading: string, language: string): string {
  const from = README.indexOf(heading);
  assert.ok(from >= 0, `the README has "${heading}"`);
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(README.slice(from));
  assert.ok(match, `a ${language} block after "${heading}"`);
  return match[1];
}

/** The README's lines from the one starting with `first` up to the one starting with `next`. */
function between(first: string, next: string): string {
  const from = README.indexOf(`\n${first}`);
  const to = README.indexOf(`\n${next}`, from);
  assert.ok(from >= 0 && to > from, `the README has "${first}" and then "${next}"`);
  return README.slice(from + 1, to + 1);
}

// The README's examples as a newcomer copies them, against a real vidgate, from a folder holding photo.png.
describe('the README examples', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer({}, { worker: true });
    dir = mkdtempSync(path.join(tmpdir(), 'vidgate-readme-'));
    copyFileSync(path.join(fixturesDir(), 'image-640x360.png'), path.join(dir, 'photo.png'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the SDK example completes, and completes again when run a second time', async () => {
    const script = path.join(dir, 'example.ts');
    writeFileSync(script, block('**The SDK.**', 'ts').replace("from 'vidgate/sdk'", `from '${SDK}'`).replace("'http://127.0.0.1:8080'", `'${server.baseUrl}'`));
    for (const time of ['first', 'second']) {
      const { stdout, stderr } = await run(process.execPath, [script], { cwd: dir, env: { ...process.env, VIDGATE_API_KEY: server.key } });
      assert.match(stdout, new RegExp(`^${server.baseUrl}/v1/results/task-unified-\\S+\\.mp4$`, 'm'), `${time} run: ${stdout}${stderr}`);
    }
  });

  it('the base64 upload example takes a real photo through a pipe', async () => {
    const command = between('# base64 (plain or a data: URL', 'curl -s http://127.0.0.1:8080/api/v1/files/upload/url').replaceAll('http://127.0.0.1:8080', server.baseUrl);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', command], { cwd: dir, env: { ...process.env, VIDGATE_BOOTSTRAP_KEY: server.key } });
    const answer = JSON.parse(stdout);
    assert.equal(answer.code, 200, stdout);
    assert.equal(answer.data.mime_type, 'image/png');
    assert.equal(answer.data.file_size, readFileSync(path.join(dir, 'photo.png')).length);
  });

  it('links a model table that is current: all 74 ids, by family, with kind and default price', () => {
    const table = readFileSync(new URL('../docs/models.md', import.meta.url), 'utf8');
    assert.equal(table, modelTableMarkdown(), 'run scripts/generate-model-table.ts');
    assert.equal(table.match(/^\| `[^`]+` \|/gm)?.length, 74);
    assert.ok(README.includes('(docs/models.md)'));
  });

  it('the prices example in Models is a config the server takes', () => {
    const file = path.join(dir, 'prices.yaml');
    writeFileSync(file, block('to set** (`prices` in the config file', 'yaml'));
    const settings = loadSettings({ VIDGATE_CONFIG: file });
    assert.equal(new PriceBook(settings.prices).quote('seedance-2.0-text-to-video', '4k', 5).micro, 200_000_000);
  });

  it('the operator API example creates a user and a key, tops up, and reads the audit log', async () => {
    const adminKey = await server.newKey({ user: 'readme-admin', role: 'admin' });
    const command = between('A="Authorization: Bearer $VIDGATE_ADMIN_KEY"', '```').replaceAll('http://127.0.0.1:8080', server.baseUrl);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', command], { cwd: dir, env: { ...process.env, VIDGATE_ADMIN_KEY: adminKey } });
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual([answers[0].name, answers[0].balance], ['acme', 500]);
    assert.match(answers[1].key, /^sk-evo-/);
    assert.deepEqual(answers[2], { user: 'acme', balance: 650 });
    assert.deepEqual(answers[3].data.map((row: { action: string }) => row.action), ['topup', 'key.create', 'user.create']);
    assert.deepEqual([answers[4].object, answers[4].group_by, answers[4].since], ['list', 'user', '2026-11-01']);
  });
});
