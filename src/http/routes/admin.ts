import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createAdminKey, createUser, getUser, userIdByName, listAdminKeys, listUsers, topUpUser, updateAdminKey, updateUser } from '../../admin/accounts.ts';
import type { CallerCache } from '../../auth/caller-cache.ts';
import { ApiError } from '../../contract/errors.ts';
import { MODEL_IDS } from '../../contract/models/index.ts';
import type { Store } from '../../store/db.ts';
import type { LivePrices } from '../../billing/live-prices.ts';
import { listChannels, pauseChannel } from '../../admin/channels.ts';
import type { ChannelRouter } from '../../channels/router.ts';
import { BILLING_RULES } from '../../billing/price-book.ts';
import type { Clock } from '../../util/clock.ts';
import { addAuthHook, callerOf } from '../auth.ts';
import { listAudit } from '../../admin/audit.ts';
import { errorResponses } from '../openapi.ts';
import { TASK_STATUSES, taskViewSchema } from '../../contract/task-view.ts';
import { adminTaskDetail, allAdminTasks, allLedger, LEDGER_CSV_COLUMNS, listAdminTasks, listLedger, TASK_CSV_COLUMNS, taskCsvRow } from '../../admin/reports.ts';
import { csvStream } from '../../util/csv.ts';
import type { ResultFiles } from '../../media/results.ts';
import { USAGE_GROUPS } from '../../billing/usage.ts';
import { answerUsage, sendCsv, usageReportSchema, usageWindowQuery } from './usage.ts';

const name = z.string().min(1).max(100).regex(/^[A-Za-z0-9._@-]+$/, 'must be 1–100 letters, digits or . _ @ -');
const role = z.enum(['user', 'admin']);
const paging = { limit: z.coerce.number().int().min(1).max(200).default(50), before: z.string().max(200).optional() };
const credits = z.number().refine((n) => Number.isFinite(n) && n !== 0, 'must be a number other than 0');
const models = z.array(z.enum(MODEL_IDS as [string, ...string[]], { error: 'must name models of GET /v1/models' })).max(200);
const count = z.int().min(0).max(1_000_000);

const userSchema = z.object({
  name: z.string(), group: z.string(), role: z.string(), disabled: z.boolean(), balance: z.number(), used: z.number(), key_count: z.number(),
  file_quota: z.number().nullable(), file_quota_bytes: z.number().nullable(), created: z.number(),
}).meta({ id: 'AdminUser' });
const keySchema = z.object({
  id: z.string(), user: z.string(), name: z.string().nullable(), prefix: z.string(), credits: z.number().nullable().describe('What is left of the key\'s own allowance; null = it spends the user\'s balance'),
  unlimited: z.boolean(), models: z.array(z.string()).nullable(), rpm: z.number().nullable(), max_unfinished: z.number().nullable(), expires_at: z.number().nullable(),
  disabled: z.boolean(), created: z.number(), last_used: z.number().nullable(),
}).meta({ id: 'AdminKey' });
const auditSchema = z.object({
  id: z.string(), time: z.number(), actor: z.string().nullable(), key_id: z.string().nullable(), action: z.string(), target: z.string(), before: z.unknown(), after: z.unknown(),
}).meta({ id: 'AuditRow' });
const pageOf = <T extends z.ZodType>(item: T) => z.object({ object: z.literal('list'), data: z.array(item), has_more: z.boolean(), last_id: z.string().nullable() });
const ok = <T extends z.ZodType>(schema: T) => ({ 200: schema, ...errorResponses });

const tags = ['admin'];
const security = [{ bearerAuth: [] }];

