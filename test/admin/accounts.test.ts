import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findCallerByKey } from '../../src/auth/accounts.ts';
import { STORE_KINDS } from '../helpers/store.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ADMIN_KEY = `sk-adm-${'a1'.repeat(20)}`;

for (const kind of STORE_KINDS) {
  describe(`the admin API: users, keys, top-ups and the audit log (${kind})`, () => {
    let server: TestServer;
    const admin = (method: string, path: string, body?: unknown) => server.call(method, `/admin/v1${path}`, { key: ADMIN_KEY, body });

    before(async () => {
      server = await startTestServer({ VIDGATE_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY }, { store: kind });
    });
    after(() => server.close());

    it('answers only admin keys: 401 without one, 403 admin_required for a user key, and refuses disabled users and expired keys', async () => {
      const none = await server.call('GET', '/admin/v1/users', { key: null });
      assert.equal(none.status, 401);
      const user = await server.call('GET', '/admin/v1/users');
      assert.equal(user.status, 403);
      assert.equal(user.body.error.code, 'admin_required');
      assert.equal(user.body.error.type, 'permission_error');
      assert.equal((await admin('GET', '/users')).status, 200);
      // The admin's key works on /v1 too, for its own user.
      assert.equal((await server.call('GET', '/v1/credits', { key: ADMIN_KEY })).status, 200);

      const created = await admin('POST', '/users', { name: 'mallory', credits: 5 });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const key = await admin('POST', '/keys', { user: 'mallory', name: 'ci' });
      assert.match(key.body.key, /^sk-evo-/);
      assert.equal((await server.call('GET', '/v1/credits', { key: key.body.key })).status, 200);
      await admin('PATCH', '/users/mallory', { disabled: true });
      // Read the store, not through the caller cache (which keeps a caller for its short TTL).
      assert.equal(await findCallerByKey(server.app.db, key.body.key), null, 'a disabled user\'s key is refused');
      await admin('PATCH', '/users/mallory', { disabled: false });
      const expiring = await admin('POST', '/keys', { user: 'mallory', expires_at: Math.floor(Date.now() / 1000) + 3600 });
      assert.notEqual(await findCallerByKey(server.app.db, expiring.body.key), null);
      assert.equal(await findCallerByKey(server.app.db, expiring.body.key, Date.now() + 7_200_000), null, 'refused once expired');
    });

    it('creates, lists, pages and changes users, with the shapes of §10.2', async () => {
      for (const name of ['u1', 'u2', 'u3']) assert.equal((await admin('POST', '/users', { name, group: 'team' })).status, 200);
      const duplicate = await admin('POST', '/users', { name: 'u1' });
      assert.equal(duplicate.status, 400);
      assert.match(duplicate.body.error.message, /^name: user "u1" exists already/);
      const page = await admin('GET', '/users?limit=2');
      assert.deepEqual(page.body.data.map((u: { name: string }) => u.name), ['u3', 'u2']);
      assert.equal(page.body.has_more, true);
      const next = await admin('GET', `/users?limit=2&before=${page.body.last_id}`);
      assert.equal(next.body.data[0].name, 'u1');
      const one = await admin('GET', '/users/u2');
      assert.deepEqual(Object.keys(one.body).sort(), ['balance', 'created', 'disabled', 'file_quota', 'file_quota_bytes', 'group', 'key_count', 'name', 'role', 'used']);
      const changed = await admin('PATCH', '/users/u2', { role: 'admin', file_quota: 10 });
      assert.deepEqual([changed.body.role, changed.body.file_quota], ['admin', 10]);
      assert.equal((await admin('PATCH', '/users/u2', { colour: 'red' })).status, 400, 'unknown fields are refused');
      assert.equal((await admin('GET', '/users/nobody')).status, 404);
    });

    it('tops up and takes back, never below zero, each a ledger row and an audit row written together', async () => {
      await admin('POST', '/users', { name: 'payer' });
      const up = await admin('POST', '/users/payer/topups', { credits: 12.5, note: 'invoice 7' });
      assert.deepEqual(up.body, { user: 'payer', balance: 12.5 });
      const back = await admin('POST', '/users/payer/topups', { credits: -2.5 });
      assert.equal(back.body.balance, 10);
      const refused = await admin('POST', '/users/payer/topups', { credits: -11 });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /^credits: the balance is 10; it cannot go below zero/);
      const user = await server.app.db.selectFrom('users').select('id').where('name', '=', 'payer').executeTakeFirstOrThrow();
      const rows = await server.app.db.selectFrom('ledger_entries').select(['kind', 'amount_micro']).where('user_id', '=', user.id).orderBy('created_at').execute();
      assert.deepEqual(rows.map((r) => [r.kind, Number(r.amount_micro)]), [['topup', 12_500_000], ['adjust', -2_500_000]], 'a negative top-up is an adjust; the refused one left no row');
      const audit = await admin('GET', '/audit?limit=200');
      const topups = audit.body.data.filter((row: { action: string; target: string }) => row.action === 'topup' && row.target === 'user:payer');
      assert.equal(topups.length, 2, 'one audit row per top-up that happened');
      assert.deepEqual(topups.at(-1).after, { credits: 12.5, note: 'invoice 7' });
      assert.equal(topups.at(-1).actor, 'admin');
    });

    it('creates keys (the secret once), changes, tops up and disables them, within the models and credits the API knows', async () => {
      await admin('POST', '/users', { name: 'keyholder', credits: 100 });
      const created = await admin('POST', '/keys', { user: 'keyholder', name: 'mobile', credits: 20, models: ['seedance-2.0-text-to-video'], rpm: 5 });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual([created.body.credits, created.body.models, created.body.rpm, created.body.disabled], [20, ['seedance-2.0-text-to-video'], 5, false]);
      assert.ok(created.body.prefix.endsWith('…') && !created.body.prefix.includes(created.body.key.slice(12)), 'only a prefix');
      const listed = await admin('GET', '/keys?user=keyholder');
      assert.equal(listed.body.data.length, 1);
      assert.equal(listed.body.data[0].key, undefined, 'never the secret again');
      const topped = await admin('PATCH', `/keys/${created.body.id}`, { credits: 5, name: 'phone' });
      assert.deepEqual([topped.body.credits, topped.body.name], [25, 'phone']);
      assert.equal((await admin('POST', '/keys', { user: 'keyholder', models: ['sora-3'] })).status, 400);
      assert.equal((await admin('POST', '/keys', { user: 'keyholder', credits: 1, unlimited: true })).status, 400);
      assert.equal((await admin('POST', '/keys', { user: 'nobody' })).status, 400);
      const disabled = await admin('DELETE', `/keys/${created.body.id}`);
      assert.equal(disabled.body.disabled, true);
      const actions = (await admin('GET', '/audit?limit=200')).body.data.filter((row: { target: string }) => row.target === `key:${created.body.id}`).map((row: { action: string }) => row.action);
      assert.deepEqual(actions, ['key.disable', 'key.update', 'key.create']);
    });
  });
}
