import type { Kysely } from 'kysely';
import { microToCredits } from '../billing/money.ts';
import { ApiError } from '../contract/errors.ts';
import { isTerminal, type TaskView, toTaskView } from '../contract/task-view.ts';
import type { ResultFiles } from '../media/results.ts';
import type { Database, LedgerEntriesTable } from '../store/schema.ts';
import { type TaskRow, viewSource } from '../tasks/task-store.ts';
import { olderThan, type Page, type Paging, toPage } from './paging.ts';

type Q = Kysely<Database>;

const seconds = (ms: number | string | null) => (ms === null ? null : Math.floor(Number(ms) / 1000));

/** The task browser's filters (CONTRACT §10.2); times in unix seconds. */
export type TaskFilters = { user?: string; key?: string; model?: string; status?: string; channel?: string; since?: number; until?: number };

/** An admin task row: the §3 task object plus who made it, where it ran and what it moved. */
export type AdminTask = TaskView & {
  user: string; key_id: string; channel: string; attempts: number; credits_charged: number | null; credits_released: number | null;
  queued_s: number | null; run_s: number | null; upstream_status: { job: string | null; phase: string | null; upstream_id: string | null; last_error: string | null };
};

function taskQuery(q: Q, filters: TaskFilters) {
  let query = q.selectFrom('tasks').innerJoin('users', 'users.id', 'tasks.user_id').leftJoin('jobs', 'jobs.task_id', 'tasks.id')
    .selectAll('tasks')
    .select(['users.name as user_name', 'jobs.attempts', 'jobs.state as job_state', 'jobs.phase as job_phase', 'jobs.upstream_id', 'jobs.last_error']);
  if (filters.user !== undefined) query = query.where('users.name', '=', filters.user);
  if (filters.key !== undefined) query = query.where('tasks.key_id', '=', filters.key);
  if (filters.model !== undefined) query = query.where('tasks.model', '=', filters.model);
  if (filters.status !== undefined) query = query.where('tasks.status', '=', filters.status as TaskRow['status']);
  if (filters.channel !== undefined) query = query.where('tasks.engine', '=', filters.channel);
  if (filters.since !== undefined) query = query.where('tasks.created_at', '>=', filters.since * 1000);
  if (filters.until !== undefined) query = query.where('tasks.created_at', '<', filters.until * 1000);
  return query.orderBy('tasks.created_at', 'desc').orderBy('tasks.id', 'desc');
}

type AdminTaskSource = Awaited<ReturnType<ReturnType<typeof taskQuery>['executeTakeFirstOrThrow']>>;

