import type { Settings } from '../config.ts';
import { StorageUnavailable } from '../storage/index.ts';
import { migrateToLatest, openStore, type Store } from '../store/db.ts';

type SystemError = Error & { code?: string; path?: string };

/** What start-up was doing: opening the store (database, data folders) or listening for HTTP. */
export type StartupStage = 'store' | 'listen';

/**
 * One line for a failure at start-up that a setting causes, naming the setting and what to do;
 * null for anything else (a bug, which keeps its stack trace).
 */
export function describeStartupFailure(error: unknown, settings: Settings, stage: StartupStage): string | null {
  if (error instanceof StorageUnavailable) return error.message; // it names the setting already
  const e = withCode(error);
  if (!e) return null;
  return stage === 'listen' ? listenFailure(e, settings) : storeFailure(e, settings);
}

/** The error, or the first of its causes, that carries a system or PostgreSQL code (the migrator wraps them). */
function withCode(error: unknown): SystemError | null {
  for (let e = error as SystemError | undefined, depth = 0; e && depth < 5; e = e.cause as SystemError | undefined, depth += 1) {
    if (typeof e.code === 'string') return e;
  }
  return null;
}

function listenFailure(e: SystemError, settings: Settings): string | null {
  const where = `${settings.host}:${settings.port}`;
  if (e.code === 'EADDRINUSE') return `VIDGATE_PORT: ${where} is in use by another program; stop it, or set VIDGATE_PORT to a free port`;
  if (e.code === 'EACCES') return `VIDGATE_PORT: port ${settings.port} needs root; set VIDGATE_PORT to 1024 or above`;
  if (e.code === 'EADDRNOTAVAIL') return `VIDGATE_HOST: ${settings.host} is not an address of this machine; use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`;
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `VIDGATE_HOST: "${settings.host}" does not resolve; use an address of this machine, such as 127.0.0.1 or 0.0.0.0`;
  return null;
}

function storeFailure(e: SystemError, settings: Settings): string | null {
  if (settings.database_url && DATABASE_CODES.has(e.code!)) {
    return `VIDGATE_DATABASE_URL: cannot use the PostgreSQL database at ${redactedUrl(settings.database_url)}: ${databaseReason(e)}`;
  }
  if (e.path && WRITE_CODES.has(e.code!)) {
    const setting = e.path.startsWith(settings.storage_dir) && settings.storage_dir !== settings.data_dir ? 'VIDGATE_STORAGE_DIR' : 'VIDGATE_DATA_DIR';
    return `${setting}: cannot write ${e.path} (${e.code}); point ${setting} at a folder vidgate may write`;
  }
  return null;
}

const WRITE_CODES = new Set(['EACCES', 'EROFS', 'ENOSPC', 'ENOTDIR', 'EPERM', 'EEXIST']);

// Connection errors, and PostgreSQL's own codes for a bad login, a missing database or no permission.
const DATABASE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', '28P01', '28000', '3D000', '42501']);

function databaseReason(e: SystemError): string {
  if (e.code === 'ECONNREFUSED') return 'nothing listens there; is PostgreSQL running?';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'the host does not resolve';
  if (e.code === '28P01' || e.code === '28000') return 'the login was refused; check the user and password';
  if (e.code === '3D000') return 'the database does not exist; create it first (createdb)';
  if (e.code === '42501') return 'the user may not create tables there';
  return `${e.code}: ${e.message}`;
}

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return '(unparseable URL)';
  }
}

/** Runs a step of start-up: a failure a setting causes prints one line and exits 2; anything else is thrown. */
export async function startOrExit<T>(settings: Settings, stage: StartupStage, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const line = describeStartupFailure(error, settings, stage);
    if (line === null) throw error;
    process.stderr.write(`vidgate: ${line}\n`);
    process.exit(2);
  }
}

/** The store, brought up to date, for a command that works on it; a setting that stops that exits as startOrExit says. */
export async function openMigratedStore(settings: Settings): Promise<{ store: Store; applied: string[] }> {
  const store = await startOrExit(settings, 'store', async () => openStore(settings));
  return { store, applied: await startOrExit(settings, 'store', () => migrateToLatest(store.db)) };
}
