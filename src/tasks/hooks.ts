/**
 * What the task services tell the rest of the process after a commit, so work starts at once
 * here instead of at the next poll (other processes find it by polling the store).
 */
export type TaskHooks = {
  /** A job was stored: a worker may claim it. */
  jobQueued?(): void;
  /** A task was cancelled: stop its render if it runs here. */
  taskCancelled?(taskId: string): void;
  /** A task ended and may have a callback to send. */
  taskEnded?(): void;
  /** A task's status or progress changed (committed): its event streams send it (CONTRACT §11.1). */
  taskChanged?(taskId: string, userId?: string): void;
};