function adminTaskView(row: AdminTaskSource, results: ResultFiles, now: number): AdminTask {
  const created = Number(row.created_at);
  const started = row.started_at === null ? null : Number(row.started_at);
  const end = row.finished_at === null ? now : Number(row.finished_at);
  const charged = row.credits_charged_micro === null ? null : Number(row.credits_charged_micro);
  return {
    ...toTaskView(viewSource(row, results, now)),
    user: row.user_name, key_id: row.key_id, channel: row.engine, attempts: row.attempts ?? 0,
    credits_charged: charged === null ? null : microToCredits(charged),
    credits_released: isTerminal(row.status) && charged !== null ? microToCredits(Number(row.credits_reserved_micro) - charged) : null,
    queued_s: round1(((started ?? end) - created) / 1000),
    run_s: started === null ? null : round1((end - started) / 1000),
    upstream_status: { job: row.job_state ?? null, phase: row.job_phase ?? null, upstream_id: row.upstream_id ?? null, last_error: row.last_error ?? null },
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Every user's tasks, newest first, filtered and paged. */
export async function listAdminTasks(q: Q, results: ResultFiles, now: number, filters: TaskFilters & Paging): Promise<Page<AdminTask>> {
  let query = taskQuery(q, filters).limit(filters.limit + 1);
  if (filters.before) {
    const last = await q.selectFrom('tasks').select(['created_at', 'id']).where('id', '=', filters.before).executeTakeFirst();
    if (!last) throw new ApiError('invalid_request', `before: no task "${filters.before.slice(0, 80)}"`, { param: 'before' });
    query = query.where(olderThan('tasks.created_at', 'tasks.id', { time: Number(last.created_at), key: last.id }));
  }
  return toPage(await query.execute(), filters.limit, (row) => adminTaskView(row, results, now), (task) => task.id);
}

/** All matching tasks, newest first, a batch at a time (a CSV export never holds them all). */
export async function* allAdminTasks(q: Q, results: ResultFiles, now: number, filters: TaskFilters): AsyncGenerator<AdminTask> {
  const batch = 1000;
  for (let last: { time: number; key: string } | undefined; ;) {
    let query = taskQuery(q, filters).limit(batch);
    if (last) query = query.where(olderThan('tasks.created_at', 'tasks.id', last));
    const rows = await query.execute();
    for (const row of rows) yield adminTaskView(row, results, now);
    if (rows.length < batch) return;
    last = { time: Number(rows[rows.length - 1].created_at), key: rows[rows.length - 1].id };
  }
}

/** The task browser's CSV columns, in order. */
export const TASK_CSV_COLUMNS = [
  'id', 'created', 'user', 'key_id', 'model', 'status', 'channel', 'attempts', 'video_duration', 'credits_reserved', 'credits_charged', 'credits_released',
  'queued_s', 'run_s', 'error_code', 'error_message', 'result_url', 'upstream_id',
] as const;

export function taskCsvRow(task: AdminTask): unknown[] {
  return [
    task.id, task.created, task.user, task.key_id, task.model, task.status, task.channel, task.attempts, task.task_info.video_duration, task.usage.credits_reserved,
    task.credits_charged, task.credits_released, task.queued_s, task.run_s, task.error?.code, task.error?.message, task.results?.[0], task.upstream_status.upstream_id,
  ];
}

/** One task with everything behind it: its ledger rows, its job and its callback deliveries with their attempts. */
export async function adminTaskDetail(q: Q, results: ResultFiles, now: number, id: string) {
  const row = await taskQuery(q, {}).where('tasks.id', '=', id).executeTakeFirst();
  if (!row) throw new ApiError('not_found', `task_id: no task "${id.slice(0, 80)}"`, { param: 'task_id' });
  const [ledger, job, deliveries] = await Promise.all([
    ledgerQuery(q, {}).where('ledger_entries.task_id', '=', id).execute(),
    q.selectFrom('jobs').select(['state', 'phase', 'attempts', 'max_attempts', 'channel', 'tried_channels', 'upstream_id', 'submitted_at', 'last_error', 'created_at', 'updated_at'])
      .where('task_id', '=', id).executeTakeFirst(),
    q.selectFrom('callback_deliveries').select(['id', 'url', 'state', 'attempts', 'next_attempt_at', 'delivered_at', 'created_at']).where('task_id', '=', id).execute(),
  ]);
  const attempts = deliveries.length === 0 ? [] : await q.selectFrom('callback_attempts').selectAll().where('delivery_id', 'in', deliveries.map((d) => d.id)).orderBy('attempt').execute();
  return {
    ...adminTaskView(row, results, now),
    ledger: ledger.reverse().map(ledgerView),
    job: job && {
      state: job.state, phase: job.phase, attempts: job.attempts, max_attempts: job.max_attempts, channel: job.channel,
      tried_channels: job.tried_channels ? job.tried_channels.split(',') : [], upstream_id: job.upstream_id, submitted: seconds(job.submitted_at),
      last_error: job.last_error, created: seconds(job.created_at), updated: seconds(job.updated_at),
    },
    callbacks: deliveries.map((d) => ({
      id: d.id, url: d.url, state: d.state, attempts: attempts.filter((a) => a.delivery_id === d.id).map((a) => ({
        attempt: a.attempt, time: seconds(a.started_at), duration_ms: Number(a.duration_ms), status_code: a.status_code, error: a.error,
      })),
      next_attempt: d.state === 'pending' ? seconds(d.next_attempt_at) : null, delivered: seconds(d.delivered_at), created: seconds(d.created_at),
    })),
  };
}

/** Ledger filters: a user's name, times in unix seconds. */
export type LedgerFilters = { user?: string; since?: number; until?: number };

/** A ledger row (CONTRACT §10.2): the amount moved and the user's balance after it. */
export type LedgerRow = { id: string; time: number; user: string; key_id: string | null; task_id: string | null; kind: LedgerEntriesTable['kind']; credits: number; balance_after: number | null; note: string | null };

function ledgerQuery(q: Q, filters: LedgerFilters) {
  let query = q.selectFrom('ledger_entries').innerJoin('users', 'users.id', 'ledger_entries.user_id')
    .select(['ledger_entries.id', 'ledger_entries.created_at', 'users.name as user', 'ledger_entries.key_id', 'ledger_entries.task_id', 'ledger_entries.kind',
      'ledger_entries.amount_micro', 'ledger_entries.balance_after_micro', 'ledger_entries.note']);
  if (filters.user !== undefined) query = query.where('users.name', '=', filters.user);
  if (filters.since !== undefined) query = query.where('ledger_entries.created_at', '>=', filters.since * 1000);
  if (filters.until !== undefined) query = query.where('ledger_entries.created_at', '<', filters.until * 1000);
  return query.orderBy('ledger_entries.id', 'desc');
}

function ledgerView(row: Awaited<ReturnType<ReturnType<typeof ledgerQuery>['executeTakeFirstOrThrow']>>): LedgerRow {
  return {
    id: String(row.id), time: seconds(row.created_at)!, user: row.user, key_id: row.key_id, task_id: row.task_id, kind: row.kind,
    credits: microToCredits(Number(row.amount_micro)), balance_after: row.balance_after_micro === null ? null : microToCredits(Number(row.balance_after_micro)), note: row.note,
  };
}

/** Ledger rows, newest first (the ledger's own order), filtered and paged. */
export async function listLedger(q: Q, filters: LedgerFilters & Paging): Promise<Page<LedgerRow>> {
  let query = ledgerQuery(q, filters).limit(filters.limit + 1);
  if (filters.before !== undefined) {
    if (!/^\d{1,18}$/.test(filters.before)) throw new ApiError('invalid_request', 'before: must be a ledger row id (digits)', { param: 'before' });
    query = query.where('ledger_entries.id', '<', Number(filters.before));
  }
  return toPage(await query.execute(), filters.limit, ledgerView, (row) => row.id);
}

/** All matching ledger rows, newest first, a batch at a time. */
export async function* allLedger(q: Q, filters: LedgerFilters): AsyncGenerator<LedgerRow> {
  const batch = 2000;
  for (let before: number | undefined; ;) {
    let query = ledgerQuery(q, filters).limit(batch);
    if (before !== undefined) query = query.where('ledger_entries.id', '<', before);
    const rows = await query.execute();
    for (const row of rows) yield ledgerView(row);
    if (rows.length < batch) return;
    before = Number(rows[rows.length - 1].id);
  }
}

export const LEDGER_CSV_COLUMNS = ['id', 'time', 'user', 'key_id', 'task_id', 'kind', 'credits', 'balance_after', 'note'] as const;
