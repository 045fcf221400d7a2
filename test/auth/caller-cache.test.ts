import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKey } from '../../src/auth/accounts.ts';
import { CallerCache } from '../../src/auth/caller-cache.ts';
import { hashApiKey, newApiKey } from '../../src/auth/secrets.ts';
import { useTempStore } from '../helpers/store.ts';

describe('caller cache', () => {
  const temp = useTempStore();

  it('stores only the hash of a key', async () => {
    const key = newApiKey();
    assert.match(key, /^sk-evo-[A-Za-z0-9]{40}$/);
    await createKey(temp.store.db, key, { user: 'hash-check' }, 1);
    const rows = await temp.store.db.selectFrom('api_keys').selectAll().execute();
    assert.ok(rows.every((r) => !JSON.stringify(r).includes(key.slice(7))));
    assert.ok(rows.some((r) => r.key_hash === hashApiKey(key)));
  });

  it('keeps a caller for the TTL; a disabled key stops working after it', async () => {
    let now = 1_000;
    const cache = new CallerCache(temp.store.db, 5_000, () => now);
    const key = newApiKey();
    await createKey(temp.store.db, key, { user: 'carol', group: 'vip', models: ['wan2.7-video-edit'] }, 1);
    const caller = await cache.find(key);
    assert.equal(caller?.userGroup, 'vip');
    assert.deepEqual([...(caller?.allowedModels ?? [])], ['wan2.7-video-edit']);
    await temp.store.db.updateTable('api_keys').set({ disabled_at: 2 }).where('key_hash', '=', hashApiKey(key)).execute();
    now += 4_999;
    assert.ok(await cache.find(key), 'still cached within the TTL');
    now += 2;
    assert.equal(await cache.find(key), null);
  });

  it('never caches unknown keys', async () => {
    const cache = new CallerCache(temp.store.db, 60_000);
    const key = newApiKey();
    assert.equal(await cache.find(key), null);
    await createKey(temp.store.db, key, { user: 'dave' }, 1);
    assert.ok(await cache.find(key));
  });
});
