import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { Migrator } from 'kysely/migration';
import { BackgroundCheckpointer } from './checkpointer.ts';
import { GroupCommitter, type WriteWork } from './group-commit.ts';
import { migrationProvider } from './migrations/index.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

// Pages of WAL past which a commit checkpoints by itself: reached only when the background checkpoints fall behind.
const BACKSTOP_CHECKPOINT_PAGES = 10_000;
const CHECKPOINT_INTERVAL_MS = 100;

/** The embedded store's file in the data dir. */
export function sqliteFile(dataDir: string): string {
  return path.join(dataDir, 'vidgate.sqlite');
}

/** Opens the embedded SQLite store in the data dir (WAL, busy timeout). */
export function openSqlite(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true });
  const sqlite = new SQLite(sqliteFile(dataDir));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Checkpoints run in the background (BackgroundCheckpointer); this one, inside a commit, is the backstop.
  sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

const STATEMENT_CACHE_SIZE = 256;

/** Kysely prepares every query anew; preparing dominated request time, so reuse statements. */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        statement = sqlite.prepare(sql);
        cache.set(sql, statement);
      }
      return statement;
    },
  } as SqliteDatabase;
}

/** The store: queries through `db`; hot-path write transactions through `write`. */
export type Store = {
  db: Db;
  write<T>(work: WriteWork<T>): Promise<T>;
  /**
   * A hot query for one row, past Kysely. SQLite: on a read-only connection of its own — it sees
   * every committed write and never waits for the writer's open transaction (nor sees it).
   * PostgreSQL: a named statement, parsed and planned once on each pooled connection.
   */
  pointRead<Row>(sql: string): (parameters: readonly unknown[]) => Promise<Row | undefined>;
  close(): Promise<void>;
};

// Times and money are bigint columns; their values stay far below 2^53, so read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (text) => Number(text));

/** Opens a PostgreSQL store's database (VIDGATE_DATABASE_URL): Kysely on a pool. */
export function openPostgres(url: string): Db {
  return openPostgresPool(url).db;
}

function openPostgresPool(url: string): { db: Db; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection the server closed (restart, failover) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool };
}

/** Opens the store the settings name: PostgreSQL when VIDGATE_DATABASE_URL is set, else SQLite in the data dir. */
export function openStore(settings: { data_dir: string; database_url?: string }): Store {
  if (settings.database_url) {
    const { db, pool } = openPostgresPool(settings.database_url);
    const names = new Map<string, string>(); // a statement's name on every connection, by its text
    return {
      db,
      write: (work) => db.transaction().execute(work),
      pointRead: (sql) => {
        const name = names.get(sql) ?? `vidgate_point_read_${names.size + 1}`;
        names.set(sql, name);
        return async (parameters) => (await pool.query({ name, text: sql, values: parameters as unknown[] })).rows[0];
      },
      close: () => db.destroy(),
    };
  }
  const db = openSqlite(settings.data_dir);
  const committer = new GroupCommitter(db);
  const checkpointer = new BackgroundCheckpointer(sqliteFile(settings.data_dir), CHECKPOINT_INTERVAL_MS);
  const reads = new SqliteReadConnection(sqliteFile(settings.data_dir));
  return {
    db,
    write: (work) => committer.run(work),
    pointRead: (sql) => reads.pointRead(sql),
    close: async () => {
      reads.close(); // first: the writer's connection, closing after it, ends the WAL cleanly
      await db.destroy();
      await checkpointer.stop();
    },
  };
}

/**
 * Point reads beside the writer's connection: a get through Kysely paid its async path and
 * queued behind the writer's transaction (~15 µs a read). Opened, and each statement prepared,
 * at first use — after the migrations made the tables.
 */
class SqliteReadConnection {
  private readonly file: string;
  private sqlite: SQLite.Database | null = null;

  constructor(file: string) {
    this.file = file;
  }

  pointRead<Row>(sql: string): (parameters: readonly unknown[]) => Promise<Row | undefined> {
    let statement: SQLite.Statement | null = null;
    return async (parameters) => {
      statement ??= this.open().prepare(sql);
      return statement.get(...parameters) as Row | undefined;
    };
  }

  close(): void {
    this.sqlite?.close();
    this.sqlite = null;
  }

  private open(): SQLite.Database {
    if (!this.sqlite) {
      this.sqlite = new SQLite(this.file, { readonly: true });
      this.sqlite.pragma('busy_timeout = 5000');
    }
    return this.sqlite;
  }
}

/** Brings the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}
