import { FAL_ENDPOINTS } from './fal/endpoints.ts';

/** The engines a channel may name, and what the config needs for each (data the config check reads). */
export const ENGINE_NAMES = ['local', 'dashscope', 'fal', 'comfyui', 'evolink'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

type CatalogEntry = {
  needsBaseUrl: boolean;
  /** Default upstream id per model; 'any' = the same ids; null = each must be mapped (to a workflow). */
  models: Readonly<Record<string, string>> | 'any' | null;
  /** Whether the service can still stop a job once it runs (else the task turns uncancellable then: CONTRACT §8.7). */
  cancelsRunning: boolean;
};

export const ENGINE_CATALOG: Readonly<Record<EngineName, CatalogEntry>> = Object.freeze({
  local: { needsBaseUrl: false, models: 'any', cancelsRunning: true },
  // UPSTREAMS.md §0: the first-party ids (note "videoedit" without a hyphen).
  // DashScope cancels PENDING tasks only (UPSTREAMS.md §1).
  dashscope: {
    needsBaseUrl: true,
    cancelsRunning: false,
    models: {
      'wan2.7-text-to-video': 'wan2.7-t2v',
      'wan2.7-image-to-video': 'wan2.7-i2v',
      'wan2.7-video-edit': 'wan2.7-videoedit',
      'happyhorse-1.0-video-edit': 'happyhorse-1.0-video-edit',
      // UPSTREAMS-2.md §2.1: the flat 2.5 / 2.6 ids, wan2.7 references, one wan3.0 model for all modes, HappyHorse by task.
      'wan2.5-text-to-video': 'wan2.5-t2v-preview',
      'wan2.5-image-to-video': 'wan2.5-i2v-preview',
      'wan2.6-text-to-video': 'wan2.6-t2v',
      'wan2.6-image-to-video': 'wan2.6-i2v',
      'wan2.6-image-to-video-flash': 'wan2.6-i2v-flash',
      'wan2.6-reference-video': 'wan2.6-r2v',
      'wan2.6-reference-video-flash': 'wan2.6-r2v-flash',
      'wan2.7-reference-video': 'wan2.7-r2v',
      'wan3.0-text-to-video': 'wan3.0-video',
      'wan3.0-image-to-video': 'wan3.0-video',
      'wan3.0-reference-video': 'wan3.0-video',
      'happyhorse-1.0-text-to-video': 'happyhorse-1.0-t2v',
      'happyhorse-1.0-image-to-video': 'happyhorse-1.0-i2v',
      'happyhorse-1.0-reference-to-video': 'happyhorse-1.0-r2v',
      'happyhorse-1.1-text-to-video': 'happyhorse-1.1-t2v',
      'happyhorse-1.1-image-to-video': 'happyhorse-1.1-i2v',
      'happyhorse-1.1-reference-to-video': 'happyhorse-1.1-r2v',
    },
  },
  // UPSTREAMS.md §5.3 and UPSTREAMS-2.md §3: the endpoints fal still lists, `{tier}` / `{mode}` filled per request.
  // fal's cancel reaches requests still IN_QUEUE; a running one finishes and is billed.
  fal: {
    needsBaseUrl: false,
    cancelsRunning: false,
    models: {
      'wan2.7-text-to-video': 'fal-ai/wan/v2.7/text-to-video',
      'wan2.7-image-to-video': 'fal-ai/wan/v2.7/image-to-video',
      'happyhorse-1.0-video-edit': 'alibaba/happy-horse/video-edit',
      ...FAL_ENDPOINTS,
    },
  },
  comfyui: { needsBaseUrl: true, models: null, cancelsRunning: true }, // /interrupt stops the running prompt
  // The service's own task_info.can_cancel decides; without one, a running job is assumed to bill.
  evolink: { needsBaseUrl: true, models: 'any', cancelsRunning: false },
});
