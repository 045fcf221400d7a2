import type { Kysely } from 'kysely';
import { channelHealthRows, setChannelPaused } from '../channels/health.ts';
import type { ChannelRouter } from '../channels/router.ts';
import { ApiError } from '../contract/errors.ts';
import type { Store } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import { type Actor, recordAudit } from './audit.ts';

/** A channel as the admin API shows it (CONTRACT §10.2), its settings without credentials. */
export type AdminChannel = {
  name: string; engine: string; priority: number; weight: number; models: string[]; paused: boolean;
  health: { state: 'ok' | 'resting' | 'paused'; resting_until: number | null; consecutive_failures: number };
  in_flight: number; queued: number; last_error: string | null; p50_run_s: number | null; settings: Record<string, unknown>;
};

// Never shown: the credential itself (its variable's name is).
const SECRET_SETTINGS = new Set(['api_key']);

/** Every channel with its health, shared by every process (the store's channel_health), and its jobs now. */
export async function listChannels(db: Kysely<Database>, router: ChannelRouter, now: number): Promise<AdminChannel[]> {
  const health = await channelHealthRows(db);
  const jobs = await db.selectFrom('jobs').select(['channel', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', 'in', ['queued', 'running', 'waiting', 'parked']).where('channel', 'is not', null).groupBy(['channel', 'state']).execute();
  const count = (name: string, states: string[]) => jobs.filter((j) => j.channel === name && states.includes(j.state)).reduce((sum, j) => sum + Number(j.n), 0);
  return router.channels.map((channel) => {
    const row = health.get(channel.name);
    const resting = row && row.unhealthy_until > now ? row.unhealthy_until : null;
    const state = row?.paused_at != null ? 'paused' : resting ? 'resting' : 'ok';
    const settings = Object.fromEntries(Object.entries(channel.settings).filter(([key]) => !SECRET_SETTINGS.has(key)).map(([key, value]) => [key, value instanceof Map ? Object.fromEntries(value) : value]));
    return {
      name: channel.name, engine: channel.settings.engine, priority: channel.settings.priority, weight: channel.settings.weight, models: [...channel.settings.models.keys()],
      paused: state === 'paused', health: { state, resting_until: resting === null ? null : Math.floor(resting / 1000), consecutive_failures: row?.failures ?? 0 },
      in_flight: count(channel.name, ['running', 'waiting']), queued: count(channel.name, ['queued', 'parked']), last_error: null, p50_run_s: null, settings,
    };
  });
}

/** Pauses or resumes a channel for every process, with its audit row in the same transaction. */
export async function pauseChannel(store: Store, router: ChannelRouter, actor: Actor, name: string, paused: boolean, now: number): Promise<AdminChannel> {
  if (!router.get(name)) throw new ApiError('not_found', `name: no channel "${name.slice(0, 80)}"`, { param: 'name' });
  await store.write(async (trx) => {
    if (await setChannelPaused(trx, name, paused, now)) await recordAudit(trx, { actor, action: paused ? 'channel.pause' : 'channel.resume', target: `channel:${name}`, now });
  });
  router.forgetResting();
  return (await listChannels(store.db, router, now)).find((c) => c.name === name)!;
}
