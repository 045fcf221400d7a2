import { type Command, InvalidArgumentError } from 'commander';
import type { Task } from '../sdk/index.ts';
import { formatTable } from './table.ts';
import { printJson, type RemoteOptions, runRemote, withRemoteOptions } from './remote.ts';

const STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'];

/** `vidgate tasks get|cancel|ls`: a running vidgate's tasks, over HTTP with a key. */
export function registerTasksCommands(program: Command): void {
  const tasks = program.command('tasks').description("read and cancel a key's tasks on a running vidgate");

  withRemoteOptions(tasks.command('get').description('show a task').argument('<task-id>')).action((id: string, o: RemoteOptions) =>
    runRemote(o, async (client) => {
      const task = await client.getTask(id);
      if (o.json) printJson(task);
      else process.stdout.write(taskSummary(task));
    }),
  );

  withRemoteOptions(tasks.command('cancel').description('cancel a pending or processing task (its credits go back)').argument('<task-id>')).action(
    (id: string, o: RemoteOptions) =>
      runRemote(o, async (client) => {
        const cancelled = await client.cancelTask(id);
        if (o.json) printJson(cancelled);
        else process.stdout.write(`cancelled ${cancelled.id}\n`);
      }),
  );

  withRemoteOptions(
    tasks
      .command('ls')
      .description("list the key's user's tasks, newest first")
      .option('--limit <n>', 'how many (1–100)', parseLimit, 20)
      .option('--status <status>', `only ${STATUSES.join(', ')}`, parseStatus)
      .option('--before <task-id>', 'older than this task (the last id of the previous page)'),
  ).action((o: RemoteOptions & { limit: number; status?: Task['status']; before?: string }) =>
    runRemote(o, async (client) => {
      const page = await client.listTasks({ limit: o.limit, status: o.status, before: o.before });
      if (o.json) return printJson(page);
      process.stdout.write(taskTable(page.data));
      if (page.has_more) {
        const same = [o.limit !== 20 && `--limit ${o.limit}`, o.status && `--status ${o.status}`].filter(Boolean).join(' ');
        process.stdout.write(`more: bin/vidgate tasks ls ${same ? `${same} ` : ''}--before ${page.last_id}\n`);
      }
    }),
  );
}

/** A few lines a person reads: status, progress, credits, the video or the error. */
export function taskSummary(task: Task): string {
  const lines = [
    `${task.id}  ${task.model}`,
    `status    ${task.status}${task.status === 'processing' ? ` (${task.progress}%, about ${task.task_info.estimated_time} s left)` : ''}`,
    `created   ${new Date(task.created * 1000).toISOString()}`,
    `credits   ${task.usage.credits_charged ?? task.usage.credits_reserved}${task.usage.credits_charged === undefined ? ' reserved' : ' charged'}`,
  ];
  if (task.results?.length) lines.push(`video     ${task.results[0]}`);
  if (task.error) lines.push(`error     ${task.error.code}: ${task.error.message}`);
  return `${lines.join('\n')}\n`;
}

function taskTable(tasks: Task[]): string {
  if (tasks.length === 0) return 'no tasks\n';
  const rows = tasks.map((t) => [t.id, t.model, t.status, `${t.progress}%`, new Date(t.created * 1000).toISOString().replace('T', ' ').slice(0, 19), String(t.usage.credits_charged ?? t.usage.credits_reserved)]);
  return formatTable(['ID', 'MODEL', 'STATUS', 'PROGRESS', 'CREATED (UTC)', 'CREDITS'], rows);
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 100) throw new InvalidArgumentError('must be a whole number from 1 to 100');
  return n;
}

function parseStatus(value: string): string {
  if (!STATUSES.includes(value)) throw new InvalidArgumentError(`must be one of ${STATUSES.join(', ')}`);
  return value;
}
