import type { Renderer } from '../engines/engine.ts';
import type { Upstream } from '../engines/upstream.ts';
import type { ChannelSettings } from './config.ts';

/** A configured channel: its settings, the models it serves, and the engine behind it. */
export type Channel = {
  readonly name: string;
  readonly settings: ChannelSettings;
  /** Exactly one of the two: an engine on this machine, or a service upstream. */
  readonly renderer: Renderer | null;
  readonly upstream: Upstream | null;
};

export function servesModel(channel: Channel, model: string): boolean {
  return channel.settings.models.has(model);
}

/** The channel's id for one of our models (for comfyui: the workflow file). */
export function upstreamModel(channel: Channel, model: string): string {
  return channel.settings.models.get(model) ?? model;
}

export function estimateSeconds(channel: Channel, job: Parameters<Renderer['estimateSeconds']>[0]): number {
  return (channel.renderer ?? channel.upstream)!.estimateSeconds(job);
}