/** /admin/v1 (CONTRACT §10.2): admin keys only — a user's key gets 403 admin_required. */
export const adminRoutes: FastifyPluginAsyncZod<{ store: Store; callers: CallerCache; clock: Clock; prices: LivePrices; router: ChannelRouter; results: ResultFiles }> = async (app, { store, callers, clock, prices, router, results }) => {
  addAuthHook(app, callers);
  app.addHook('preHandler', async (request) => {
    if (callerOf(request).role !== 'admin') throw new ApiError('admin_required', 'Authorization: this key is not an admin\'s; /admin/v1 needs an admin key (sk-adm-…)');
  });
  const actor = (request: Parameters<typeof callerOf>[0]) => callerOf(request);

  app.get('/users', { schema: { summary: 'List users', operationId: 'adminListUsers', tags, security, querystring: z.object(paging), response: ok(pageOf(userSchema)) } }, (request) =>
    listUsers(store.db, request.query));

  app.post('/users', {
    schema: {
      summary: 'Create a user', operationId: 'adminCreateUser', tags, security,
      body: z.strictObject({ name, group: name.optional(), role: role.optional(), credits: z.number().positive().optional() }), response: ok(userSchema),
    },
  }, (request) => createUser(store, actor(request), request.body, clock.now()));

  app.get('/users/:name', { schema: { summary: 'One user', operationId: 'adminGetUser', tags, security, params: z.object({ name: z.string() }), response: ok(userSchema) } }, (request) =>
    getUser(store.db, request.params.name));

  app.patch('/users/:name', {
    schema: {
      summary: 'Change a user (disabling one stops all its keys)', operationId: 'adminUpdateUser', tags, security, params: z.object({ name: z.string() }),
      body: z.strictObject({ group: name.optional(), role: role.optional(), disabled: z.boolean().optional(), file_quota: count.nullable().optional(), file_quota_bytes: z.int().min(0).nullable().optional() }),
      response: ok(userSchema),
    },
  }, (request) => updateUser(store, actor(request), request.params.name, request.body, clock.now()));

  app.post('/users/:name/topups', {
    schema: {
      summary: 'Add credits to a user (negative takes back, never below zero)', operationId: 'adminTopUp', tags, security, params: z.object({ name: z.string() }),
      body: z.strictObject({ credits, note: z.string().max(500).optional() }), response: ok(z.object({ user: z.string(), balance: z.number() })),
    },
  }, (request) => topUpUser(store, actor(request), request.params.name, request.body.credits, request.body.note, clock.now()));

  app.get('/keys', { schema: { summary: 'List keys', operationId: 'adminListKeys', tags, security, querystring: z.object({ ...paging, user: z.string().optional() }), response: ok(pageOf(keySchema)) } }, (request) =>
    listAdminKeys(store.db, request.query));

  app.post('/keys', {
    schema: {
      summary: 'Create a key (the secret is in this answer only)', operationId: 'adminCreateKey', tags, security,
      body: z.strictObject({
        user: name, name: z.string().max(100).optional(), credits: z.number().positive().optional(), unlimited: z.boolean().optional(), models: models.optional(),
        rpm: count.optional(), max_unfinished: count.optional(), expires_at: z.int().positive().optional(),
      }).refine((b) => !(b.unlimited && b.credits !== undefined), { error: 'credits and unlimited exclude each other', path: ['unlimited'] }),
      response: ok(keySchema.extend({ key: z.string().describe('The secret, shown in this answer only') })),
    },
  }, (request) => createAdminKey(store, actor(request), request.body, clock.now()));

  const keyChange = z.strictObject({
    disabled: z.boolean().optional(), name: z.string().max(100).optional(), credits: credits.optional(), models: models.nullable().optional(),
    rpm: count.nullable().optional(), max_unfinished: count.nullable().optional(), expires_at: z.int().positive().nullable().optional(),
  });
  app.patch('/keys/:id', {
    schema: { summary: 'Change a key', operationId: 'adminUpdateKey', tags, security, params: z.object({ id: z.string() }), body: keyChange, response: ok(keySchema) },
  }, (request) => updateAdminKey(store, actor(request), request.params.id, request.body, clock.now()));

  app.delete('/keys/:id', {
    schema: { summary: 'Disable a key', operationId: 'adminDisableKey', tags, security, params: z.object({ id: z.string() }), response: ok(keySchema) },
  }, (request) => updateAdminKey(store, actor(request), request.params.id, { disabled: true }, clock.now()));

  const priceSchema = z.object({ model: z.string(), rule: z.string(), version: z.number(), updated: z.number().nullable() }).catchall(z.unknown()).meta({ id: 'AdminPrice' });
  app.get('/prices', { schema: { summary: 'The live price book', operationId: 'adminListPrices', tags, security, response: ok(z.object({ object: z.literal('list'), data: z.array(priceSchema) })) } }, async () => ({
    object: 'list' as const, data: await prices.list(),
  }));

  app.put('/prices/:model', {
    schema: {
      summary: 'Set a model\'s price (tasks created after it use it, in every process within 2 s)', operationId: 'adminSetPrice', tags, security,
      params: z.object({ model: z.enum(MODEL_IDS as [string, ...string[]], { error: 'must be a model of GET /v1/models' }) }),
      body: z.object({ rule: z.enum(BILLING_RULES) }).catchall(z.number().min(0, 'must be 0 or more credits')),
      response: ok(priceSchema),
    },
  }, (request) => prices.set(store, actor(request), request.params.model, request.body, clock.now()));

  const channelSchema = z.object({
    name: z.string(), engine: z.string(), priority: z.number(), weight: z.number(), models: z.array(z.string()), paused: z.boolean(),
    health: z.object({ state: z.enum(['ok', 'resting', 'paused']), resting_until: z.number().nullable(), consecutive_failures: z.number() }),
    in_flight: z.number(), queued: z.number(), last_error: z.string().nullable(), p50_run_s: z.number().nullable(), settings: z.record(z.string(), z.unknown()),
  }).meta({ id: 'AdminChannel' });
  app.get('/channels', { schema: { summary: 'Channels with their health', operationId: 'adminListChannels', tags, security, response: ok(z.object({ object: z.literal('list'), data: z.array(channelSchema) })) } }, async () => ({
    object: 'list' as const, data: await listChannels(store.db, router, clock.now()),
  }));
  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    app.post(`/channels/:name/${verb}`, {
      schema: { summary: `${verb === 'pause' ? 'Pause' : 'Resume'} a channel in every process`, operationId: `admin${verb === 'pause' ? 'Pause' : 'Resume'}Channel`, tags, security, params: z.object({ name: z.string() }), response: ok(channelSchema) },
    }, (request) => pauseChannel(store, router, actor(request), request.params.name, paused, clock.now()));
  }

  app.get('/audit', { schema: { summary: 'Every admin action', operationId: 'adminAudit', tags, security, querystring: z.object(paging), response: ok(pageOf(auditSchema)) } }, (request) =>
    listAudit(store.db, request.query));

  const format = z.enum(['json', 'csv']).default('json').describe('csv: every match, streamed, with a header row');
  const window = { since: z.coerce.number().int().min(0).optional().describe('Unix seconds, included'), until: z.coerce.number().int().min(0).optional().describe('Unix seconds, excluded') };
  const adminTaskSchema = taskViewSchema.extend({
    user: z.string(), key_id: z.string(), channel: z.string(), attempts: z.number(), credits_charged: z.number().nullable(), credits_released: z.number().nullable(),
    queued_s: z.number().nullable(), run_s: z.number().nullable(),
    upstream_status: z.object({ job: z.string().nullable(), phase: z.string().nullable(), upstream_id: z.string().nullable(), last_error: z.string().nullable() }),
  }).meta({ id: 'AdminTask' });
  const taskFilters = z.object({
    ...paging, ...window, format, user: z.string().optional(), key: z.string().optional(), status: z.enum(TASK_STATUSES).optional(), channel: z.string().optional(),
    model: z.enum(MODEL_IDS as [string, ...string[]], { error: 'must be a model of GET /v1/models' }).optional(),
  });
  app.get('/tasks', {
    schema: { summary: 'Every user\'s tasks, filtered', operationId: 'adminListTasks', tags, security, querystring: taskFilters, response: ok(pageOf(adminTaskSchema)) },
  }, async (request, reply) => {
    const { format: as, limit, before, ...filters } = request.query;
    if (as === 'csv') return sendCsv(reply, 'tasks.csv', csvStream(TASK_CSV_COLUMNS, allAdminTasks(store.db, results, clock.now(), filters), taskCsvRow));
    return listAdminTasks(store.db, results, clock.now(), { ...filters, limit, before });
  });

  app.get('/tasks/:task_id', {
    schema: {
      summary: 'One task with its ledger rows, job and callback deliveries', operationId: 'adminGetTask', tags, security, params: z.object({ task_id: z.string() }),
      response: ok(adminTaskSchema.extend({ ledger: z.array(z.unknown()), job: z.unknown(), callbacks: z.array(z.unknown()) })),
    },
  }, (request) => adminTaskDetail(store.db, results, clock.now(), request.params.task_id));

  app.get('/ledger', {
    schema: {
      summary: 'Ledger rows, newest first', operationId: 'adminLedger', tags, security, querystring: z.object({ ...paging, ...window, format, user: z.string().optional() }),
      response: ok(pageOf(z.object({
        id: z.string(), time: z.number(), user: z.string(), key_id: z.string().nullable(), task_id: z.string().nullable(), kind: z.enum(['topup', 'reserve', 'charge', 'release', 'adjust', 'allowance']),
        credits: z.number(), balance_after: z.number().nullable(), note: z.string().nullable(),
      }).meta({ id: 'LedgerRow' }))),
    },
  }, async (request, reply) => {
    const { format: as, limit, before, ...filters } = request.query;
    if (as === 'csv') return sendCsv(reply, 'ledger.csv', csvStream(LEDGER_CSV_COLUMNS, allLedger(store.db, filters), (row) => LEDGER_CSV_COLUMNS.map((c) => row[c])));
    return listLedger(store.db, { ...filters, limit, before });
  });

  app.get('/usage', {
    schema: {
      summary: 'Usage per day, model, user or channel', operationId: 'adminUsage', tags, security,
      querystring: z.object({
        group_by: z.enum(USAGE_GROUPS).default('day'), ...usageWindowQuery, user: z.string().optional(),
        model: z.enum(MODEL_IDS as [string, ...string[]], { error: 'must be a model of GET /v1/models' }).optional(),
      }),
      response: ok(usageReportSchema),
    },
  }, async (request, reply) => {
    const { group_by: groupBy, user, model } = request.query;
    const userId = user === undefined ? undefined : await userIdByName(store.db, user, 'user');
    return answerUsage(store.db, reply, request.query, { groupBy, userId, model }, clock.now());
  });
};
