import { z } from 'zod';
import { MODELS } from '../contract/models/index.ts';
import { type Quality, SHORT_EDGE } from '../contract/output-size.ts';
import { defaultCatalogPrice } from './catalog-prices.ts';
import { creditsToMicro } from './money.ts';

/** per_token (gemini) is charged like per_second: tokens are not known before the video exists. */
export const BILLING_RULES = ['per_second', 'per_call', 'per_token'] as const;
export type BillingRule = (typeof BILLING_RULES)[number];

const price = z.number().min(0);
const qualityKey = z.enum(Object.keys(SHORT_EDGE) as [string, ...string[]], { error: `must be a quality: ${Object.keys(SHORT_EDGE).join(', ')}` });
const priceEntry = z
  .object({ rule: z.enum(BILLING_RULES).default('per_second') })
  .catchall(price)
  .superRefine((entry, context) => {
    for (const key of Object.keys(entry)) {
      if (key !== 'rule' && !qualityKey.safeParse(key).success) context.addIssue({ code: 'custom', path: [key], message: `is not a quality (${Object.keys(SHORT_EDGE).join(', ')})` });
    }
  });
export type PriceEntry = { rule: BillingRule } & Record<string, number | BillingRule>;

/** The `prices` section of the config file: model id → rule and credits per second (or call). */
export const priceOverridesSchema = z.record(z.string(), priceEntry);

/** Default prices in credits (= US cents) per output-billed second (CONTRACT §5). */
export const DEFAULT_PRICES: Readonly<Record<string, PriceEntry>> = Object.freeze({
  'wan2.7-text-to-video': { rule: 'per_second', '720p': 8.6, '1080p': 14.4 },
  'wan2.7-image-to-video': { rule: 'per_second', '720p': 8.6, '1080p': 14.4 },
  'wan2.7-video-edit': { rule: 'per_second', '720p': 8.6, '1080p': 14.4 },
  'happyhorse-1.0-video-edit': { rule: 'per_second', '720p': 17.9, '1080p': 31.8 },
  ...Object.fromEntries(
    Object.values(MODELS).filter((model) => model.pricing).map((model) => [model.id, defaultCatalogPrice({ id: model.id, family: model.family, ...model.pricing! })]),
  ),
});

export type Quote = { rule: BillingRule; micro: number; version: number };

/** Prices for each model × quality: the defaults with the operator's overrides on top. */
export class PriceBook {
  private entries: Record<string, PriceEntry> = {};
  /** The live book's version (0 = only defaults and config); tasks record the one they were quoted on. */
  version = 0;

  constructor(overrides: Record<string, PriceEntry> = {}) {
    this.replace(overrides, 0);
  }

  /** The defaults with `overrides` on top, as of `version` (the live book reloads this way). */
  replace(overrides: Record<string, PriceEntry>, version: number): void {
    // An override changes the qualities it names; the model's other qualities keep their defaults.
    const entries = { ...DEFAULT_PRICES };
    for (const [model, entry] of Object.entries(overrides)) entries[model] = { ...entries[model], ...entry };
    this.entries = entries;
    this.version = version;
  }

  /** A model's rule and credits per quality, as the operator set them; undefined for a model without a price. */
  entry(model: string): PriceEntry | undefined {
    return this.entries[model];
  }

  /** The credits (in micro-credits) a task of `billedSeconds` costs. */
  quote(model: string, quality: Quality, billedSeconds: number): Quote {
    const entry = this.entries[model];
    const perUnit = entry?.[quality];
    if (typeof perUnit !== 'number') throw new Error(`no price for model ${model} at ${quality}`);
    const unit = creditsToMicro(perUnit);
    return { rule: entry.rule, micro: entry.rule === 'per_call' ? unit : unit * billedSeconds, version: this.version };
  }
}

/**
 * What a finished task costs: a per-call price is its quote; a per-second one the quote's rate
 * times the seconds the engine billed, never more than was reserved.
 */
export function chargeFor(task: { billing_rule: string; credits_reserved_micro: number; billed_seconds: number }, billedSeconds: number): number {
  const reserved = Number(task.credits_reserved_micro);
  if (task.billing_rule === 'per_call' || task.billed_seconds <= 0) return reserved;
  return Math.min(reserved, Math.round((reserved * Math.max(0, billedSeconds)) / task.billed_seconds));
}
