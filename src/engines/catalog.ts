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
    },
  },
  // UPSTREAMS.md §5.3: fal has no Wan 2.7 video-edit endpoint.
  // fal's cancel reaches requests still IN_QUEUE; a running one finishes and is billed.
  fal: {
    needsBaseUrl: false,
    cancelsRunning: false,
    models: {
      'wan2.7-text-to-video': 'fal-ai/wan/v2.7/text-to-video',
      'wan2.7-image-to-video': 'fal-ai/wan/v2.7/image-to-video',
      'happyhorse-1.0-video-edit': 'alibaba/happy-horse/video-edit',
    },
  },
  comfyui: { needsBaseUrl: true, models: null, cancelsRunning: true }, // /interrupt stops the running prompt
  // The service's own task_info.can_cancel decides; without one, a running job is assumed to bill.
  evolink: { needsBaseUrl: true, models: 'any', cancelsRunning: false },
});
