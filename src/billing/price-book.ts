import { z } from 'zod';
import type { Quality } from '../contract/output-size.ts';
import { creditsToMicro } from './money.ts';

export const BILLING_RULES = ['per_second', 'per_call'] as const;
export type BillingRule = (typeof BILLING_RULES)[number];

const price = z.number().min(0);
const priceEntry = z.strictObject({ rule: z.enum(BILLING_RULES).default('per_second'), '720p': price, '1080p': price });
export type PriceEntry = z.infer<typeof priceEntry>;

/** The `prices` section of the config file: model id → rule and credits per second (or call). */
export const priceOverridesSchema = z.record(z.string(), priceEntry);

/** Default prices in credits (= US cents) per output-billed second (CONTRACT §5). */
export const DEFAULT_PRICES: Readonly<Record<string, PriceEntry>> = Object.freeze({
  'wan2.7-text-to-video': { rule: 'per_second', '720p': 8.6, '1080p': 14.4 },
  'wan2.7-image-to-video': { rule: 'per_second', '720p': 8.6, '1080p': 14.4 },
  'wan2.7-video-edit': { rule: 'per_second', '720p': 8.6, '1080p': 14.4 },
  'happyhorse-1.0-video-edit': { rule: 'per_second', '720p': 17.9, '1080p': 31.8 },
});

export type Quote = { rule: BillingRule; micro: number };

/** Prices for each model × quality: the defaults with the operator's overrides on top. */
export class PriceBook {
  private readonly entries: Record<string, PriceEntry>;

  constructor(overrides: Record<string, PriceEntry> = {}) {
    this.entries = { ...DEFAULT_PRICES, ...overrides };
  }

  /** A model's rule and credits per quality, as the operator set them; undefined for a model without a price. */
  entry(model: string): PriceEntry | undefined {
    return this.entries[model];
  }

  /** The credits (in micro-credits) a task of `billedSeconds` costs. */
  quote(model: string, quality: Quality, billedSeconds: number): Quote {
    const entry = this.entries[model];
    if (!entry) throw new Error(`no price for model ${model}`);
    const unit = creditsToMicro(entry[quality]);
    return { rule: entry.rule, micro: entry.rule === 'per_call' ? unit : unit * billedSeconds };
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
