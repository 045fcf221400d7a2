import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { type BootstrapOutcome, ensureBootstrapAdminKey, ensureBootstrapKey } from './auth/bootstrap.ts';
import { CallerCache } from './auth/caller-cache.ts';
import { LivePrices } from './billing/live-prices.ts';
import { PriceBook } from './billing/price-book.ts';
import type { Settings } from './config.ts';
import { buildChannels, closeChannels } from './channels/build.ts';
import { cancelUpstreamJob } from './channels/cancel.ts';
import { sharedQueryTurns } from './channels/health.ts';
import { UpstreamPoller } from './channels/poller.ts';
import { ChannelRouter } from './channels/router.ts';
import { Unparker } from './channels/unparker.ts';
import { UpstreamWebhooks } from './channels/webhooks.ts';
import { buildHttpServer, closeHttpServer } from './http/server.ts';
import { FileService } from './files/service.ts';
import { UploadedFiles } from './files/storage.ts';
import { ResultFiles } from './media/results.ts';
import { type ObjectStore, openObjectStore } from './storage/index.ts';
import { Metrics } from './observability/metrics.ts';
import { registerStoreGauges } from './observability/store-gauges.ts';
import { Sweeper } from './media/sweeper.ts';
import { AddressPolicy } from './net/address-policy.ts';
import { OutboundGuard } from './net/outbound-guard.ts';
import { boundedResolver, type HostResolver } from './net/resolver.ts';
import { type Db, migrateToLatest, openStore, type Store } from './store/db.ts';
import { openSignalBus } from './store/signals.ts';
import { databaseClock } from './store/db-clock.ts';
import { serverSecret } from './store/server-secrets.ts';
import { InputUrls } from './channels/input-urls.ts';
import { isPostgres } from './store/dialect.ts';
import { Worker } from './queue/worker.ts';
import { CallbackDeliverer } from './callbacks/deliverer.ts';
import { CallbackService } from './callbacks/service.ts';
import type { TaskHooks } from './tasks/hooks.ts';
import { TaskEvents } from './tasks/events.ts';
import { TaskRunner } from './tasks/runner.ts';
import { TaskSettlement } from './tasks/settlement.ts';
import { TaskService } from './tasks/service.ts';
import { type Clock, systemClock } from './util/clock.ts';
import { Slots } from './util/slots.ts';
import { VERSION } from './version.ts';
import { MODELS } from './contract/models/index.ts';

export type AppOptions = {
  settings: Settings;
  /** Tests answer host names without DNS. */
  resolver?: HostResolver;
  /** Tests may refuse every address outright. */
  addressPolicy?: AddressPolicy;
  clock?: Clock;
  logger?: Logger;
  /** Run a worker (and the file sweeper) in this process, as `serve` does by default. */
  worker?: boolean;
  /** The object storage, instead of the one the settings name (tests). */
  objects?: ObjectStore;
  /** Task event streams' heartbeat and catch-up read periods; defaults 15 s and 1 s (tests change them). */
  taskEvents?: { heartbeatMs?: number; catchUpMs?: number };
};

export type App = {
  settings: Settings;
  store: Store;
  db: Db;
  http: FastifyInstance;
  tasks: TaskService;
  guard: OutboundGuard;
  worker: Worker | null;
  logger: Logger;
  bootstrap: BootstrapOutcome;
  /** The live price book of this process. */
  prices: LivePrices;
  /** How tasks end (tests end tasks through it as a worker does). */
  settlement: TaskSettlement;
  /** Set when the config file's prices no longer apply (the store's book has others): serve warns. */
  pricesIgnored?: string;
  close(): Promise<void>;
};

