import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import type { ChannelRouter } from './router.ts';

/** After a cancel: asks the upstream that has the task's job to drop it (best effort; it may already run). */
export async function cancelUpstreamJob(db: Db, router: ChannelRouter, taskId: string, logger: Logger): Promise<void> {
  const job = await db.selectFrom('jobs').select(['channel', 'upstream_id', 'upstream_ref', 'submitted_at', 'created_at']).where('task_id', '=', taskId).executeTakeFirst();
  const channel = job?.channel ? router.get(job.channel) : undefined;
  if (!job?.upstream_id || !channel?.upstream) return;
  const handle = { taskId, upstreamId: job.upstream_id, ref: job.upstream_ref, submittedAt: Number(job.submitted_at ?? job.created_at) };
  try {
    await channel.upstream.cancel(handle);
  } catch (err) {
    logger.warn({ err, task: taskId, channel: channel.name }, 'the upstream did not take the cancel');
  }
}
