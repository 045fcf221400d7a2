import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitForTask } from '../helpers/poll.ts';
import { STORE_KINDS } from '../helpers/store.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ADMIN_KEY = `sk-adm-${'c3'.repeat(20)}`;
const BODY = { model: 'seedance-2.0-text-to-video', prompt: 'x', duration: 4, quality: '480p' };

for (const kind of STORE_KINDS) {
  describe(`channels in the admin API: health, pause and resume (${kind})`, () => {
    let server: TestServer;
    const admin = (method: string, path: string) => server.call(method, `/admin/v1${path}`, { key: ADMIN_KEY });
    const channelOf = async (id: string) => (await server.app.db.selectFrom('tasks').select('engine').where('id', '=', id).executeTakeFirstOrThrow()).engine;

    before(async () => {
      const channels = [{ name: 'main', engine: 'local', priority: 10 }, { name: 'spare', engine: 'local', priority: 1, models: ['seedance-2.0-text-to-video'] }];
      server = await startTestServer({ VIDGATE_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY, VIDGATE_CHANNELS: JSON.stringify(channels) }, { store: kind, worker: true });
    });
    after(() => server.close());

    it('lists channels with their settings (no credentials) and health', async () => {
      const list = await admin('GET', '/channels');
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual(list.body.data.map((c: { name: string; health: { state: string } }) => [c.name, c.health.state]), [['main', 'ok'], ['spare', 'ok']]);
      assert.equal(list.body.data[1].models.length, 1);
      assert.equal(list.body.data[0].settings.api_key, undefined);
    });

    it('a paused channel takes no new jobs in any process; resumed, it takes them again; each an audit row', async () => {
      const paused = await admin('POST', '/channels/main/pause');
      assert.deepEqual([paused.body.paused, paused.body.health.state], [true, 'paused']);
      const created = await server.call('POST', '/v1/videos/generations', { body: BODY });
      assert.equal((await waitForTask(server, created.body.id, 30_000)).status, 'completed');
      assert.equal(await channelOf(created.body.id), 'spare');
      const onlyMain = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 } });
      assert.equal(onlyMain.status, 503, 'the one channel serving it is paused');
      const resumed = await admin('POST', '/channels/main/resume');
      assert.equal(resumed.body.health.state, 'ok');
      const again = await server.call('POST', '/v1/videos/generations', { body: BODY });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal((await waitForTask(server, again.body.id, 30_000)).status, 'completed');
      assert.equal(await channelOf(again.body.id), 'main');
      const actions = (await admin('GET', '/audit')).body.data.filter((r: { target: string }) => r.target === 'channel:main').map((r: { action: string }) => r.action);
      assert.deepEqual(actions, ['channel.resume', 'channel.pause']);
      assert.equal((await admin('POST', '/channels/nope/pause')).status, 404);
    });
  });
}
