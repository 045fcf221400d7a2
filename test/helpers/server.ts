import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AddressInfo, createServer } from 'node:net';
import { createApp, type App, type AppOptions } from '../../src/app.ts';
import { createKey, type NewKey } from '../../src/auth/accounts.ts';
import { newApiKey } from '../../src/auth/secrets.ts';
import { loadSettings } from '../../src/config.ts';
import { tableResolver } from './resolver.ts';
import { type StoreKind, tempPostgresDatabase } from './store.ts';

/** App options, and the store to run on: SQLite in the data dir (default), or a new temporary PostgreSQL database. */
export type TestServerOptions = Partial<AppOptions> & { store?: StoreKind };

export type TestServer = {
  app: App;
  baseUrl: string;
  dataDir: string;
  /** A key of user "alice" with a million credits. */
  key: string;
  /** Alice's webhook signing secret. */
  webhookSecret: string;
  newKey(spec: NewKey): Promise<string>;
  /** A new key and its user's webhook secret. */
  newKeyWithSecret(spec: NewKey): Promise<{ key: string; webhookSecret: string }>;
  call(method: string, path: string, options?: { body?: unknown; key?: string | null; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
};

/**
 * A real vidgate on a random loopback port with a temp data dir (or VIDGATE_DATA_DIR from `env`,
 * which it then leaves in place). `env` holds VIDGATE_* settings; host names resolve from a table (no DNS).
 */
export async function startTestServer(env: Record<string, string> = {}, { store = 'sqlite', ...options }: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = !env.VIDGATE_DATA_DIR;
  const dataDir = env.VIDGATE_DATA_DIR ?? mkdtempSync(path.join(tmpdir(), 'vidgate-test-'));
  const database = store === 'postgres' ? await tempPostgresDatabase() : null;
  // A known port, so result URLs (built from the public URL) point at this server.
  const port = env.VIDGATE_PORT ? Number(env.VIDGATE_PORT) : await freePort();
  const settings = loadSettings({
    VIDGATE_DATA_DIR: dataDir, VIDGATE_LOG_LEVEL: 'silent', ...(database ? { VIDGATE_DATABASE_URL: database.url } : {}),
    ...(process.env.VIDGATE_MEDIA_NICENESS ? { VIDGATE_MEDIA_NICENESS: process.env.VIDGATE_MEDIA_NICENESS } : {}), ...env, VIDGATE_PORT: String(port),
  });
  const app = await createApp({ settings, resolver: tableResolver(), ...options });
  await app.http.listen({ port, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${port}`;
  const newKeyWithSecret = async (spec: NewKey) => {
    const key = newApiKey();
    const { webhookSecret } = await createKey(app.db, key, spec, Date.now());
    return { key, webhookSecret };
  };
  const newKey = async (spec: NewKey) => (await newKeyWithSecret(spec)).key;
  const alice = await newKeyWithSecret({ user: 'alice', userCredits: 1_000_000 * 1_000_000 });
  return {
    app,
    baseUrl,
    dataDir,
    key: alice.key,
    webhookSecret: alice.webhookSecret,
    newKey,
    newKeyWithSecret,
    async call(method, urlPath, { body, key: callKey = alice.key, headers = {} } = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (callKey) (init.headers as Record<string, string>).authorization = `Bearer ${callKey}`;
      if (body !== undefined) {
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const response = await fetch(baseUrl + urlPath, init);
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async close() {
      await app.close();
      await database?.drop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
