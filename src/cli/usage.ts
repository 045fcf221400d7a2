import { type Command, InvalidArgumentError } from 'commander';
import { queryUsage, USAGE_GROUPS, type UsageGroup, usageWindow } from '../billing/usage.ts';
import { settingsOrExit } from './settings.ts';
import { openMigratedStore } from './startup-errors.ts';
import { formatTable } from './table.ts';

/** `vidgate usage`: the usage report of GET /admin/v1/usage as a table, straight from the store. */
export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('tasks, outcomes, billed seconds and credits per day, model, user or channel (works on the store directly)')
    .option('--by <group>', `one of ${USAGE_GROUPS.join(', ')}`, parseGroup, 'day')
    .option('--since <day>', 'first day, YYYY-MM-DD or unix seconds (default: 29 days before --until)', parseDay)
    .option('--until <day>', 'last day, included (default: today)', parseDay)
    .option('--json', 'print JSON')
    .action(async (o: { by: UsageGroup; since?: string; until?: string; json?: boolean }) => {
      const window = usageWindow(o, Date.now());
      if (window.sinceDay > window.untilDay) {
        process.stderr.write(`vidgate: --since ${window.sinceDay} is after --until ${window.untilDay}\n`);
        return void (process.exitCode = 2);
      }
      const { store } = await openMigratedStore(settingsOrExit());
      try {
        const rows = await queryUsage(store.db, { groupBy: o.by, ...window });
        if (o.json) return void process.stdout.write(`${JSON.stringify({ group_by: o.by, since: window.sinceDay, until: window.untilDay, data: rows }, null, 2)}\n`);
        process.stdout.write(`Usage by ${o.by}, ${window.sinceDay} to ${window.untilDay} (UTC days):\n`);
        const cell = (n: number | null) => (n === null ? '-' : String(n));
        process.stdout.write(formatTable(
          [o.by.toUpperCase(), 'TASKS', 'COMPLETED', 'FAILED', 'CANCELLED', 'BILLED S', 'CHARGED', 'RELEASED', 'P50 S', 'P95 S'],
          rows.map((r) => [String(r[o.by]), ...[r.tasks, r.completed, r.failed, r.cancelled, r.billed_seconds, r.credits_charged, r.credits_released, r.p50_s, r.p95_s].map(cell)]),
        ));
        if (rows.length === 0) process.stdout.write('(no tasks in these days)\n');
      } finally {
        await store.close();
      }
    });
}

function parseGroup(value: string): UsageGroup {
  if (!(USAGE_GROUPS as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${USAGE_GROUPS.join(', ')}`);
  return value as UsageGroup;
}

function parseDay(value: string): string {
  if (/^\d{1,11}$/.test(value)) return value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value)) return value;
  throw new InvalidArgumentError('must be YYYY-MM-DD or unix seconds');
}
