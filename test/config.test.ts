import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../src/config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-config-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('settings', () => {
  it('has the documented defaults', () => {
    const s = loadSettings({});
    assert.equal(s.port, 8080);
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.data_dir, path.resolve('./data'));
    assert.equal(s.storage_dir, s.data_dir, 'results and media live in the data dir unless told otherwise');
    assert.equal(s.public_url, 'http://127.0.0.1:8080');
    assert.equal(s.bootstrap_credits, 1000);
    assert.deepEqual(s.outbound_allow, []);
    assert.equal(s.worker_concurrency, 2);
    assert.equal(s.result_ttl, 24 * 3600 * 1000);
    assert.equal(s.media_deadline, 15_000);
    assert.equal(s.max_body_bytes, 1024 * 1024);
    assert.deepEqual([s.rate_limit_rpm, s.max_unfinished_tasks], [0, 0]);
    assert.deepEqual(
      [s.worker_poll, s.job_lease, s.job_attempts, s.retry_base, s.retry_max, s.shutdown_grace, s.sweep_interval],
      [1_000, 30_000, 3, 2_000, 300_000, 30_000, 60_000],
    );
  });
  it('reads the environment', () => {
    const s = loadSettings({
      VIDGATE_PORT: '9000', VIDGATE_HOST: '0.0.0.0', VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32, 10.0.0.0/8',
      VIDGATE_RESULT_TTL: '2h', VIDGATE_PUBLIC_URL: 'https://videos.example.com/', VIDGATE_BOOTSTRAP_CREDITS: '12.5',
    });
    assert.deepEqual([s.port, s.host, s.result_ttl, s.public_url, s.bootstrap_credits], [9000, '0.0.0.0', 7_200_000, 'https://videos.example.com', 12.5]);
    assert.deepEqual(s.outbound_allow, ['127.0.0.2/32', '10.0.0.0/8']);
    assert.equal(loadSettings({ VIDGATE_STORAGE_DIR: 'shared/vidgate' }).storage_dir, path.resolve('shared/vidgate'));
  });
  it('reads a JSON or YAML config file, the environment winning', () => {
    const json = file('c.json', JSON.stringify({ port: 7000, prices: { 'wan2.7-text-to-video': { '720p': 1, '1080p': 2 } } }));
    const s = loadSettings({ VIDGATE_CONFIG: json });
    assert.equal(s.port, 7000);
    assert.deepEqual(s.prices['wan2.7-text-to-video'], { rule: 'per_second', '720p': 1, '1080p': 2 });
    assert.equal(loadSettings({ VIDGATE_CONFIG: json, VIDGATE_PORT: '7001' }).port, 7001);
    const yaml = file('c.yaml', 'port: 7100\noutbound_allow:\n  - 127.0.0.2/32\n');
    assert.deepEqual([loadSettings({ VIDGATE_CONFIG: yaml }).port, loadSettings({ VIDGATE_CONFIG: yaml }).outbound_allow], [7100, ['127.0.0.2/32']]);
  });
  it('names the bad setting', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ VIDGATE_PORT: 'eighty' }, /VIDGATE_PORT/],
      [{ VIDGATE_PORT: '70000' }, /VIDGATE_PORT/],
      [{ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/33' }, /VIDGATE_OUTBOUND_ALLOW: "127.0.0.2\/33" is not a CIDR/],
      [{ VIDGATE_RESULT_TTL: 'forever' }, /VIDGATE_RESULT_TTL/],
      [{ VIDGATE_BOOTSTRAP_KEY: 'sk-evo-short' }, /VIDGATE_BOOTSTRAP_KEY: must be sk-evo-/],
      [{ VIDGATE_PUBLIC_URL: 'ftp://x' }, /VIDGATE_PUBLIC_URL/],
      [{ VIDGATE_WORKER_CONCURRENCY: '0' }, /VIDGATE_WORKER_CONCURRENCY/],
      [{ VIDGATE_JOB_LEASE: '100ms' }, /VIDGATE_JOB_LEASE: must be at least 300 ms/],
      [{ VIDGATE_JOB_ATTEMPTS: '0' }, /VIDGATE_JOB_ATTEMPTS/],
      [{ VIDGATE_CONFIG: path.join(dir, 'missing.json') }, /VIDGATE_CONFIG: cannot read/],
      [{ VIDGATE_CONFIG: file('bad.json', '{"port":') }, /VIDGATE_CONFIG: .* is not valid JSON/],
      [{ VIDGATE_CONFIG: file('typo.json', '{"prot": 1}') }, /unknown setting\(s\) prot/],
      [{ VIDGATE_CONFIG: file('price.json', '{"prices":{"x":{"720p":-1,"1080p":1}}}') }, /prices in .*price\.json \(x\.720p\)/],
      [{ VIDGATE_CONFIG: file('port.yaml', 'port: -1\n') }, /port in .*port\.yaml/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadSettings(env), (error: Error) => error instanceof SettingsError && message.test(error.message), JSON.stringify(env));
    }
  });
});

