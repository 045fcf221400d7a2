import type { Logger } from 'pino';
import { FalEngine } from '../engines/fal/index.ts';
import { adoptJob, jobByUpstreamId, pollSoon, unknownJobBySubmitKey } from '../queue/channel-jobs.ts';
import type { Store } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';
import { upstreamModel } from './channel.ts';
import type { ChannelRouter } from './router.ts';

export type WebhookOutcome = 'accepted' | 'unknown_channel' | 'bad_signature';

export type UpstreamWebhooksDeps = { store: Store; clock: Clock; router: ChannelRouter; logger: Logger; pollNow(channel: string): void };

/**
 * Upstream webhooks (fal's, signed): they only tell vidgate to look now — the status is then read
 * from the upstream as usual — and they name the request of a submit whose answer was lost.
 */
export class UpstreamWebhooks {
  private readonly deps: UpstreamWebhooksDeps;

  constructor(deps: UpstreamWebhooksDeps) {
    this.deps = deps;
  }

  async receiveFal(channelName: string, submitKey: string | undefined, headers: Record<string, string | string[] | undefined>, rawBody: Buffer): Promise<WebhookOutcome> {
    const { store, clock, router, logger } = this.deps;
    const channel = router.get(channelName);
    if (!(channel?.upstream instanceof FalEngine)) return 'unknown_channel';
    const engine = channel.upstream;
    const requestId = await engine.webhooks.verify(headers, rawBody).catch((err) => {
      logger.warn({ err, channel: channelName }, 'could not read fal\'s webhook keys');
      return null;
    });
    if (!requestId) return 'bad_signature';
    const now = clock.now();
    const known = await jobByUpstreamId(store.db, channelName, requestId);
    if (known) {
      await store.write((trx) => pollSoon(trx, known.task_id, now));
    } else if (submitKey) {
      const lost = await unknownJobBySubmitKey(store.db, channelName, submitKey);
      if (lost) {
        const ref = engine.refFor(upstreamModel(channel, lost.model), requestId);
        if (await store.write((trx) => adoptJob(trx, lost.task_id, { upstreamId: requestId, ref }, now))) {
          logger.info({ task: lost.task_id, channel: channelName }, 'a fal webhook named the lost submit');
        }
      }
    }
    this.deps.pollNow(channelName);
    return 'accepted';
  }
}
