import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskRow } from '../tasks/task-store.ts';
import type { CallbackOutcome } from '../callbacks/deliverer.ts';

const RUN_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600];

/**
 * This process's counters and timings for Prometheus, in a registry of its own (several apps may
 * share a process in tests). What the store knows for the whole cluster is added by StoreGauges.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly isUpstream: (channel: string) => boolean;
  private readonly requests = new Counter({
    name: 'vidgate_http_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry],
  });
  private readonly requestSeconds = new Histogram({
    name: 'vidgate_http_request_duration_seconds', help: 'Time to answer an HTTP request', labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [this.registry],
  });
  private readonly tasksEnded = new Counter({
    name: 'vidgate_tasks_ended_total', help: 'Tasks this process ended, by model, channel and final status', labelNames: ['model', 'channel', 'status'], registers: [this.registry],
  });
  private readonly renderSeconds = new Histogram({
    name: 'vidgate_render_duration_seconds', help: 'Start to finish of completed tasks on local channels', labelNames: ['channel', 'model'], buckets: RUN_BUCKETS, registers: [this.registry],
  });
  private readonly upstreamSeconds = new Histogram({
    name: 'vidgate_upstream_duration_seconds', help: 'Submit to result of completed tasks on upstream channels', labelNames: ['channel', 'model'], buckets: RUN_BUCKETS, registers: [this.registry],
  });
  private readonly queueWaitSeconds = new Histogram({
    name: 'vidgate_queue_wait_seconds', help: 'Creation to start of ended tasks that started', labelNames: ['model'], buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600], registers: [this.registry],
  });
  private readonly callbackAttempts = new Counter({
    name: 'vidgate_callback_attempts_total', help: 'Callback deliveries tried: delivered, failed with a retry due, or failed for good', labelNames: ['outcome'], registers: [this.registry],
  });

  constructor(isUpstream: (channel: string) => boolean) {
    this.isUpstream = isUpstream;
    collectDefaultMetrics({ register: this.registry, prefix: 'vidgate_' });
  }

  requestAnswered(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status });
    this.requestSeconds.observe({ method, route }, seconds);
  }

  taskEnded(row: TaskRow): void {
    this.tasksEnded.inc({ model: row.model, channel: row.engine, status: row.status });
    if (row.started_at === null || row.finished_at === null) return;
    this.queueWaitSeconds.observe({ model: row.model }, (row.started_at - row.created_at) / 1000);
    if (row.status !== 'completed') return;
    const run = this.isUpstream(row.engine) ? this.upstreamSeconds : this.renderSeconds;
    run.observe({ channel: row.engine, model: row.model }, (row.finished_at - row.started_at) / 1000);
  }

  /** Reports `open()`, this process's open task event streams, at each scrape. */
  countEventStreams(open: () => number): void {
    new Gauge({ name: 'vidgate_task_event_streams', help: 'Task event streams open on this process', registers: [this.registry], collect() { this.set(open()); } });
  }

  callbackAttempted(outcome: CallbackOutcome): void {
    this.callbackAttempts.inc({ outcome });
  }
}
