import type { FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { isTerminal, type TaskView, toTaskView } from '../contract/task-view.ts';
import type { ResultFiles } from '../media/results.ts';
import type { Database } from '../store/schema.ts';
import type { SignalBus } from '../store/signals.ts';
import type { Clock } from '../util/clock.ts';
import { type TaskRow, viewSource } from './task-store.ts';

/**
 * Task events (CONTRACT §11.1): Server-Sent Events of a task, or of every task of a user. One hub
 * per process holds the open streams; a change reaches them from the signal bus (`task_changed`,
 * published after each commit, through NOTIFY on PostgreSQL), read from the store once per batch
 * whatever the number of streams, and a process-wide catch-up read once a second finds what a
 * signal missed. Each event's id grows with the task's changes, so Last-Event-ID resumes without
 * repeats; a client that stops reading gets only the latest state of each task when it drains.
 */

/** An event's id: the change's time and its rank (pending < processing by progress < terminal), so a task's ids only grow. */
export function eventId(row: Pick<TaskRow, 'updated_at' | 'status' | 'progress'>): number {
  const rank = row.status === 'pending' ? 0 : row.status === 'processing' ? 1 + row.progress : 200;
  return Number(row.updated_at) * 1000 + rank;
}

type Stream = {
  reply: FastifyReply;
  userId: string;
  /** Set for a one-task stream, which ends after a terminal state. */
  taskId: string | null;
  /** The id last sent, per task. */
  sent: Map<string, number>;
  /** Latest states waiting for the socket to drain (one per task). */
  waiting: Map<string, { id: number; view: TaskView }> | null;
  closed: boolean;
};

export type TaskEventsDeps = {
  db: Kysely<Database>;
  results: ResultFiles;
  clock: Clock;
  signals: SignalBus;
  logger: Logger;
  heartbeatMs?: number;
  catchUpMs?: number;
};

export class TaskEvents {
  private readonly deps: Required<TaskEventsDeps>;
  private readonly byTask = new Map<string, Set<Stream>>();
  private readonly byUser = new Map<string, Set<Stream>>();
  private readonly due = new Set<string>();
  private reading: Promise<void> | null = null;
  private cursor = 0;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(deps: TaskEventsDeps) {
    this.deps = { ...deps, heartbeatMs: deps.heartbeatMs ?? 15_000, catchUpMs: deps.catchUpMs ?? 1000 };
    deps.signals.subscribe((signal) => {
      // A signal without its user (a poller's) is read whenever any user stream is open.
      if (signal.kind !== 'task_changed' || !(signal.userId ? this.watching(signal.taskId, signal.userId) : this.byTask.has(signal.taskId) || this.byUser.size > 0)) return;
      this.due.add(signal.taskId);
      this.reading ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.readDue());
    });
    this.timers.push(setInterval(() => this.heartbeat(), this.deps.heartbeatMs).unref());
    this.timers.push(setInterval(() => void this.catchUp(), this.deps.catchUpMs).unref());
  }

  /** Open streams (for metrics and the benchmark). */
  get size(): number {
    let n = 0;
    for (const streams of this.byUser.values()) n += streams.size;
    return n;
  }

  /**
   * Starts a stream on `reply`: the current state of the task (or, for a user stream, the tasks
   * changed since `lastEventId`), then every change. A task stream ends after a terminal state.
   */
  async open(reply: FastifyReply, target: { userId: string; task: TaskRow | null; lastEventId: number | null }): Promise<void> {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no',
    });
    reply.raw.write(`retry: 2000\n\n`);
    const stream: Stream = { reply, userId: target.userId, taskId: target.task?.id ?? null, sent: new Map(), waiting: null, closed: false };
    reply.raw.on('close', () => this.close(stream));
    reply.raw.on('drain', () => this.drain(stream));
    add(this.byUser, target.userId, stream);
    if (target.task) add(this.byTask, target.task.id, stream);
    const since = target.lastEventId ?? 0;
    const first = target.task ? [target.task] : await this.changedSince(target.userId, since);
    for (const row of first) if (eventId(row) > since) this.send(stream, row);
    else stream.sent.set(row.id, since);
    // Resumed after the end: nothing more will come.
    if (target.task && isTerminal(target.task.status) && eventId(target.task) <= since) await this.close(stream);
  }

  async close(stream: Stream): Promise<void> {
    if (stream.closed) return;
    stream.closed = true;
    remove(this.byUser, stream.userId, stream);
    if (stream.taskId) remove(this.byTask, stream.taskId, stream);
    if (!stream.reply.raw.writableEnded) stream.reply.raw.end();
  }

  /** Ends every stream (shutdown). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const streams of [...this.byUser.values()]) for (const stream of [...streams]) await this.close(stream);
  }

  private watching(taskId: string, userId: string): boolean {
    return this.byTask.has(taskId) || this.byUser.has(userId);
  }

  /** The user's tasks changed after event `since` (a resumed user stream), oldest change first. */
  private async changedSince(userId: string, since: number): Promise<TaskRow[]> {
    if (since === 0) return [];
    const rows = await this.deps.db.selectFrom('tasks').selectAll().where('user_id', '=', userId).where('updated_at', '>=', Math.floor(since / 1000)).execute();
    return rows.sort((a, b) => eventId(a) - eventId(b));
  }

  private async readDue(): Promise<void> {
    const ids = [...this.due];
    this.due.clear();
    this.reading = null;
    try {
      const rows = await this.deps.db.selectFrom('tasks').selectAll().where('id', 'in', ids).execute();
      for (const row of rows) this.dispatch(row);
    } catch (err) {
      this.deps.logger.warn({ err }, 'task events: could not read changed tasks; the catch-up read will');
    }
  }

  /** Once a second, while any stream is open: every task changed since the last look (a signal may arrive before its commit). */
  private async catchUp(): Promise<void> {
    if (this.byUser.size === 0) return;
    const now = this.deps.clock.now();
    const from = Math.max(0, Math.min(this.cursor, now) - 2 * this.deps.catchUpMs); // late commits carry earlier times
    this.cursor = now;
    try {
      const rows = await this.deps.db.selectFrom('tasks').selectAll().where('updated_at', '>=', from).execute();
      for (const row of rows) if (this.watching(row.id, row.user_id)) this.dispatch(row);
    } catch (err) {
      this.deps.logger.warn({ err }, 'task events: the catch-up read failed');
    }
  }

  private dispatch(row: TaskRow): void {
    const targets = new Set([...(this.byTask.get(row.id) ?? []), ...[...(this.byUser.get(row.user_id) ?? [])].filter((stream) => stream.taskId === null)]);
    for (const stream of targets) this.send(stream, row);
  }

  private send(stream: Stream, row: TaskRow): void {
    const id = eventId(row);
    if (stream.closed || id <= (stream.sent.get(row.id) ?? -1)) return;
    const view = toTaskView(viewSource(row, this.deps.results, this.deps.clock.now()));
    if (stream.waiting) {
      stream.waiting.set(row.id, { id, view }); // the socket is full: keep only the latest per task
      return;
    }
    this.write(stream, row.id, id, view);
  }

  private write(stream: Stream, taskId: string, id: number, view: TaskView): void {
    stream.sent.set(taskId, id);
    const flushed = stream.reply.raw.write(`id: ${id}\nevent: task\ndata: ${JSON.stringify(view)}\n\n`);
    if (isTerminal(view.status) && stream.taskId === taskId) return void this.close(stream);
    if (!flushed) stream.waiting = new Map();
  }

  private drain(stream: Stream): void {
    const waiting = stream.waiting;
    if (!waiting) return;
    stream.waiting = null;
    for (const [taskId, event] of waiting) {
      const full = stream.waiting as Stream['waiting']; // write() may have found the socket full again
      if (full) full.set(taskId, event); // the rest waits for the next drain
      else this.write(stream, taskId, event.id, event.view);
    }
  }

  /** A comment line on every stream; and a user stream forgets tasks unchanged for a minute (only a change, with a newer id, sends them again). */
  private heartbeat(): void {
    const forgetBefore = (this.deps.clock.now() - 60_000) * 1000;
    for (const streams of this.byUser.values()) {
      for (const stream of streams) {
        if (!stream.waiting) stream.reply.raw.write(': keep-alive\n\n');
        if (stream.taskId === null) for (const [taskId, id] of stream.sent) if (id < forgetBefore) stream.sent.delete(taskId);
      }
    }
  }
}

function add<K>(map: Map<K, Set<Stream>>, key: K, stream: Stream): void {
  let set = map.get(key);
  if (!set) map.set(key, set = new Set());
  set.add(stream);
}

function remove<K>(map: Map<K, Set<Stream>>, key: K, stream: Stream): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(stream);
  if (set.size === 0) map.delete(key);
}
