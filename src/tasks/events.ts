import type { Duplex } from 'node:stream';
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

const STREAM_HEADERS = ['content-type: text/event-stream; charset=utf-8', 'cache-control: no-store', 'connection: close', 'x-accel-buffering: no', 'x-content-type-options: nosniff']
  .map((line) => `${line}\r\n`)
  .join('');

/** One change: serialised once, whatever the number of streams it goes to. */
type Frame = { id: number; view: TaskView; bytes: Buffer; terminal: boolean };

/** Where a stream's events go: a client's connection, or a listener in this process (the MCP server's wait_for_task). */
type Sink = {
  /** False when the connection is full: the stream then keeps only the latest state per task until `drain`. */
  write(frames: Frame[]): boolean;
  heartbeat(): void;
  end(): void;
};

/**
 * The connection itself: frames skip the HTTP response's chunked framing and its per-write cork
 * and tick (the cost at 10k streams). The response ends with the connection, as an event stream does.
 */
function socketSink(socket: Duplex): Sink {
  socket.write(`HTTP/1.1 200 OK\r\n${STREAM_HEADERS}\r\nretry: 2000\n\n`);
  return {
    write: (frames) => socket.write(frames.length === 1 ? frames[0].bytes : Buffer.concat(frames.map((frame) => frame.bytes))),
    heartbeat: () => socket.write(': keep-alive\n\n'),
    end: () => {
      if (!socket.writableEnded) socket.end();
    },
  };
}

