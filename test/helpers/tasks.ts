import type { Store } from '../../src/store/db.ts';

/** A minimal user, key and pending task for store-level tests (no HTTP, no media). */
export async function seedTask(store: Store, taskId: string, now = 1_000): Promise<void> {
  const db = store.db;
  await db.insertInto('users').values({ id: 'u1', name: 'u1', user_group: 'default', webhook_secret: 'whsec_x', balance_micro: 0, used_micro: 0, created_at: now })
    .onConflict((c) => c.doNothing()).execute();
  await db.insertInto('api_keys').values({ id: 'k1', user_id: 'u1', key_hash: 'h', key_prefix: 'sk-evo-x', allowed_models: null, disabled_at: null, created_at: now,
    allowance_micro: null, spent_micro: 0, used_micro: 0, unlimited: 0, unfinished: 0, rpm: null, max_unfinished: null })
    .onConflict((c) => c.doNothing()).execute();
  await db.insertInto('tasks').values({
    id: taskId, user_id: 'u1', key_id: 'k1', model: 'wan2.7-text-to-video', status: 'pending', progress: 0, quality: '720p', seed: 1,
    params_json: '{}', callback_url: null, output_width: 1280, output_height: 720, output_fps: 30, output_duration_ms: 2000, video_duration: 2,
    billed_seconds: 2, billing_rule: 'per_second', credits_reserved_micro: 0, credits_charged_micro: null, user_group: 'default',
    estimated_time: 10, error_code: null, error_message: null, result_path: null, created_at: now, updated_at: now, finished_at: null,
    engine: 'local', started_at: null, swept_at: null, can_cancel: 1,
  }).execute();
}
