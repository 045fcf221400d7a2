import type { Kysely } from 'kysely';
import { type Actor, recordAudit } from '../admin/audit.ts';
import { invalidField } from '../contract/errors.ts';
import { MODELS } from '../contract/models/index.ts';
import type { Store } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import { lockForSetup } from '../store/dialect.ts';
import { type BillingRule, DEFAULT_PRICES, type PriceBook, type PriceEntry } from './price-book.ts';

type Q = Kysely<Database>;

/** A price as the admin API shows it (CONTRACT §10.2): the rule, credits per quality, the version it was set in. */
export type PriceView = { model: string; rule: string; version: number; updated: number | null } & Record<string, number | string | null>;

/**
 * The live price book (CONTRACT §10.2): prices the operator set live in the store, on top of the
 * defaults. On the first start the config file's `prices` seed the store; from then on they are
 * changed with PUT /admin/v1/prices/{model}. Every process reloads within `refreshMs` of a change.
 */
export class LivePrices {
  private readonly book: PriceBook;
  private readonly db: Q;
  private timer: NodeJS.Timeout | null = null;

  constructor(book: PriceBook, db: Q) {
    this.book = book;
    this.db = db;
  }

  /**
   * Seeds an empty store from the config's prices (once, whichever process gets there first), then
   * loads the book. Answers a warning when the config names prices the store's book no longer has.
   */
  async open(store: Store, configPrices: Record<string, PriceEntry>, now: number): Promise<string | undefined> {
    if (Object.keys(configPrices).length > 0) {
      await store.write(async (trx) => {
        await lockForSetup(trx, 'vidgate price book');
        if (await trx.selectFrom('prices').select('model').limit(1).executeTakeFirst()) return;
        let version = 0;
        for (const [model, entry] of Object.entries(configPrices)) await trx.insertInto('prices').values(priceRow(model, entry, ++version, now)).execute();
      });
    }
    await this.reload();
    const differing = Object.entries(configPrices).filter(([model, entry]) => Object.entries(entry).some(([key, value]) => this.book.entry(model)?.[key] !== value));
    if (differing.length === 0) return undefined;
    return `the config file's prices for ${differing.map(([model]) => model).slice(0, 3).join(', ')}${differing.length > 3 ? ' …' : ''} are not used: ` +
      'they seeded the price book once, which now lives in the store; change a price with PUT /admin/v1/prices/{model}';
  }

  /** Asks the store for its version every `refreshMs` and reloads when it moved. */
  watch(refreshMs: number): void {
    this.timer = setInterval(() => void this.refresh().catch(() => {}), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    const row = await this.db.selectFrom('prices').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
    if (Number(row?.v ?? 0) !== this.book.version) await this.reload();
  }

  private async reload(): Promise<void> {
    const rows = await this.db.selectFrom('prices').selectAll().execute();
    const overrides = Object.fromEntries(rows.map((r) => [r.model, { rule: r.rule as BillingRule, ...JSON.parse(r.prices_json) } as PriceEntry]));
    this.book.replace(overrides, rows.reduce((max, r) => Math.max(max, Number(r.version)), 0));
  }

  /** Every served model's price now: the operator's, else the default. */
  async list(): Promise<PriceView[]> {
    const rows = new Map((await this.db.selectFrom('prices').selectAll().execute()).map((r) => [r.model, r]));
    return Object.keys(MODELS).map((model) => {
      const { rule, ...byQuality } = this.book.entry(model)!;
      const row = rows.get(model);
      return { model, rule, ...byQuality, version: row ? Number(row.version) : 0, updated: row ? Math.floor(Number(row.updated_at) / 1000) : null } as PriceView;
    });
  }

  /** Sets a model's price (the qualities it names; the others keep theirs): a new version, with its audit row, in one transaction. */
  async set(store: Store, actor: Actor, model: string, change: { rule: BillingRule } & Record<string, unknown>, now: number): Promise<PriceView> {
    const qualities = MODELS[model]?.pricing?.qualities ?? Object.keys(DEFAULT_PRICES[model] ?? {}).filter((k) => k !== 'rule');
    const { rule, ...byQuality } = change;
    for (const [quality, credits] of Object.entries(byQuality)) {
      if (!qualities.includes(quality)) throw invalidField(quality, `${model} has no quality ${quality}; it takes ${qualities.join(', ')}`);
      if (typeof credits !== 'number' || !Number.isFinite(credits) || credits < 0) throw invalidField(quality, 'must be a number of credits, 0 or more');
    }
    await store.write(async (trx) => {
      await lockForSetup(trx, 'vidgate price book');
      const current = await trx.selectFrom('prices').selectAll().where('model', '=', model).executeTakeFirst();
      const before = this.book.entry(model);
      const merged = { ...before, ...(current ? JSON.parse(current.prices_json) : {}), ...byQuality, rule } as PriceEntry;
      const top = await trx.selectFrom('prices').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
      const row = priceRow(model, merged, Number(top?.v ?? 0) + 1, now);
      if (current) await trx.updateTable('prices').set(row).where('model', '=', model).execute();
      else await trx.insertInto('prices').values(row).execute();
      await recordAudit(trx, { actor, action: 'price.update', target: `price:${model}`, before, after: merged, now });
    });
    await this.reload();
    return (await this.list()).find((p) => p.model === model)!;
  }
}

function priceRow(model: string, entry: PriceEntry, version: number, now: number) {
  const { rule, ...byQuality } = entry;
  return { model, rule: rule ?? 'per_second', prices_json: JSON.stringify(byQuality), version, updated_at: now };
}