/** The composition root: store (migrated), guard, services, the HTTP server and, if asked, a worker. */
export async function createApp(options: AppOptions): Promise<App> {
  const { settings } = options;
  const store = openStore(settings);
  const { db } = store;
  await migrateToLatest(db);
  const dbClock = !options.clock && isPostgres(db) ? await databaseClock(db) : null;
  const clock = options.clock ?? dbClock ?? systemClock;
  const bootstrap = await ensureBootstrapKey(db, settings, clock.now());
  await ensureBootstrapAdminKey(db, settings, clock.now());
  const policy = options.addressPolicy ?? new AddressPolicy(settings.outbound_allow);
  const logger = options.logger ?? pino({ level: settings.log_level, redact: ['req.headers.authorization'] });
  const resolver = options.resolver ?? boundedResolver({ timeoutMs: settings.dns_timeout, maxConcurrent: settings.dns_concurrency });
  const guard = new OutboundGuard(policy, resolver, { logger });
  const objects = options.objects ?? openObjectStore(settings.storage);
  await objects.check(); // a missing bucket or refused credentials stop the start, saying which setting
  const results = new ResultFiles(objects, { publicUrl: settings.public_url, mode: settings.result_urls, ttlMs: settings.result_ttl });
  const inputUrls = new InputUrls(await serverSecret(db, 'input_urls'), settings.public_url);
  const uploads = new UploadedFiles(objects, settings.result_urls);
  const files = new FileService({
    store, clock, files: uploads, guard, publicUrl: settings.public_url, ttlMs: settings.file_ttl, maxBytes: settings.file_max_bytes,
    defaultQuota: settings.file_quota, defaultQuotaBytes: settings.file_quota_bytes, base64MaxBytes: settings.file_base64_max_bytes, fetchDeadlineMs: settings.media_deadline,
  });
  const mediaCaps = { memoryBytes: settings.media_memory, niceness: settings.media_niceness };
  const channels = buildChannels(settings.channels, { ffmpegPath: settings.ffmpeg_path, mediaCaps, guard, queryTurns: (name) => sharedQueryTurns(store, name) });
  const router = new ChannelRouter(channels, store, clock);
  const metrics = new Metrics((name) => channels.some((c) => c.name === name && c.upstream !== null));
  registerStoreGauges(metrics.registry, db, clock);
  let worker: Worker | null = null;
  let deliverer: CallbackDeliverer | null = null;
  let unparker: Unparker | null = null;
  let poller: UpstreamPoller | null = null;
  // Every wake-up goes through the bus, so on PostgreSQL the loops of other processes hear it too.
  const signals = openSignalBus(settings, db, logger);
  signals.subscribe((signal) => {
    if (signal.kind === 'job_due') worker?.notify();
    else if (signal.kind === 'task_cancelled') {
      worker?.cancel(signal.taskId);
      unparker?.notify();
    } else if (signal.kind === 'callback_due') deliverer?.notify();
    else if (signal.kind === 'poll_channel') poller?.notify(signal.channel);
    else if (signal.kind === 'capacity_freed') unparker?.notify();
  });
  const hooks: TaskHooks = {
    jobQueued: () => signals.publish({ kind: 'job_due' }),
    taskCancelled: (taskId) => {
      signals.publish({ kind: 'task_cancelled', taskId });
      void cancelUpstreamJob(db, router, taskId, logger);
    },
    taskEnded: () => signals.publish({ kind: 'callback_due' }),
    taskChanged: (taskId, userId) => signals.publish({ kind: 'task_changed', taskId, userId }),
  };
  const settlement = new TaskSettlement(results, (row) => metrics.taskEnded(row));
  const prices = new PriceBook();
  // The live price book: the config's prices seed an empty store; changes reach every process within 2 s.
  const livePrices = new LivePrices(prices, db);
  const pricesIgnored = await livePrices.open(store, settings.prices, clock.now());
  livePrices.watch(2000);
  const tasks = new TaskService({
    store,
    clock,
    prices,
    results,
    settlement,
    resultTtlMs: settings.result_ttl,
    router,
    maxAttempts: settings.job_attempts,
    maxUnfinishedTasks: settings.max_unfinished_tasks,
    hooks,
    ingest: {
      guard, ffprobePath: settings.ffprobe_path, objects, deadlineMs: settings.media_deadline, ownFiles: files, caps: mediaCaps,
      slots: new Slots(settings.ingest_concurrency),
    },
  });
  // A heartbeat well inside the idle timeout, or quiet streams would be cut.
  const events = new TaskEvents({ db, results, clock, signals, logger, heartbeatMs: Math.min(15_000, settings.idle_timeout / 2), ...options.taskEvents });
  metrics.countEventStreams(() => events.size);
  const logRequests = settings.log_level === 'debug' || settings.log_level === 'trace';
  const callers = new CallerCache(db, settings.auth_cache_ttl, clock.now);
  const callbacks = new CallbackService({ store, clock, tasks, onResent: () => signals.publish({ kind: 'callback_due' }) });
  const webhooks = new UpstreamWebhooks({ store, clock, router, logger, pollNow: (channel) => signals.publish({ kind: 'poll_channel', channel }) });
  // /v1/models lists only what some channel serves: a model nothing serves would only answer 503.
  const servedModels = new Set(Object.keys(MODELS).filter((id) => router.candidates(id).length > 0));
  const http = await buildHttpServer({
    callers, tasks, events, callbacks, webhooks, files, store, livePrices, router, objects, fileMaxBytes: settings.file_max_bytes, base64MaxBytes: settings.file_base64_max_bytes, metrics, metricsToken: settings.metrics_token, db, servedModels, prices, defaultRpm: settings.rate_limit_rpm, results, bodyLimit: settings.max_body_bytes, version: VERSION, logger, logRequests,
    timeouts: { headersMs: settings.headers_timeout, idleMs: settings.idle_timeout }, inputs: { urls: inputUrls, mode: settings.result_urls, clock },
  });
  let sweeper: Sweeper | null = null;
  if (options.worker) {
    const runner = new TaskRunner({
      store, clock, results, settlement, hooks, objects, router, workDir: path.join(settings.data_dir, 'work'), ffprobePath: settings.ffprobe_path, mediaCaps, logger, inputUrls,
      resultLimits: { maxBytes: settings.result_max_bytes, timeoutMs: settings.result_download_timeout },
      onAccepted: (channel) => poller?.notify(channel), // this process's poller follows what it submitted first
    });
    worker = new Worker({
      store, clock, handler: runner, logger, concurrency: settings.worker_concurrency, leaseMs: settings.job_lease,
      pollMs: settings.worker_poll, backoff: { baseMs: settings.retry_base, maxMs: settings.retry_max },
    });
    deliverer = new CallbackDeliverer({
      store, clock, guard, logger, concurrency: settings.callback_concurrency, pollMs: settings.worker_poll,
      timeoutMs: settings.callback_timeout, retryDelaysMs: settings.callback_retries, onAttempt: (outcome) => metrics.callbackAttempted(outcome),
    });
    sweeper = new Sweeper({
      store, clock, results, uploads, objects, resultTtlMs: settings.result_ttl, orphanAgeMs: 2 * settings.job_lease, intervalMs: settings.sweep_interval, logger,
    });
    const jobDue = () => signals.publish({ kind: 'job_due' });
    unparker = new Unparker({ store, clock, router, logger, onWoken: jobDue });
    poller = new UpstreamPoller({
      store, clock, router, settlement, logger, objects, scratchDir: path.join(settings.data_dir, 'work'), jobReady: jobDue, capacityFreed: () => signals.publish({ kind: 'capacity_freed' }),
      taskChanged: (taskId) => hooks.taskChanged?.(taskId),
      taskEnded: async (taskId) => {
        hooks.taskEnded?.();
        await runner.dropFiles(taskId);
      },
    });
    worker.start();
    deliverer.start();
    sweeper.start();
    unparker.start();
    poller.start();
  }
  return {
    settings,
    store,
    db,
    http,
    tasks,
    guard,
    worker,
    logger,
    bootstrap,
    prices: livePrices,
    settlement,
    pricesIgnored,
    async close() {
      events.stop(); // open streams would hold the HTTP server's close
      await closeHttpServer(http, settings.shutdown_grace);
      await poller?.stop();
      await unparker?.stop();
      await worker?.stop(settings.shutdown_grace);
      await deliverer?.stop();
      await closeChannels(channels);
      livePrices.stop();
      await sweeper?.stop();
      await signals.close();
      await guard.close();
      dbClock?.close();
      await store.close();
    },
  };
}
