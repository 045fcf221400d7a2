import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { type BootstrapOutcome, ensureBootstrapKey } from './auth/bootstrap.ts';
import { CallerCache } from './auth/caller-cache.ts';
import { PriceBook } from './billing/price-book.ts';
import type { Settings } from './config.ts';
import { buildHttpServer } from './http/server.ts';
import { AddressPolicy } from './net/address-policy.ts';
import { type HostResolver, OutboundGuard, systemResolver } from './net/outbound-guard.ts';
import { type Db, migrateToLatest, openStore, type Store } from './store/db.ts';
import { TaskService } from './tasks/service.ts';
import { type Clock, systemClock } from './util/clock.ts';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export type AppOptions = {
  settings: Settings;
  /** Tests answer host names without DNS. */
  resolver?: HostResolver;
  /** Tests may refuse every address outright. */
  addressPolicy?: AddressPolicy;
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
};

export type App = {
  settings: Settings;
  store: Store;
  db: Db;
  http: FastifyInstance;
  tasks: TaskService;
  guard: OutboundGuard;
  bootstrap: BootstrapOutcome;
  close(): Promise<void>;
};

/** The composition root: store (migrated), guard, services and the HTTP server. */
export async function createApp(options: AppOptions): Promise<App> {
  const { settings } = options;
  const clock = options.clock ?? systemClock;
  const store = openStore(settings);
  const { db } = store;
  await migrateToLatest(db);
  const bootstrap = await ensureBootstrapKey(db, settings, clock.now());
  const policy = options.addressPolicy ?? new AddressPolicy(settings.outbound_allow);
  const guard = new OutboundGuard(policy, options.resolver ?? systemResolver);
  const tasks = new TaskService({
    store,
    clock,
    prices: new PriceBook(settings.prices),
    publicUrl: settings.public_url,
    ingest: {
      guard,
      ffprobePath: settings.ffprobe_path,
      inputsDir: path.join(settings.data_dir, 'inputs'),
      deadlineMs: settings.media_deadline,
    },
  });
  const logger = options.logger ?? { level: settings.log_level, redact: ['req.headers.authorization'] };
  const logRequests = settings.log_level === 'debug' || settings.log_level === 'trace';
  const callers = new CallerCache(db, settings.auth_cache_ttl, clock.now);
  const http = await buildHttpServer({ callers, tasks, bodyLimit: settings.max_body_bytes, version: VERSION, logger, logRequests });
  return {
    settings,
    store,
    db,
    http,
    tasks,
    guard,
    bootstrap,
    async close() {
      await http.close();
      await guard.close();
      await store.close();
    },
  };
}
