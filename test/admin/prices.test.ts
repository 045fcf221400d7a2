import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STORE_KINDS, tempPostgresDatabase } from '../helpers/store.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ADMIN_KEY = `sk-adm-${'p9'.repeat(20)}`;

for (const kind of STORE_KINDS) {
  describe(`the live price book (${kind})`, () => {
    let server: TestServer;
    const admin = (method: string, path: string, body?: unknown) => server.call(method, `/admin/v1${path}`, { key: ADMIN_KEY, body });
    const config = JSON.stringify({ prices: { 'wan2.7-text-to-video': { rule: 'per_second', '720p': 10 } } });

    before(async () => {
      const { writeFileSync, mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const path = await import('node:path');
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'vidgate-prices-')), 'vidgate.json');
      writeFileSync(file, config);
      server = await startTestServer({ VIDGATE_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY, VIDGATE_CONFIG: file }, { store: kind });
    });
    after(() => server.close());

    it('starts from the defaults with the config file\'s prices seeded into the store', async () => {
      const list = await admin('GET', '/prices');
      assert.equal(list.status, 200);
      assert.equal(list.body.data.length, 74);
      const wan = list.body.data.find((p: { model: string }) => p.model === 'wan2.7-text-to-video');
      assert.deepEqual([wan.rule, wan['720p'], wan['1080p'], wan.version], ['per_second', 10, 14.4, 1], 'the config set 720p; 1080p keeps its default');
      const seeded = await server.app.db.selectFrom('prices').selectAll().execute();
      assert.deepEqual(seeded.map((r) => r.model), ['wan2.7-text-to-video']);
    });

    it('changes a price for tasks created after it, each task keeping the version it was quoted on, with an audit row', async () => {
      const quoted = async () => {
        const res = await server.call('POST', '/v1/videos/generations', { body: { model: 'seedance-2.0-text-to-video', prompt: 'x', duration: 4, quality: '480p' } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return server.app.db.selectFrom('tasks').select(['credits_reserved_micro', 'price_version']).where('id', '=', res.body.id).executeTakeFirstOrThrow();
      };
      const first = await quoted();
      const set = await admin('PUT', '/prices/seedance-2.0-text-to-video', { rule: 'per_second', '480p': 2.5 });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual([set.body['480p'], set.body['720p'], set.body.version], [2.5, 10, 2], 'only 480p changed');
      const second = await quoted();
      assert.equal(Number(second.credits_reserved_micro), 10_000_000, '4 s × 2.5');
      assert.notEqual(Number(first.credits_reserved_micro), Number(second.credits_reserved_micro));
      assert.deepEqual([first.price_version, second.price_version], [1, 2]);
      const audit = await admin('GET', '/audit');
      const row = audit.body.data.find((r: { action: string }) => r.action === 'price.update');
      assert.deepEqual([row.target, row.after['480p'], row.before['480p']], ['price:seedance-2.0-text-to-video', 2.5, 5]);
    });

    it('refuses a quality the model does not take, a negative price, and an unknown model, naming the field', async () => {
      const quality = await admin('PUT', '/prices/seedance-2.0-mini-text-to-video', { rule: 'per_second', '1080p': 3 });
      assert.equal(quality.status, 400);
      assert.match(quality.body.error.message, /^1080p: seedance-2.0-mini-text-to-video has no quality 1080p; it takes 480p, 720p/);
      const negative = await admin('PUT', '/prices/wan2.7-text-to-video', { rule: 'per_second', '720p': -1 });
      assert.match(negative.body.error.message, /^720p: /);
      const unknown = await admin('PUT', '/prices/sora-9', { rule: 'per_call', '720p': 1 });
      assert.match(unknown.body.error.message, /^model_id|^model: /);
    });
  });
}

describe('config prices after the first start', () => {
  it('seed an empty store once; later, a config that differs from the store is named in a warning', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-prices-again-'));
    const file = path.join(dir, 'vidgate.json');
    writeFileSync(file, JSON.stringify({ prices: { 'wan2.7-text-to-video': { rule: 'per_second', '720p': 9 } } }));
    const first = await startTestServer({ VIDGATE_DATA_DIR: dir, VIDGATE_CONFIG: file });
    assert.equal(first.app.pricesIgnored, undefined);
    await first.close();
    writeFileSync(file, JSON.stringify({ prices: { 'wan2.7-text-to-video': { rule: 'per_second', '720p': 11 } } }));
    const second = await startTestServer({ VIDGATE_DATA_DIR: dir, VIDGATE_CONFIG: file });
    try {
      assert.match(second.app.pricesIgnored ?? '', /config file's prices for wan2.7-text-to-video are not used: .*PUT \/admin\/v1\/prices\/\{model\}/);
      // The store's 9 credits stand.
      const row = await second.app.db.selectFrom('prices').select('prices_json').where('model', '=', 'wan2.7-text-to-video').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(row.prices_json), { '720p': 9 });
    } finally {
      await second.close();
    }
  });
});

describe('a price change reaches another process on the same PostgreSQL store', { skip: STORE_KINDS.includes('postgres') ? false : 'needs PostgreSQL' }, () => {
  it('is seen by the other process at its next refresh', async () => {
    const database = await tempPostgresDatabase();
    const env = { VIDGATE_DATABASE_URL: database.url, VIDGATE_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY };
    const one = await startTestServer(env);
    const two = await startTestServer(env);
    try {
      const set = await one.call('PUT', '/admin/v1/prices/kling-o1-image-to-video', { key: ADMIN_KEY, body: { rule: 'per_call', '720p': 77 } });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      await two.app.prices.refresh(); // what its 2 s timer does
      const seen = (await two.call('GET', '/admin/v1/prices', { key: ADMIN_KEY })).body.data.find((p: { model: string }) => p.model === 'kling-o1-image-to-video');
      assert.equal(seen['720p'], 77);
    } finally {
      await one.close();
      await two.close();
      await database.drop();
    }
  });
});
