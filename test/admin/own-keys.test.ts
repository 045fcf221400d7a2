import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findCallerByKey } from '../../src/auth/accounts.ts';
import { STORE_KINDS } from '../helpers/store.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ADMIN_KEY = `sk-adm-${'k7'.repeat(20)}`;

for (const kind of STORE_KINDS) {
  describe(`a user's own keys (CONTRACT §10.3, ${kind})`, () => {
    let server: TestServer;
    let parent: { id: string; key: string };
    const admin = (method: string, path: string, body?: unknown) => server.call(method, `/admin/v1${path}`, { key: ADMIN_KEY, body });
    const asParent = (method: string, path: string, body?: unknown) => server.call(method, `/v1${path}`, { key: parent.key, body });
    const balance = async () => (await admin('GET', '/users/team')).body.balance;

    before(async () => {
      server = await startTestServer({ VIDGATE_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY }, { store: kind });
      await admin('POST', '/users', { name: 'team', credits: 10 });
      const created = await admin('POST', '/keys', { user: 'team', credits: 50, models: ['seedance-2.0-text-to-video', 'wan2.7-text-to-video'] });
      parent = { id: created.body.id, key: created.body.key };
    });
    after(() => server.close());

    it('makes a key out of its own allowance, never adding credits, within its own models', async () => {
      assert.equal(await balance(), 60);
      const child = await asParent('POST', '/keys', { name: 'ci', credits: 20, models: ['wan2.7-text-to-video'] });
      assert.equal(child.status, 200, JSON.stringify(child.body));
      assert.match(child.body.key, /^sk-evo-/);
      assert.deepEqual([child.body.credits, child.body.models, child.body.name], [20, ['wan2.7-text-to-video'], 'ci']);
      const keys = await asParent('GET', '/keys');
      const own = keys.body.data.find((k: { id: string }) => k.id === parent.id);
      assert.equal(own.credits, 30, 'the 20 came out of the parent');
      assert.equal(await balance(), 60, 'no credits were added');
      const inherited = await asParent('POST', '/keys', {});
      assert.deepEqual(inherited.body.models, ['seedance-2.0-text-to-video', 'wan2.7-text-to-video'], 'models default to its own');
    });

    it('refuses more credits than it has, or models it may not use, naming the field', async () => {
      const greedy = await asParent('POST', '/keys', { credits: 31 });
      assert.equal(greedy.status, 400);
      assert.match(greedy.body.error.message, /^credits: this key has 30 credits of its own left to give/);
      const beyond = await asParent('POST', '/keys', { models: ['veo3.1-pro-beta'] });
      assert.match(beyond.body.error.message, /^models: this key may not grant veo3.1-pro-beta/);
      const alice = await server.call('POST', '/v1/keys', { body: { credits: 2_000_000 } });
      assert.match(alice.body.error.message, /^credits: the user has \d+ credits left/, 'a key without an allowance gives at most the user\'s balance');
    });

    it('lists only its user\'s keys; disables another of them, never itself nor another user\'s', async () => {
      const ids = (await asParent('GET', '/keys')).body.data.map((k: { user: string }) => k.user);
      assert.ok(ids.every((user: string) => user === 'team'));
      const child = await asParent('POST', '/keys', { name: 'temp' });
      assert.equal((await asParent('DELETE', `/keys/${parent.id}`)).status, 400);
      const aliceKeyId = (await server.app.db.selectFrom('api_keys').innerJoin('users', 'users.id', 'api_keys.user_id').select('api_keys.id').where('users.name', '=', 'alice').executeTakeFirstOrThrow()).id;
      assert.equal((await asParent('DELETE', `/keys/${aliceKeyId}`)).status, 404);
      const gone = await asParent('DELETE', `/keys/${child.body.id}`);
      assert.deepEqual(gone.body, { id: child.body.id, disabled: true });
      assert.equal(await findCallerByKey(server.app.db, child.body.key), null);
    });
  });
}
