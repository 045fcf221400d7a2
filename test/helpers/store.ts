import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { migrateToLatest, openStore, type Store } from '../../src/store/db.ts';

export type StoreKind = 'sqlite' | 'postgres';

/** The stores the suite runs on: SQLite always, PostgreSQL when bin/test started one (VIDGATE_TEST_DATABASE_URL). */
export const STORE_KINDS: StoreKind[] = process.env.VIDGATE_TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/** A new empty PostgreSQL database on the test server; returns its URL and a function that drops it. */
export async function tempPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.VIDGATE_TEST_DATABASE_URL;
  if (!admin) throw new Error('VIDGATE_TEST_DATABASE_URL is not set (bin/test sets it)');
  const name = `vidgate_test_${randomBytes(6).toString('hex')}`;
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => run(`drop database if exists ${name} with (force)`) };
}

/** A migrated store of `kind` for the enclosing suite (temp dir; a temp database on PostgreSQL); read `.store` inside tests. */
export function useTempStore(kind: StoreKind = 'sqlite'): { store: Store; dir: string } {
  const handle = {} as { store: Store; dir: string; drop?: () => Promise<void> };
  before(async () => {
    handle.dir = mkdtempSync(path.join(tmpdir(), 'vidgate-store-'));
    let database_url: string | undefined;
    if (kind === 'postgres') ({ url: database_url, drop: handle.drop } = await tempPostgresDatabase());
    handle.store = openStore({ data_dir: handle.dir, database_url });
    await migrateToLatest(handle.store.db);
  });
  after(async () => {
    await handle.store.close();
    await handle.drop?.();
    rmSync(handle.dir, { recursive: true, force: true });
  });
  return handle;
}

/** The same suite once per store kind, each with its own migrated store. */
export function describeOnEachStore(name: string, suite: (handle: { store: Store; dir: string }, kind: StoreKind) => void): void {
  for (const kind of STORE_KINDS) describe(`${name} (${kind})`, () => suite(useTempStore(kind), kind));
}
