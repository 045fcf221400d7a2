import { ComfyUiEngine } from '../engines/comfyui/index.ts';
import { DashScopeEngine } from '../engines/dashscope/index.ts';
import { EvoLinkEngine } from '../engines/evolink/index.ts';
import { FalEngine } from '../engines/fal/index.ts';
import { LocalEngine } from '../engines/local/index.ts';
import type { OutboundGuard } from '../net/outbound-guard.ts';
import type { Channel } from './channel.ts';
import type { ChannelSettings } from './config.ts';

export type EngineDeps = { ffmpegPath: string; guard: OutboundGuard };

/** Builds each configured channel's engine. */
export function buildChannels(list: ChannelSettings[], deps: EngineDeps): Channel[] {
  return list.map((settings) => {
    const base = { name: settings.name, settings, renderer: null, upstream: null };
    switch (settings.engine) {
      case 'local':
        return { ...base, renderer: new LocalEngine({ ffmpegPath: deps.ffmpegPath }) };
      case 'dashscope':
        return { ...base, upstream: new DashScopeEngine(settings, deps.guard) };
      case 'fal':
        return { ...base, upstream: new FalEngine(settings, deps.guard) };
      case 'comfyui':
        return { ...base, upstream: new ComfyUiEngine(settings, deps.guard) };
      case 'evolink':
        return { ...base, upstream: new EvoLinkEngine(settings, deps.guard) };
    }
  });
}

/** Closes the engines' connections. */
export async function closeChannels(channels: readonly Channel[]): Promise<void> {
  await Promise.all(channels.map((c) => c.upstream?.close?.()));
}
