import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { z } from 'zod';

/**
 * A wake-up: something changed in the store that some loop may act on at once. Signals only
 * save waiting; every loop still polls, so a lost signal delays work and never loses it.
 */
export type Signal =
  /** A job became due: workers may claim it. */
  | { kind: 'job_due' }
  /** A task was cancelled: whoever runs it stops. */
  | { kind: 'task_cancelled'; taskId: string }
  /** A callback may be due: deliverers look. */
  | { kind: 'callback_due' }
  /** A channel's jobs should be polled now (an upstream webhook arrived). */
  | { kind: 'poll_channel'; channel: string }
  /** A channel place came free: parked jobs may move. */
  | { kind: 'capacity_freed' }
  /** A task's status or progress changed: its event streams send the new state. */
  | { kind: 'task_changed'; taskId: string; userId?: string };

const signalSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('job_due') }),
  z.object({ kind: z.literal('task_cancelled'), taskId: z.string() }),
  z.object({ kind: z.literal('callback_due') }),
  z.object({ kind: z.literal('poll_channel'), channel: z.string() }),
  z.object({ kind: z.literal('capacity_freed') }),
  z.object({ kind: z.literal('task_changed'), taskId: z.string(), userId: z.string().optional() }),
]);

/** After a listener reconnects, anything may have been missed: every loop looks once. */
export const WAKE_ALL: Signal[] = [{ kind: 'job_due' }, { kind: 'callback_due' }, { kind: 'capacity_freed' }];

export type SignalListener = (signal: Signal) => void;

/** Carries signals to the loops of this process and, on PostgreSQL, of every process. */
export type SignalBus = {
  publish(signal: Signal): void;
  subscribe(listener: SignalListener): void;
  close(): Promise<void>;
};

/** One process: signals go straight to its own listeners (SQLite; other processes poll). */
export class LocalSignalBus implements SignalBus {
  private readonly listeners: SignalListener[] = [];

  publish(signal: Signal): void {
    this.deliver(signal);
  }

  subscribe(listener: SignalListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {}

  protected deliver(signal: Signal): void {
    for (const listener of this.listeners) listener(signal);
  }
}

const CHANNEL = 'vidgate_signals';
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/**
 * Many processes on one PostgreSQL database: a signal reaches this process's listeners at once
 * and the others through NOTIFY. Signals published in one tick go out in one query, each
 * distinct one once, so a burst of creates costs one round trip.
 */
export class PostgresSignalBus extends LocalSignalBus {
  private readonly origin = randomUUID();
  private readonly url: string;
  /** The store's pool sends; only listening needs a connection of its own. */
  private readonly db: Kysely<any>;
  private readonly logger: Logger;
  private outgoing = new Set<string>();
  private flushing: Promise<void> | null = null;
  /** The listening connection, from the moment it is opened; events of any other are stale. */
  private client: pg.Client | null = null;
  private reconnectMs = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private listening: Promise<void>;

  constructor(url: string, db: Kysely<any>, logger: Logger) {
    super();
    this.url = url;
    this.db = db;
    this.logger = logger;
    this.listening = this.listen();
  }

  /** Resolves once the first LISTEN is in place (or failed and a retry is scheduled). */
  ready(): Promise<void> {
    return this.listening;
  }

  override publish(signal: Signal): void {
    this.deliver(signal);
    this.outgoing.add(JSON.stringify({ ...signal, origin: this.origin }));
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  override async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.flushing;
    await this.listening;
    await this.client?.end().catch(() => {});
  }

  private async flush(): Promise<void> {
    const payloads = [...this.outgoing];
    this.outgoing = new Set();
    this.flushing = null;
    try {
      await sql`select pg_notify(${CHANNEL}, payload) from unnest(${payloads}::text[]) as payload`.execute(this.db);
    } catch (err) {
      this.logger.warn({ err }, 'could not send signals to other processes; they will find the work by polling');
    }
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000 });
    this.client = client;
    client.on('notification', (message) => this.received(message.payload));
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    if (this.closed) return void client.end().catch(() => {});
    const reconnected = this.reconnectMs > RECONNECT_MIN_MS;
    this.reconnectMs = RECONNECT_MIN_MS;
    if (reconnected) for (const signal of WAKE_ALL) this.deliver(signal);
  }

  private received(payload: string | undefined): void {
    let message: unknown;
    try {
      message = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if ((message as { origin?: unknown })?.origin === this.origin) return; // delivered here when published
    const signal = signalSchema.safeParse(message);
    if (signal.success) this.deliver(signal.data);
  }

  /** The listening connection broke: try again, waiting longer each time. */
  private lost(client: pg.Client, err: Error | null): void {
    if (this.closed || this.client !== client) return;
    this.client = null;
    client.end().catch(() => {});
    this.logger.warn({ err, retryInMs: this.reconnectMs }, 'lost the signal connection to PostgreSQL; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.listening = this.listen();
    }, this.reconnectMs);
    this.reconnectMs = Math.min(this.reconnectMs * 2, RECONNECT_MAX_MS);
  }
}

/** The bus for a store: NOTIFY on PostgreSQL, in-process on SQLite. */
export function openSignalBus(settings: { database_url?: string }, db: Kysely<any>, logger: Logger): SignalBus {
  return settings.database_url ? new PostgresSignalBus(settings.database_url, db, logger) : new LocalSignalBus();
}
