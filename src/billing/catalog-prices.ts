import type { CatalogBillingRule } from '../contract/catalog/entry.ts';

/**
 * Default prices for the catalog models (CONTRACT §9.6). EvoLink's files state almost no figures,
 * so these are placeholders an operator should set (README "Prices"): a per-second base per family
 * at 720p, scaled by quality, times the default length for per-call models. The few relations
 * the files do state are kept (wan3.0 480p ×1 / 720p ×2 / 1080p ×4; sora-2-pro 1080p ×1.667;
 * kling-o3-video-edit 1080p ×1.334).
 */
const FAMILY_BASE: Readonly<Record<string, number>> = {
  wan: 8.6, happyhorse: 17.9, seedance: 10, kling: 12, minimax: 9, veo: 20, sora: 15, grok: 6, gemini: 10, other: 8,
};

const QUALITY_FACTOR: Readonly<Record<string, number>> = { '480p': 0.5, '512p': 0.6, '720p': 1, '768p': 1.1, '1080p': 1.7, '2k': 2.5, '4k': 4 };

const MODEL_FACTORS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'wan3.0-text-to-video': { '480p': 0.5, '720p': 1, '1080p': 2 },
  'wan3.0-image-to-video': { '480p': 0.5, '720p': 1, '1080p': 2 },
  'wan3.0-reference-video': { '480p': 0.5, '720p': 1, '1080p': 2 },
  'sora-2-pro-preview': { '720p': 1, '1080p': 1.667 },
  'kling-o3-video-edit': { '720p': 1, '1080p': 1.334 },
};

export type CatalogPriceInput = { id: string; family: string; rule: CatalogBillingRule; qualities: readonly string[]; defaultSeconds: number };

/** A model's default price entry: its rule and credits per second (per call for per_call) for each quality it takes. */
export function defaultCatalogPrice(model: CatalogPriceInput): { rule: CatalogBillingRule } & Record<string, number | CatalogBillingRule> {
  const base = FAMILY_BASE[model.family] ?? FAMILY_BASE.other;
  const perCall = model.rule === 'per_call' ? model.defaultSeconds : 1;
  const prices: Record<string, number> = {};
  for (const quality of model.qualities) {
    const factor = MODEL_FACTORS[model.id]?.[quality] ?? QUALITY_FACTOR[quality] ?? 1;
    prices[quality] = Math.round(base * factor * perCall * 100) / 100;
  }
  return { rule: model.rule, ...prices };
}