describe('channels in the config file', () => {
  const load = (channels: unknown, env: Record<string, string> = {}) =>
    loadSettings({ VIDGATE_CONFIG: file(`channels-${Math.random()}.json`, JSON.stringify({ channels })), ...env });

  it('defaults to one local channel for every model', () => {
    const [local] = loadSettings({}).channels;
    assert.equal(local.name, 'local');
    assert.equal(local.engine, 'local');
    assert.equal(local.models.size, 74, 'the whole catalog (CONTRACT §9.4: local previews every model)');
    assert.ok(['wan2.7-text-to-video', 'seedance-2.0-text-to-video', 'topaz-video-upscale', 'MiniMax-Hailuo-02'].every((id) => local.models.has(id)));
  });

  it('maps our model ids to the engine\'s defaults, or to the operator\'s map, and reads the credential from the environment', () => {
    file('wan.json', JSON.stringify({ 1: { class_type: 'SaveVideo', inputs: { filename_prefix: '{{task_id}}' } } }));
    const [ali, evo, gpu] = load([
      { name: 'ali', engine: 'dashscope', base_url: 'https://dashscope-intl.aliyuncs.com/api/v1', api_key_env: 'DS_KEY', models: ['*'] },
      { name: 'evo', engine: 'evolink', base_url: 'https://api.example', models: { 'wan2.7-text-to-video': 'wan2.7-text-to-video-fast' } },
      { name: 'gpu', engine: 'comfyui', base_url: 'http://10.0.0.5:8188', models: { 'wan2.7-text-to-video': 'wan.json' } },
    ], { DS_KEY: 'sk-secret' }).channels;
    assert.equal(gpu.models.get('wan2.7-text-to-video'), path.join(dir, 'wan.json'), 'workflow paths are relative to the config file');
    assert.equal(ali.api_key, 'sk-secret');
    assert.equal(ali.models.get('wan2.7-video-edit'), 'wan2.7-videoedit');
    assert.equal(ali.models.size, 21, 'the wan and happyhorse families');
    assert.equal(ali.models.get('wan3.0-reference-video'), 'wan3.0-video');
    assert.deepEqual([...evo.models], [['wan2.7-text-to-video', 'wan2.7-text-to-video-fast']]);
  });

  it('refuses bad channels with a message naming the problem', () => {
    const cases: [unknown, RegExp, Record<string, string>?][] = [
      [[{ name: 'a', engine: 'sora' }], /engine/],
      [[{ name: 'a', engine: 'dashscope' }], /base_url\): is required/],
      [[{ name: 'a', engine: 'local' }, { name: 'a', engine: 'local' }], /used by two channels/],
      [[{ name: 'a', engine: 'local', models: ['wan9'] }], /"wan9" is not a model/],
      [[{ name: 'a', engine: 'dashscope', base_url: 'https://x.example/api/v1', models: { 'wan2.7-text-to-video': 'x', wan9: 'y' } }], /"wan9" is not a model/],
      [[{ name: 'a', engine: 'fal', models: ['wan3.0-text-to-video'] }], /no default upstream id for wan3.0-text-to-video/],
      [[{ name: 'a', engine: 'comfyui', base_url: 'http://10.0.0.5:8188' }], /map each model to its workflow file/],
      [[{ name: 'a', engine: 'comfyui', base_url: 'http://10.0.0.5:8188', models: { 'wan2.7-text-to-video': 'missing.json' } }], /workflow .*missing\.json/],
      [[{ name: 'a', engine: 'dashscope', base_url: 'https://x.example/api/v1', api_key_env: 'NOT_SET_ANYWHERE' }], /NOT_SET_ANYWHERE, which is not set/],
    ];
    for (const [channels, message] of cases) assert.throws(() => load(channels), (e: Error) => e instanceof SettingsError && message.test(e.message), JSON.stringify(channels));
  });

  it('takes VIDGATE_CHANNELS as JSON', () => {
    const s = loadSettings({ VIDGATE_CHANNELS: JSON.stringify([{ name: 'x', engine: 'local', priority: 3 }]) });
    assert.equal(s.channels[0].priority, 3);
    assert.throws(() => loadSettings({ VIDGATE_CHANNELS: 'not json' }), /VIDGATE_CHANNELS/);
  });
});
