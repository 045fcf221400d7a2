import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Migrator } from 'kysely/migration';
import { migrateToLatest, openStore } from '../../src/store/db.ts';
import { migrationProvider } from '../../src/store/migrations/index.ts';
import { STORE_KINDS, tempPostgresDatabase } from '../helpers/store.ts';

describe('upgrading a 2/6 store to the ledger', () => {
  it('keeps top-ups and reserves the credits of tasks still running, so their settlement balances out', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-upgrade-'));
    const store = openStore({ data_dir: dir });
    const db = store.db as any;
    try {
      await new Migrator({ db, provider: migrationProvider }).migrateTo('0002_jobs');
      await db.insertInto('users').values({ id: 'u', name: 'u', user_group: 'default', webhook_secret: 'whsec_x', balance_micro: 100, created_at: 1 }).execute();
      await db.insertInto('api_keys').values({ id: 'k', user_id: 'u', key_hash: 'h', key_prefix: 'p', allowed_models: null, disabled_at: null, created_at: 1 }).execute();
      await db.insertInto('ledger_entries').values({ id: 'old', user_id: 'u', key_id: null, task_id: null, kind: 'topup', amount_micro: 100, created_at: 1 }).execute();
      for (const [id, status] of [['t-done', 'completed'], ['t-running', 'processing']]) {
        await db.insertInto('tasks').values({
          id, user_id: 'u', key_id: 'k', model: 'm', status, progress: 0, quality: '720p', seed: 1, params_json: '{}', callback_url: null,
          output_width: 1, output_height: 1, output_fps: 1, output_duration_ms: 1, video_duration: 1, billed_seconds: 1, billing_rule: 'per_second',
          credits_reserved_micro: 30, credits_charged_micro: null, user_group: 'default', estimated_time: 1, error_code: null, error_message: null,
          result_path: null, created_at: 2, updated_at: 2, finished_at: null,
        }).execute();
      }
      await migrateToLatest(store.db);
      const rows = await store.db.selectFrom('ledger_entries').select(['id', 'task_id', 'kind', 'amount_micro']).orderBy('id').execute();
      assert.deepEqual(rows, [{ id: 1, task_id: null, kind: 'topup', amount_micro: 100 }, { id: 2, task_id: 't-running', kind: 'reserve', amount_micro: 30 }]);
      const user = await store.db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
      const key = await store.db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual([user.balance_micro, user.used_micro, key.spent_micro, key.unfinished, key.allowance_micro], [70, 0, 30, 1, null]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('upgrading a 3/6 store to channels', () => {
  it('gives every job its task\'s model and the route phase, so unfinished tasks run on the configured channels', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-upgrade-'));
    const store = openStore({ data_dir: dir });
    const db = store.db as any;
    try {
      await new Migrator({ db, provider: migrationProvider }).migrateTo('0003_money_and_callbacks');
      await db.insertInto('users').values({ id: 'u', name: 'u', user_group: 'default', webhook_secret: 'whsec_x', balance_micro: 0, created_at: 1 }).execute();
      await db.insertInto('api_keys').values({ id: 'k', user_id: 'u', key_hash: 'h', key_prefix: 'p', allowed_models: null, disabled_at: null, created_at: 1 }).execute();
      await db.insertInto('tasks').values({
        id: 't1', user_id: 'u', key_id: 'k', model: 'wan2.7-video-edit', status: 'pending', progress: 0, quality: '720p', seed: 1, params_json: '{}', callback_url: null,
        output_width: 1, output_height: 1, output_fps: 1, output_duration_ms: 1, video_duration: 1, billed_seconds: 1, billing_rule: 'per_second',
        credits_reserved_micro: 0, credits_charged_micro: null, user_group: 'default', estimated_time: 1, error_code: null, error_message: null,
        result_path: null, created_at: 2, updated_at: 2, finished_at: null,
      }).execute();
      await db.insertInto('jobs').values({ task_id: 't1', state: 'queued', attempts: 0, max_attempts: 3, run_at: 2, lease_owner: null, lease_expires_at: null, last_error: null, created_at: 2, updated_at: 2 }).execute();
      await migrateToLatest(store.db);
      const job = await store.db.selectFrom('jobs').select(['model', 'phase', 'channel', 'tried_channels']).executeTakeFirstOrThrow();
      assert.deepEqual(job, { model: 'wan2.7-video-edit', phase: 'route', channel: null, tried_channels: '' });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const kind of STORE_KINDS) {
  describe(`upgrading an 11/14 store to reports and object storage (${kind})`, () => {
    it('gives old ledger rows their running balance, counts ended tasks in usage, and names inputs by object key', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-upgrade-'));
      const database = kind === 'postgres' ? await tempPostgresDatabase() : null;
      const store = openStore({ data_dir: dir, database_url: database?.url });
      const db = store.db as any;
      try {
        await new Migrator({ db, provider: migrationProvider }).migrateTo('0008_operator');
        await db.insertInto('users').values({ id: 'u', name: 'u', user_group: 'default', webhook_secret: 'whsec_x', balance_micro: 70, used_micro: 20, created_at: 1 }).execute();
        await db.insertInto('api_keys').values({ id: 'k', user_id: 'u', key_hash: 'h', key_prefix: 'p', allowed_models: null, disabled_at: null, created_at: 1 }).execute();
        await db.insertInto('tasks').values({
          id: 't-done', user_id: 'u', key_id: 'k', model: 'wan2.7-image-to-video', status: 'completed', progress: 100, quality: '720p', seed: 1, params_json: '{}', callback_url: null,
          output_width: 1, output_height: 1, output_fps: 1, output_duration_ms: 1, video_duration: 3, billed_seconds: 3, billing_rule: 'per_second',
          credits_reserved_micro: 30, credits_charged_micro: 20, user_group: 'default', estimated_time: 1, error_code: null, error_message: null,
          result_path: 'results/x.mp4', created_at: 1_700_000_000_000, updated_at: 1_700_000_042_000, finished_at: 1_700_000_042_000,
        }).execute();
        for (const [kind_, amount] of [['topup', 100], ['reserve', 30], ['charge', 20], ['release', 10]] as const) {
          await db.insertInto('ledger_entries').values({ user_id: 'u', key_id: 'k', task_id: kind_ === 'topup' ? null : 't-done', kind: kind_, amount_micro: amount, created_at: 1 }).execute();
        }
        await db.insertInto('task_inputs').values({
          task_id: 't-done', field: 'image_start', kind: 'image', url: 'https://example.invalid/a.png', path: `${dir}/inputs/t-done/image_start`, container: 'png', bytes: 1,
          width: 1, height: 1, duration_ms: null, fps: null, has_audio: 0,
        }).execute();
        await migrateToLatest(store.db);
        const ledger = await store.db.selectFrom('ledger_entries').select(['kind', 'balance_after_micro']).orderBy('id').execute();
        assert.deepEqual(ledger.map((row) => [row.kind, Number(row.balance_after_micro)]), [['topup', 100], ['reserve', 70], ['charge', 70], ['release', 80]]);
        const usage = await store.db.selectFrom('usage_daily').selectAll().execute();
        assert.deepEqual(usage.map((row) => [row.day, row.model, row.completed, Number(row.charged_micro), Number(row.released_micro), JSON.parse(row.durations_json)]),
          [['2023-11-14', 'wan2.7-image-to-video', 1, 20, 10, { 42: 1 }]]);
        const input = await store.db.selectFrom('task_inputs').select('path').executeTakeFirstOrThrow();
        assert.equal(input.path, 'inputs/t-done/image_start');
      } finally {
        await store.close();
        await database?.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
