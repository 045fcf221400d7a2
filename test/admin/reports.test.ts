import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TaskSettlement } from '../../src/tasks/settlement.ts';
import { markProcessing } from '../../src/tasks/transitions.ts';
import { checkLedgerInvariants } from '../helpers/ledger.ts';
import { STORE_KINDS } from '../helpers/store.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ADMIN_KEY = `sk-adm-${'r2'.repeat(20)}`;
const MODEL = 'wan2.7-text-to-video';

/** Parses the CSV vidgate writes (quoted fields, CRLF lines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; }
    else cell += c;
  }
  return rows;
}

for (const kind of STORE_KINDS) {
  describe(`the admin reports: task browser, ledger, usage and CSV exports (${kind})`, () => {
    let server: TestServer;
    let settlement: TaskSettlement;
    const admin = (path: string) => server.call('GET', `/admin/v1${path}`, { key: ADMIN_KEY });
    const ids: Record<string, string> = {};
    let bobKey: string;

    /** Ends a task the way a worker does: through the settlement, in one transaction. */
    const end = async (id: string, how: 'complete' | 'fail', billedSeconds = 2) => {
      const now = Date.now();
      await server.app.store.write(async (trx) => {
        if (how === 'fail') return void await settlement.fail(trx, id, 'service_error', 'the upstream said no, "politely"', now);
        await markProcessing(trx, id, now);
        const task = await trx.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        await settlement.complete(trx, task, { path: `results/${id}.mp4`, billedSeconds }, now + 2500); // as if it ran 2.5 s
      });
    };
    const create = async (key: string, duration: number) => {
      const res = await server.call('POST', '/v1/videos/generations', { key, body: { model: MODEL, prompt: 'a lighthouse at dusk', duration } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.id as string;
    };

    before(async () => {
      server = await startTestServer({ VIDGATE_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY }, { store: kind, worker: false });
      settlement = server.app.settlement;
      assert.equal((await server.call('POST', '/admin/v1/users', { key: ADMIN_KEY, body: { name: 'bob', credits: 500 } })).status, 200);
      bobKey = (await server.call('POST', '/admin/v1/keys', { key: ADMIN_KEY, body: { user: 'bob', name: 'bob-ci' } })).body.key;
      ids.done = await create(server.key, 5);
      ids.failed = await create(server.key, 2);
      ids.cancelled = await create(bobKey, 3);
      ids.done2 = await create(bobKey, 4);
      ids.pending = await create(server.key, 2);
      await end(ids.done, 'complete', 4); // billed 4 of the 5 seconds reserved
      await end(ids.failed, 'fail');
      assert.equal((await server.call('DELETE', `/v1/tasks/${ids.cancelled}`, { key: bobKey })).status, 200);
      await end(ids.done2, 'complete', 4);
    });
    after(() => server.close());

    it('refuses user keys and no key on every report', async () => {
      for (const path of ['/tasks', `/tasks/${ids.done}`, '/ledger', '/usage', '/tasks?format=csv']) {
        assert.equal((await server.call('GET', `/admin/v1${path}`, { key: null })).status, 401, path);
        const user = await server.call('GET', `/admin/v1${path}`);
        assert.equal(user.status, 403, path);
        assert.equal(user.body.error.code, 'admin_required');
      }
    });

    it('lists every user\'s tasks newest first with who, where and what they moved; filters and pages', async () => {
      const all = await admin('/tasks');
      assert.equal(all.status, 200, JSON.stringify(all.body));
      assert.deepEqual(all.body.data.map((t: { id: string }) => t.id), [ids.pending, ids.done2, ids.cancelled, ids.failed, ids.done]);
      const done = all.body.data.find((t: { id: string }) => t.id === ids.done);
      assert.equal(done.object, 'video.generation.task', 'the §3 task object…');
      assert.equal(done.user, 'alice');
      assert.equal(done.channel, 'local');
      assert.equal(done.credits_charged, done.usage.credits_charged);
      assert.equal(Math.round((done.credits_charged + done.credits_released) * 1e6), Math.round(done.usage.credits_reserved * 1e6), '…charged + released = reserved');
      assert.ok(done.credits_released > 0, 'the unbilled second went back');
      assert.equal(done.run_s, 2.5);
      assert.ok(done.queued_s >= 0);
      assert.deepEqual(Object.keys(done.upstream_status).sort(), ['job', 'last_error', 'phase', 'upstream_id']);
      const pending = all.body.data.find((t: { id: string }) => t.id === ids.pending);
      assert.deepEqual([pending.credits_charged, pending.credits_released, pending.run_s], [null, null, null]);

      const filtered = async (query: string) => (await admin(`/tasks?${query}`)).body.data.map((t: { id: string }) => t.id);
      assert.deepEqual(await filtered('status=failed'), [ids.failed]);
      assert.deepEqual(await filtered('user=bob'), [ids.done2, ids.cancelled]);
      assert.deepEqual(await filtered(`key=${done.key_id}&status=completed`), [ids.done]);
      assert.deepEqual(await filtered(`model=${MODEL}&channel=local&status=cancelled`), [ids.cancelled]);
      assert.deepEqual(await filtered('channel=nowhere'), []);
      assert.deepEqual(await filtered(`until=${done.created}`), [], 'until excludes its own second');
      assert.equal((await filtered(`since=${done.created}`)).length, 5);

      const first = await admin('/tasks?limit=2');
      assert.equal(first.body.has_more, true);
      const second = await admin(`/tasks?limit=2&before=${first.body.last_id}`);
      const third = await admin(`/tasks?limit=2&before=${second.body.last_id}`);
      assert.deepEqual([...first.body.data, ...second.body.data, ...third.body.data].map((t: { id: string }) => t.id), all.body.data.map((t: { id: string }) => t.id));
      assert.equal(third.body.has_more, false);

      const bad = await admin('/tasks?status=lost');
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /status/);
      assert.match((await admin('/tasks?model=sora-9')).body.error.message, /model/);
      assert.match((await admin('/tasks?before=task-nope')).body.error.message, /^before: no task/);
    });

    it('opens one task with its ledger rows, job and callback deliveries', async () => {
      const one = await admin(`/tasks/${ids.done}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.deepEqual(one.body.ledger.map((r: { kind: string }) => r.kind), ['reserve', 'charge', 'release']);
      assert.equal(one.body.ledger[1].credits, one.body.credits_charged);
      assert.equal(one.body.job.attempts, 0, 'ended without a worker claiming it');
      assert.deepEqual(one.body.callbacks, []);
      assert.equal((await admin('/tasks/task-unified-0-nope')).status, 404);
    });

    it('streams the filtered tasks as CSV with a header row, quoting what needs it', async () => {
      const res = await fetch(`${server.baseUrl}/admin/v1/tasks?format=csv&user=alice`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/csv/);
      assert.match(res.headers.get('content-disposition')!, /attachment; filename="tasks.csv"/);
      const rows = parseCsv(await res.text());
      const header = rows[0];
      assert.deepEqual(header.slice(0, 6), ['id', 'created', 'user', 'key_id', 'model', 'status']);
      assert.deepEqual(rows.slice(1).map((r) => r[0]), [ids.pending, ids.failed, ids.done]);
      const failed = rows.find((r) => r[0] === ids.failed)!;
      assert.equal(failed[header.indexOf('error_message')], 'the upstream said no, "politely"');
      assert.equal(failed[header.indexOf('credits_charged')], '0');
      const done = rows.find((r) => r[0] === ids.done)!;
      assert.match(done[header.indexOf('result_url')], /^http:\/\/.+\.mp4$/);
    });

    it('exports every match once, in order, across its batches, even for tasks made in the same millisecond', async () => {
      const template = await server.app.db.selectFrom('tasks').selectAll().where('id', '=', ids.done).executeTakeFirstOrThrow();
      await server.app.db.insertInto('users').values({ id: 'u-bulk', name: 'bulk', user_group: 'default', webhook_secret: 'whsec_x', balance_micro: 0, used_micro: 0, created_at: 1 }).execute();
      const made = Array.from({ length: 2345 }, (_, i) => ({ ...template, id: `task-bulk-${String(i).padStart(5, '0')}`, user_id: 'u-bulk', created_at: 1_700_000_000_000 }));
      for (let i = 0; i < made.length; i += 500) await server.app.db.insertInto('tasks').values(made.slice(i, i + 500)).execute();
      const res = await fetch(`${server.baseUrl}/admin/v1/tasks?format=csv&user=bulk`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const rows = parseCsv(await res.text()).slice(1).map((r) => r[0]);
      assert.deepEqual(rows, made.map((t) => t.id).reverse());
      await server.app.db.deleteFrom('tasks').where('user_id', '=', 'u-bulk').execute();
    });

    it('lists the ledger with the balance after each row, and exports it', async () => {
      const bob = await admin('/ledger?user=bob');
      assert.equal(bob.status, 200);
      const kinds = bob.body.data.map((r: { kind: string }) => r.kind);
      assert.deepEqual(kinds, ['charge', 'release', 'reserve', 'reserve', 'topup'], 'done2 charged all it reserved: no release');
      assert.equal(bob.body.data.at(-1).balance_after, 500);
      const balance = (await server.call('GET', '/v1/credits', { key: bobKey })).body.data.user.remaining_credits;
      assert.equal(bob.body.data[0].balance_after, balance, 'the newest row holds the balance /v1/credits shows');
      for (const row of bob.body.data) assert.deepEqual(Object.keys(row).sort(), ['balance_after', 'credits', 'id', 'key_id', 'kind', 'note', 'task_id', 'time', 'user']);

      await server.call('POST', '/admin/v1/users/bob/topups', { key: ADMIN_KEY, body: { credits: -1.5, note: 'goodwill, reversed' } });
      const adjust = (await admin('/ledger?user=bob&limit=1')).body;
      assert.deepEqual([adjust.data[0].kind, adjust.data[0].credits, adjust.data[0].note], ['adjust', -1.5, 'goodwill, reversed']);
      assert.equal(adjust.has_more, true);
      const next = await admin(`/ledger?user=bob&limit=100&before=${adjust.last_id}`);
      assert.equal(next.body.data.length, 5);
      assert.match((await admin('/ledger?before=abc')).body.error.message, /^before:/);

      const csv = parseCsv(await (await fetch(`${server.baseUrl}/admin/v1/ledger?format=csv&user=bob`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text());
      assert.deepEqual(csv[0], ['id', 'time', 'user', 'key_id', 'task_id', 'kind', 'credits', 'balance_after', 'note']);
      assert.equal(csv.length, 7);
      assert.deepEqual([csv[1][5], csv[1][8]], ['adjust', 'goodwill, reversed']);
      await checkLedgerInvariants(server.app.db);
    });

    it('reports usage per day, model, user and channel that agrees with /v1/credits to the micro-credit', async () => {
      const byUser = await admin('/usage?group_by=user');
      assert.equal(byUser.status, 200, JSON.stringify(byUser.body));
      const row = (name: string) => byUser.body.data.find((r: { user: string }) => r.user === name);
      assert.deepEqual([row('alice').tasks, row('alice').completed, row('alice').failed, row('alice').cancelled], [3, 1, 1, 0], 'the pending task counts in tasks only');
      assert.deepEqual([row('bob').tasks, row('bob').completed, row('bob').cancelled], [2, 1, 1]);
      assert.equal(row('alice').billed_seconds, 4);
      for (const [name, key] of [['alice', server.key], ['bob', bobKey]] as const) {
        const credits = (await server.call('GET', '/v1/credits', { key })).body.data.user;
        assert.equal(Math.round(row(name).credits_charged * 1e6), Math.round(credits.used_credits * 1e6), `${name}: charged = used`);
      }
      assert.ok(row('alice').p95_s >= 2 && row('alice').p95_s <= 4, 'the completed task took 2.5 s from create to end');
      assert.ok(row('alice').p50_s <= row('alice').p95_s);

      const today = new Date().toISOString().slice(0, 10);
      const byDay = await admin('/usage');
      assert.equal(byDay.body.until, today);
      assert.deepEqual(byDay.body.data.map((r: { day: string; tasks: number }) => [r.day, r.tasks]), [[today, 5]]);
      assert.deepEqual((await admin('/usage?group_by=model')).body.data.map((r: { model: string }) => r.model), [MODEL]);
      assert.deepEqual((await admin('/usage?group_by=channel&user=bob')).body.data.map((r: { channel: string; tasks: number }) => [r.channel, r.tasks]), [['local', 2]]);
      assert.deepEqual((await admin('/usage?since=2020-01-01&until=2020-01-31')).body.data, []);
      assert.match((await admin('/usage?since=2020-02-30')).body.error.message, /since/);
      assert.match((await admin('/usage?since=2030-01-01&until=2029-01-01')).body.error.message, /^since: 2030-01-01 is after until/);
      assert.equal((await admin('/usage?user=nobody')).status, 404);
      assert.match((await admin('/usage?group_by=colour')).body.error.message, /group_by/);

      const csv = parseCsv(await (await fetch(`${server.baseUrl}/admin/v1/usage?group_by=user&format=csv`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text());
      assert.deepEqual(csv[0].slice(0, 3), ['user', 'tasks', 'completed']);
      assert.deepEqual(csv.slice(1).map((r) => r[0]), ['alice', 'bob']);
    });

    it('answers a user its own usage on /v1/usage, by day or model, and nobody else\'s', async () => {
      const mine = await server.call('GET', '/v1/usage?group_by=model', { key: bobKey });
      assert.equal(mine.status, 200, JSON.stringify(mine.body));
      assert.deepEqual(mine.body.data.map((r: { model: string; tasks: number }) => [r.model, r.tasks]), [[MODEL, 2]]);
      assert.equal((await server.call('GET', '/v1/usage?group_by=user', { key: bobKey })).status, 400, 'by user is the admin\'s');
      const csv = await fetch(`${server.baseUrl}/v1/usage?format=csv`, { headers: { authorization: `Bearer ${bobKey}` } });
      assert.match(csv.headers.get('content-disposition')!, /usage-by-day/);
      assert.equal(parseCsv(await csv.text()).length, 2);
      assert.equal((await server.call('GET', '/v1/usage', { key: null })).status, 401);
    });
  });
}
