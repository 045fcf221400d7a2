import SQLite from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from '../src/app.ts';
import { loadSettings } from '../src/config.ts';
import { hashApiKey } from '../src/auth/secrets.ts';
const KEY = `sk-evo-bench${'0'.repeat(32)}`;
const dir = mkdtempSync(path.join(tmpdir(), 'm2-'));
const app2 = await createApp({ settings: loadSettings({ VIDGATE_DATA_DIR: dir, VIDGATE_LOG_LEVEL: 'warn', VIDGATE_BOOTSTRAP_KEY: KEY }) });
await app2.close();
const N = 30000;
const h = hashApiKey(KEY);
const q = 'select "api_keys"."id" as "key_id", "users"."id" as "user_id", "users"."user_group", "api_keys"."allowed_models" from "api_keys" inner join "users" on "users"."id" = "api_keys"."user_id" where "api_keys"."key_hash" = ? and "api_keys"."disabled_at" is null';
function time(label: string, db: SQLite.Database, sql: string, args: unknown[]) {
  const st = db.prepare(sql);
  let t = performance.now();
  for (let i = 0; i < N; i++) st.all(args);
  console.log(label, ((performance.now() - t) * 1000 / N).toFixed(2));
}
const db = new SQLite(path.join(dir, 'vidgate.sqlite'));
db.pragma('journal_mode = WAL');
time('join', db, q, [h]);
time('users pk', db, 'select * from users where id = ?', ['x']);
time('select 1', db, 'select 1', []);
time('keys by hash', db, 'select id from api_keys where key_hash = ?', [h]);
const mem = new SQLite(':memory:');
mem.exec('create table a (id text primary key, h text unique)'); 
time('mem keys', mem, 'select id from a where h = ?', [h]);
