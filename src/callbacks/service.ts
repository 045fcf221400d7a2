import type { Caller } from '../auth/accounts.ts';
import { ApiError } from '../contract/errors.ts';
import { isTerminal } from '../contract/task-view.ts';
import type { Store } from '../store/db.ts';
import type { TaskService } from '../tasks/service.ts';
import type { Clock } from '../util/clock.ts';
import { type AttemptRow, type DeliveryRow, listDeliveries, resendDelivery } from './deliveries.ts';

/** A callback delivery as the API shows it; times in unix seconds. */
export type DeliveryView = {
  id: string;
  object: 'callback.delivery';
  url: string;
  status: DeliveryRow['state'];
  created: number;
  next_attempt_at: number | null;
  delivered_at: number | null;
  attempts: { attempt: number; created: number; duration_ms: number; status_code: number | null; error: string | null }[];
};

export type CallbackServiceDeps = {
  store: Store;
  clock: Clock;
  /** Checks that the caller owns the task. */
  tasks: TaskService;
  /** Told after a re-send is stored, so a deliverer here sends it at once. */
  onResent(): void;
};

/** A task's callback deliveries: listing and re-sending, for the task's owner. */
export class CallbackService {
  private readonly deps: CallbackServiceDeps;

  constructor(deps: CallbackServiceDeps) {
    this.deps = deps;
  }

  async list(caller: Caller, taskId: string): Promise<DeliveryView[]> {
    await this.deps.tasks.ownTask(caller, taskId);
    return (await listDeliveries(this.deps.store.db, taskId)).map(deliveryView);
  }

  /** Sends the task's callback again (same webhook-id and body); a delivery under way is left to finish. */
  async resend(caller: Caller, taskId: string): Promise<DeliveryView> {
    const { store, clock, tasks, onResent } = this.deps;
    const task = await tasks.ownTask(caller, taskId);
    if (!task.callback_url) throw new ApiError('invalid_request', 'callback_url: this task was created without one', { param: 'callback_url' });
    if (!isTerminal(task.status)) throw new ApiError('invalid_request', `task_id: the task is ${task.status}; its callback is sent when it ends`, { param: 'task_id' });
    const latest = (await listDeliveries(store.db, taskId)).at(-1);
    if (!latest) throw new Error(`ended task ${taskId} has a callback_url but no delivery`);
    if (await store.write((trx) => resendDelivery(trx, latest.id, clock.now()))) onResent();
    return deliveryView((await listDeliveries(store.db, taskId)).find((d) => d.id === latest.id)!);
  }
}

function deliveryView(d: DeliveryRow & { attempt_rows: AttemptRow[] }): DeliveryView {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  return {
    id: d.id,
    object: 'callback.delivery',
    url: d.url,
    status: d.state,
    created: seconds(d.created_at),
    next_attempt_at: d.state === 'pending' ? seconds(d.next_attempt_at) : null,
    delivered_at: d.delivered_at === null ? null : seconds(d.delivered_at),
    attempts: d.attempt_rows.map((a) => ({
      attempt: a.attempt, created: seconds(a.started_at), duration_ms: a.duration_ms, status_code: a.status_code, error: a.error,
    })),
  };
}
