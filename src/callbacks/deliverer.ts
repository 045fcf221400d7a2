import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import type { OutboundGuard } from '../net/outbound-guard.ts';
import type { Store } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';
import { PollLoop } from '../util/poll-loop.ts';
import { checkCallbackUrl } from './destination.ts';
import { type AttemptOutcome, claimDueDeliveries, type DeliveryRow, recordAttempt } from './deliveries.ts';

export type DelivererOptions = {
  store: Store;
  clock: Clock;
  guard: OutboundGuard;
  logger: Logger;
  /** Deliveries in flight at once; separate from the render slots, so slow receivers slow nothing else. */
  concurrency: number;
  pollMs: number;
  /** One attempt's limit; a receiver that takes longer has failed. */
  timeoutMs: number;
  /** Waits before each retry: [1s, 2s, 4s] gives 4 attempts in all. */
  retryDelaysMs: readonly number[];
  /** Told how each recorded attempt went. */
  onAttempt?: (outcome: CallbackOutcome) => void;
};

/** How one attempt ended: delivered, failed with a retry due, or failed for good. */
export type CallbackOutcome = 'delivered' | 'retry' | 'failed';

/** Sends the callbacks in the outbox: signed, re-checked against the guard each attempt, retried on schedule. */
export class CallbackDeliverer {
  readonly id = `callbacks-${randomUUID()}`;
  private readonly options: DelivererOptions;
  private readonly claims: PollLoop;
  private readonly sending = new Set<Promise<void>>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(options: DelivererOptions) {
    this.options = options;
    this.claims = new PollLoop(() => this.claimFreeSlots(), (err) => options.logger.error({ err }, 'claiming callbacks failed'));
  }

  start(): void {
    this.claims.start(this.options.pollMs);
  }

  /** Looks for due callbacks now (a task just ended in this process). */
  notify(): void {
    this.claims.notify();
  }

  /** Stops claiming and waits for the attempts in flight (each ends within the timeout). */
  async stop(): Promise<void> {
    await this.claims.stop();
    for (const timer of this.retryTimers) clearTimeout(timer);
    await Promise.all([...this.sending]);
  }

  private async claimFreeSlots(): Promise<boolean> {
    const { store, clock, concurrency, timeoutMs } = this.options;
    const free = concurrency - this.sending.size;
    if (free <= 0) return false;
    // The lease outlasts an attempt, so only a sender that died loses it.
    const leaseMs = timeoutMs + 30_000;
    const due = await store.write((trx) => claimDueDeliveries(trx, { owner: this.id, limit: free, now: clock.now(), leaseMs }));
    for (const delivery of due) {
      const sending: Promise<void> = this.deliver(delivery)
        .catch((err) => this.options.logger.error({ err, delivery: delivery.id }, 'could not record a callback attempt'))
        .finally(() => {
          this.sending.delete(sending);
          this.notify();
        });
      this.sending.add(sending);
    }
    return due.length === free;
  }

  private async deliver(delivery: DeliveryRow): Promise<void> {
    const { store, clock, retryDelaysMs, logger } = this.options;
    const outcome = await this.attempt(delivery);
    const now = clock.now();
    const delay = outcome.error === null ? undefined : retryDelaysMs[delivery.round_attempts - 1];
    const retryAt = delay === undefined ? null : now + delay;
    const recorded = await store.write((trx) => recordAttempt(trx, delivery, outcome, retryAt, now));
    const log = logger.child({ task: delivery.task_id, delivery: delivery.id, attempt: delivery.attempts });
    if (!recorded) return log.warn('lost the lease on a callback; another sender has it');
    this.options.onAttempt?.(outcome.error === null ? 'delivered' : retryAt === null ? 'failed' : 'retry');
    if (outcome.error === null) return log.info({ status: outcome.statusCode }, 'callback delivered');
    log.warn({ error: outcome.error, retryInMs: delay ?? null }, retryAt === null ? 'callback failed for good' : 'callback failed; will retry');
    if (delay !== undefined) this.wakeAfter(delay);
  }

  /** One POST: any 2xx is success; other statuses, redirects, timeouts and refused destinations fail. */
  private async attempt(delivery: DeliveryRow): Promise<AttemptOutcome> {
    const { store, clock, guard, timeoutMs } = this.options;
    const startedAt = clock.now();
    const done = (statusCode: number | null, error: string | null): AttemptOutcome => ({ startedAt, durationMs: clock.now() - startedAt, statusCode, error });
    try {
      await checkCallbackUrl(guard, delivery.url); // DNS may have changed since the task was created
      const user = await store.db.selectFrom('users').select('webhook_secret').where('id', '=', delivery.user_id).executeTakeFirstOrThrow();
      const sentAt = new Date(clock.now());
      const response = await request(delivery.url, {
        method: 'POST',
        dispatcher: guard.dispatcher,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'vidgate',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': new Webhook(user.webhook_secret).sign(delivery.id, sentAt, delivery.body),
        },
        body: delivery.body,
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await response.body.dump();
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      return done(response.statusCode, ok ? null : `the receiver answered HTTP ${response.statusCode}`);
    } catch (error) {
      return done(null, describeFailure(error, timeoutMs));
    }
  }

  private wakeAfter(ms: number): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.notify();
    }, ms);
    timer.unref();
    this.retryTimers.add(timer);
  }
}

/** A failure as the delivery log shows it: short, with no stack. */
function describeFailure(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; code?: string; message?: string };
  if (err?.name === 'TimeoutError' || err?.code === 'UND_ERR_HEADERS_TIMEOUT' || err?.code === 'UND_ERR_BODY_TIMEOUT') {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  const cause = (error as { cause?: { code?: string } })?.cause?.code;
  return [err?.message ?? String(error), cause].filter(Boolean).join(': ').slice(0, 300);
}