type Stream = {
  sink: Sink;
  userId: string;
  /** Set for a one-task stream, which ends after a terminal state. */
  taskId: string | null;
  /** No event at or below this id goes out: where the client resumed from, or when a user stream opened. */
  since: number;
  /** The id last sent, per task. */
  sent: Map<string, number>;
  /** Latest states waiting for the connection to drain (one per task). */
  waiting: Map<string, Frame> | null;
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
  /** Where the next catch-up read starts (ms); it keeps moving while no stream is open, so the first read is small. */
  private cursor: number;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(deps: TaskEventsDeps) {
    this.deps = { ...deps, heartbeatMs: deps.heartbeatMs ?? 15_000, catchUpMs: deps.catchUpMs ?? 1000 };
    this.cursor = deps.clock.now();
    deps.signals.subscribe((signal) => {
      // A signal without its user (a poller's) is read whenever any user stream is open.
      if (signal.kind !== 'task_changed' || !(signal.userId ? this.watching(signal.taskId, signal.userId) : this.byTask.has(signal.taskId) || this.byUser.size > 0)) return;
      this.due.add(signal.taskId);
      this.reading ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.readDue());
    });
    this.timers.push(setInterval(() => this.heartbeat(), this.deps.heartbeatMs).unref());
    this.timers.push(setInterval(() => void this.catchUp(), this.deps.catchUpMs).unref());
  }

  /** Open streams, and in-process followers (the metrics gauge). */
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
    const socket = reply.raw.socket;
    if (!socket || socket.destroyed) return; // the client left already
    // A new user stream carries what changes from now on; a task stream starts from the task as it is.
    const stream = this.start(socketSink(socket), target.userId, target.task?.id ?? null, target.lastEventId ?? (target.task ? -1 : this.deps.clock.now() * 1000));
    socket.on('close', () => this.close(stream));
    socket.on('drain', () => this.drain(stream));
    const first = target.task ? [target.task] : await this.changedSince(target.userId, target.lastEventId);
    this.send(stream, new Map(first.map((row) => [row.id, this.frame(row)])));
    if (target.task && isTerminal(target.task.status)) this.close(stream); // sent just now, or resumed after the end
  }

  /**
   * Calls `onTask` with the task as it is now, then at each change, until a terminal state or
   * `stop()`; `ended` resolves then. In this process, with no connection (the MCP server's waits).
   */
  follow(task: TaskRow, onTask: (view: TaskView) => void): { ended: Promise<void>; stop(): void } {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const sink: Sink = { write: (frames) => (frames.forEach((frame) => onTask(frame.view)), true), heartbeat: () => {}, end };
    const stream = this.start(sink, task.user_id, task.id, -1);
    this.send(stream, new Map([[task.id, this.frame(task)]]));
    if (isTerminal(task.status)) this.close(stream);
    return { ended, stop: () => this.close(stream) };
  }

  private start(sink: Sink, userId: string, taskId: string | null, since: number): Stream {
    const stream: Stream = { sink, userId, taskId, since, sent: new Map(), waiting: null, closed: false };
    add(this.byUser, userId, stream);
    if (taskId) add(this.byTask, taskId, stream);
    return stream;
  }

  close(stream: Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    remove(this.byUser, stream.userId, stream);
    if (stream.taskId) remove(this.byTask, stream.taskId, stream);
    stream.sink.end();
  }

  /** Ends every stream (shutdown). */
  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const streams of [...this.byUser.values()]) for (const stream of [...streams]) this.close(stream);
  }

  private watching(taskId: string, userId: string): boolean {
    return this.byTask.has(taskId) || this.byUser.has(userId);
  }

  /** The user's tasks changed after event `since` (a resumed user stream), oldest change first. */
  private async changedSince(userId: string, since: number | null): Promise<TaskRow[]> {
    if (since === null) return [];
    const rows = await this.deps.db.selectFrom('tasks').selectAll().where('user_id', '=', userId).where('updated_at', '>=', Math.floor(since / 1000)).execute();
    return rows.sort((a, b) => eventId(a) - eventId(b));
  }

  /** Reads the tasks signalled since the last read, in batches: changes that arrive meanwhile wait for the next one. */
  private async readDue(): Promise<void> {
    while (this.due.size > 0) {
      const ids = [...this.due].slice(0, 500);
      for (const id of ids) this.due.delete(id);
      try {
        this.dispatch(await this.deps.db.selectFrom('tasks').selectAll().where('id', 'in', ids).execute());
      } catch (err) {
        this.deps.logger.warn({ err }, 'task events: could not read changed tasks; the catch-up read will');
      }
    }
    this.reading = null;
  }

  /** Once a second, while any stream is open: every task changed since the last look (a signal may arrive before its commit). */
  private async catchUp(): Promise<void> {
    const now = this.deps.clock.now();
    if (this.byUser.size === 0) return void (this.cursor = now);
    const from = Math.max(0, Math.min(this.cursor, now) - 2 * this.deps.catchUpMs); // late commits carry earlier times
    this.cursor = now;
    try {
      const rows = await this.deps.db.selectFrom('tasks').selectAll().where('updated_at', '>=', from).execute();
      this.dispatch(rows.filter((row) => this.watching(row.id, row.user_id)));
    } catch (err) {
      this.deps.logger.warn({ err }, 'task events: the catch-up read failed');
    }
  }

  /** Sends changed rows to the streams watching them: one write per stream, however many tasks changed. */
  private dispatch(rows: TaskRow[]): void {
    const batches = new Map<Stream, Map<string, Frame>>();
    for (const row of rows) {
      let frame: Frame | null = null;
      const queue = (stream: Stream) => {
        let batch = batches.get(stream);
        if (!batch) batches.set(stream, (batch = new Map()));
        batch.set(row.id, (frame ??= this.frame(row)));
      };
      for (const stream of this.byTask.get(row.id) ?? []) queue(stream);
      for (const stream of this.byUser.get(row.user_id) ?? []) if (stream.taskId === null) queue(stream);
    }
    for (const [stream, frames] of batches) this.send(stream, frames);
  }

  private frame(row: TaskRow): Frame {
    const id = eventId(row);
    const view: TaskView = toTaskView(viewSource(row, this.deps.results, this.deps.clock.now()));
    return { id, view, bytes: Buffer.from(`id: ${id}\nevent: task\ndata: ${JSON.stringify(view)}\n\n`), terminal: isTerminal(view.status) };
  }

  /** Sends what this stream has not seen yet; while its socket is full, keeps only the latest state per task. */
  private send(stream: Stream, frames: Map<string, Frame>): void {
    if (stream.closed) return;
    for (const [taskId, frame] of frames) if (frame.id <= (stream.sent.get(taskId) ?? stream.since)) frames.delete(taskId);
    if (frames.size === 0) return;
    if (stream.waiting) for (const [taskId, frame] of frames) stream.waiting.set(taskId, frame);
    else this.write(stream, frames);
  }

  /** One write of the frames, oldest change first, so the last id a client saw is the one to resume from. */
  private write(stream: Stream, frames: Map<string, Frame>): void {
    const ordered = [...frames].sort((a, b) => a[1].id - b[1].id);
    let ends = false;
    for (const [taskId, frame] of ordered) {
      stream.sent.set(taskId, frame.id);
      ends ||= frame.terminal && stream.taskId === taskId;
    }
    const flushed = stream.sink.write(ordered.map(([, frame]) => frame));
    if (ends) return this.close(stream);
    if (!flushed) stream.waiting = new Map();
  }

  private drain(stream: Stream): void {
    const waiting = stream.waiting;
    stream.waiting = null;
    if (waiting && waiting.size > 0) this.write(stream, waiting);
  }

  /** A comment line on every stream; and a user stream forgets tasks unchanged for a minute (only a change, with a newer id, sends them again). */
  private heartbeat(): void {
    const forgetBefore = (this.deps.clock.now() - 60_000) * 1000;
    for (const streams of this.byUser.values()) {
      for (const stream of streams) {
        if (!stream.waiting) stream.sink.heartbeat();
        if (stream.taskId !== null) continue;
        for (const [taskId, id] of stream.sent) if (id < forgetBefore) stream.sent.delete(taskId);
        stream.since = Math.max(stream.since, forgetBefore);
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
