import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TSC = new URL('../../node_modules/.bin/tsc', import.meta.url).pathname;
// Its own script, not node_modules/.bin/openapi: @redocly/cli installs a command of that name too.
const CODEGEN = new URL('../../node_modules/openapi-typescript-codegen/bin/index.js', import.meta.url).pathname;

// A create call for a catalog model, right and wrong, against a client generated from the served document.
const CALLS = `import { OpenAPI, VideosService } from './client/index.ts';
OpenAPI.BASE = 'http://127.0.0.1:8080';
OpenAPI.TOKEN = 'sk-evo-example';
export const kling = () => VideosService.createVideoGeneration({ model: 'kling-v3-text-to-video', prompt: 'a cat', sound: 'on', duration: 5, model_params: { multi_shot: false } }, 'retry-key-1');
export const seedance = () => VideosService.createVideoGeneration({ model: 'seedance-2.0-reference-to-video', prompt: '@image1 waves', image_urls: ['https://media.example/a.png'], quality: '480p' });
// @ts-expect-error kling's sound is "on" or "off"
export const badSound = () => VideosService.createVideoGeneration({ model: 'kling-v3-text-to-video', prompt: 'a cat', sound: true });
// @ts-expect-error seedance 2.0 mini has no 1080p
export const badQuality = () => VideosService.createVideoGeneration({ model: 'seedance-2.0-mini-text-to-video', prompt: 'x', quality: '1080p' });
`;

describe('a TypeScript client generated from the OpenAPI document', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer();
    dir = mkdtempSync(path.join(tmpdir(), 'vidgate-client-'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is made by openapi-typescript-codegen and type-checks catalog create calls, refusing wrong fields', async () => {
    const doc = (await server.call('GET', '/openapi.json', { key: null })).body;
    writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(doc));
    const generated = spawnSync(process.execPath, [CODEGEN, '--input', 'openapi.json', '--output', 'client', '--client', 'fetch', '--useUnionTypes'], { cwd: dir, encoding: 'utf8' });
    assert.equal(generated.status, 0, generated.stderr);
    writeFileSync(path.join(dir, 'calls.ts'), CALLS);
    const check = (file: string) => spawnSync(TSC, [
      '--noEmit', '--strict', '--target', 'esnext', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--allowImportingTsExtensions',
      '--skipLibCheck', '--lib', 'esnext,dom', '--types', '', file,
    ], { cwd: dir, encoding: 'utf8' });
    const typed = check('calls.ts');
    assert.equal(typed.status, 0, typed.stdout);
    // Without the expect-error marks the wrong calls fail: the check can fail.
    writeFileSync(path.join(dir, 'wrong.ts'), CALLS.replaceAll('// @ts-expect-error', '//'));
    const wrong = check('wrong.ts');
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stdout, /wrong.ts\(7,\d+\): error TS2322: Type 'true' is not assignable to type '"off" \| "on" \| undefined'/);
    assert.match(wrong.stdout, /Type '"1080p"' is not assignable to type '"480p" \| "720p" \| undefined'/);
  });
});
