/** The engines a channel may name, and what the config needs for each (data the config check reads). */
export const ENGINE_NAMES = ['local', 'dashscope', 'fal', 'comfyui', 'evolink'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

type CatalogEntry = {
  needsBaseUrl: boolean;
  /** Default upstream id per model; 'any' = the same ids; null = each must be mapped (to a workflow). */
  models: Readonly<Record<string, string>> | 'any' | null;
};

export const ENGINE_CATALOG: Readonly<Record<EngineName, CatalogEntry>> = Object.freeze({
  local: { needsBaseUrl: false, models: 'any' },
  // UPSTREAMS.md §0: the first-party ids (note "videoedit" without a hyphen).
  dashscope: {
    needsBaseUrl: true,
    models: {
      'wan2.7-text-to-video': 'wan2.7-t2v',
      'wan2.7-image-to-video': 'wan2.7-i2v',
      'wan2.7-video-edit': 'wan2.7-videoedit',
      'happyhorse-1.0-video-edit': 'happyhorse-1.0-video-edit',
    },
  },
  // UPSTREAMS.md §5.3: fal has no Wan 2.7 video-edit endpoint.
  fal: {
    needsBaseUrl: false,
    models: {
      'wan2.7-text-to-video': 'fal-ai/wan/v2.7/text-to-video',
      'wan2.7-image-to-video': 'fal-ai/wan/v2.7/image-to-video',
      'happyhorse-1.0-video-edit': 'alibaba/happy-horse/video-edit',
    },
  },
  comfyui: { needsBaseUrl: true, models: null },
  evolink: { needsBaseUrl: true, models: 'any' },
});
