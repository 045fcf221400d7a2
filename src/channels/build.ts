import { ComfyUiEngine } from '../engines/comfyui/index.ts';
import { DashScopeEngine } from '../engines/dashscope/index.ts';
import { EvoLinkEngine } from '../engines/evolink/index.ts';
import { FalEngine } from '../engines/fal/index.ts';
import { LocalEngine } from '../engines/local/index.ts';
import { Pacer, type SharedTurns } from '../engines/pacer.ts';
import type { ProcessCaps } from '../media/caps.ts';
import type { OutboundGuard } from '../net/outbound-guard.ts';
import type { Channel } from './channel.ts';
import type { ChannelSettings } from './config.ts';

export type EngineDeps = {
  ffmpegPath: string;
  /** Bounds on every ffmpeg the local engine runs. */
  mediaCaps?: ProcessCaps;
  guard: OutboundGuard;
  /** Where a channel's status-query turns are booked, so the rate holds across processes (default: this process only). */
  queryTurns?(channelName: string): SharedTurns;
};

/** Builds each configured channel's engine. */
export function buildChannels(list: ChannelSettings[], deps: EngineDeps): Channel[] {
  return list.map((settings) => {
    const base = { name: settings.name, settings, renderer: null, upstream: null };
    const queries = () => new Pacer(settings.query_per_second, deps.queryTurns?.(settings.name) ?? null);
    switch (settings.engine) {
      case 'local':
        return { ...base, renderer: new LocalEngine({ ffmpegPath: deps.ffmpegPath, caps: deps.mediaCaps }) };
      case 'dashscope':
        return { ...base, upstream: new DashScopeEngine(settings, deps.guard, queries()) };
      case 'fal':
        return { ...base, upstream: new FalEngine(settings, deps.guard, queries()) };
      case 'comfyui':
        return { ...base, upstream: new ComfyUiEngine(settings, deps.guard, queries()) };
      case 'evolink':
        return { ...base, upstream: new EvoLinkEngine(settings, deps.guard, queries()) };
    }
  });
}

/** Closes the engines' connections. */
export async function closeChannels(channels: readonly Channel[]): Promise<void> {
  await Promise.all(channels.map((c) => c.upstream?.close?.()));
}
