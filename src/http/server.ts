import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { CallerCache } from '../auth/caller-cache.ts';
import type { CallbackService } from '../callbacks/service.ts';
import type { Db, Store } from '../store/db.ts';
import type { LivePrices } from '../billing/live-prices.ts';
import type { ChannelRouter } from '../channels/router.ts';
import type { TaskService } from '../tasks/service.ts';
import { addAuthHook } from './auth.ts';
import { errorHandler, notFoundHandler } from './error-handler.ts';
import { useSafeJsonParser } from './json-body.ts';
import type { FileService } from '../files/service.ts';
import { registerOpenApi } from './openapi.ts';
import { mcpRoutes } from '../mcp/server.ts';
import { callbacksRoutes } from './routes/callbacks.ts';
import { adminRoutes } from './routes/admin.ts';
import { ownKeysRoutes } from './routes/own-keys.ts';
import { usageRoutes } from './routes/usage.ts';
import { consoleRoutes } from './routes/console.ts';
import { creditsRoutes } from './routes/credits.ts';
import { fileDownloadsRoutes } from './routes/file-downloads.ts';
import { filesRoutes } from './routes/files.ts';
import { healthRoutes } from './routes/health.ts';
import type { PriceBook } from '../billing/price-book.ts';
import type { Metrics } from '../observability/metrics.ts';
import { generationsRoutes } from './routes/generations.ts';
import { modelsRoutes } from './routes/models.ts';
import { resultsRoutes } from './routes/results.ts';
import { tasksRoutes } from './routes/tasks.ts';
import { webhooksRoutes } from './routes/webhooks.ts';
import { inputsRoutes } from './routes/inputs.ts';
import type { InputUrls } from '../channels/input-urls.ts';
import type { Clock } from '../util/clock.ts';
import type { UpstreamWebhooks } from '../channels/webhooks.ts';
import type { ResultFiles } from '../media/results.ts';
import type { ObjectStore } from '../storage/index.ts';
import type { TaskEvents } from '../tasks/events.ts';
import type { ObjectUrlMode } from '../storage/serve.ts';

export type HttpDeps = {
  callers: CallerCache;
  tasks: TaskService;
  /** Open task event streams (CONTRACT §11.1). */
  events: TaskEvents;
  callbacks: CallbackService;
  webhooks: UpstreamWebhooks;
  files: FileService;
  /** The largest upload taken. */
  fileMaxBytes: number;
  base64MaxBytes: number;
  metrics: Metrics;
  /** When set, /metrics wants it as a Bearer token. */
  metricsToken?: string;
  db: Db;
  /** Write transactions for the admin API. */
  store: Store;
  /** The live price book the admin API reads and changes. */
  livePrices: LivePrices;
  /** The channels, for the admin API's health and pause/resume. */
  router: ChannelRouter;
  /** The models some channel serves: the only ones /v1/models lists. */
  servedModels: ReadonlySet<string>;
  prices: PriceBook;
  /** Task creations a minute per key, unless the key has its own; 0 = no limit. */
  defaultRpm: number;
  /** Where inputs, results and uploads live (CONTRACT §12); /readyz checks it. */
  objects: ObjectStore;
  /** Finished videos' public URLs (the admin task browser shows them). */
  results: ResultFiles;
  bodyLimit: number;
  /** Slow clients (CONTRACT §8.5): all headers within `headersMs`; no byte either way for `idleMs` cuts the connection. */
  timeouts: { headersMs: number; idleMs: number };
  /** Stored task inputs served at signed URLs (CONTRACT §8.3). */
  inputs: { urls: InputUrls; mode: ObjectUrlMode; clock: Clock };
  version: string;
  logger: FastifyBaseLogger;
  /** One log line per request; off unless debugging, as it costs throughput. */
  logRequests: boolean;
};

/** The Fastify app: OpenAPI, the EvoLink error body for every error, and the /v1 routes. */
export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimit,
    connectionTimeout: deps.timeouts.idleMs,
    routerOptions: { maxParamLength: 512 }, // signed input tokens are ~150 characters
    // Node checks the headers deadline on this interval (30 s by default, which would triple it).
    http: { headersTimeout: deps.timeouts.headersMs, connectionsCheckingInterval: Math.min(1000, deps.timeouts.headersMs) },
    logController: new LogController({ disableRequestLogging: !deps.logRequests }),
  });
  useSafeJsonParser(app);
  app.decorateRequest('caller', null);
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the API; answers are serialized as they are.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onResponse', (request, reply, done) => {
    deps.metrics.requestAnswered(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  await registerOpenApi(app, deps.version);
  await app.register(healthRoutes, { db: deps.db, objects: deps.objects, metrics: deps.metrics, metricsToken: deps.metricsToken });
  await app.register(resultsRoutes, { tasks: deps.tasks });
  await app.register(consoleRoutes);
  await app.register(fileDownloadsRoutes, { files: deps.files });
  await app.register(webhooksRoutes, { prefix: '/v1', webhooks: deps.webhooks });
  await app.register(inputsRoutes, { prefix: '/v1', inputUrls: deps.inputs.urls, db: deps.db, clock: deps.inputs.clock, objects: deps.objects, mode: deps.inputs.mode });
  await app.register(
    async (api) => {
      addAuthHook(api, deps.callers);
      await api.register(filesRoutes, { files: deps.files, maxBytes: deps.fileMaxBytes, base64MaxBytes: deps.base64MaxBytes });
    },
    { prefix: '/api/v1' },
  );
  await app.register(
    async (v1) => {
      addAuthHook(v1, deps.callers);
      await v1.register(generationsRoutes, { tasks: deps.tasks, defaultRpm: deps.defaultRpm });
      await v1.register(tasksRoutes, { tasks: deps.tasks, events: deps.events });
      await v1.register(callbacksRoutes, { callbacks: deps.callbacks });
      await v1.register(creditsRoutes, { db: deps.db });
      await v1.register(modelsRoutes, { served: deps.servedModels, prices: deps.prices });
      await v1.register(ownKeysRoutes, { store: deps.store, clock: deps.inputs.clock });
      await v1.register(usageRoutes, { db: deps.db, clock: deps.inputs.clock });
    },
    { prefix: '/v1' },
  );
  await app.register(async (mcp) => {
    addAuthHook(mcp, deps.callers);
    await mcp.register(mcpRoutes, { tasks: deps.tasks, events: deps.events, files: deps.files, served: deps.servedModels, prices: deps.prices, version: deps.version });
  });
  await app.register(adminRoutes, { prefix: '/admin/v1', store: deps.store, callers: deps.callers, clock: deps.inputs.clock, prices: deps.livePrices, router: deps.router, results: deps.results });
  return app;
}

/** Stops accepting and waits for answers in progress; after `graceMs` cuts the ones still going (a stalled download must not hold a shutdown). */
export async function closeHttpServer(app: FastifyInstance, graceMs: number): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}
