import {
  barcodeProblem,
  currencyProblem,
  itemsCursor,
  priceAmountProblem,
  type ItemPrice,
  type ItemView,
  type ItemsPage,
} from '../../shared/items.js';
import type { AgentDatabase } from '../db/agent-database.js';

export type CatalogItem = { sku: string; name: string | null; barcode: string | null };

/**
 * A change to one item as a source sees it. A field left undefined is one the source does not give: what is
 * stored for it stays. `barcodes` given replaces the item's barcodes; `prices` given sets those lists (others
 * stay).
 */
export type ItemChange = Readonly<{
  sku: string;
  name?: string | null;
  barcodes?: readonly string[];
  unit?: string | null;
  isActive?: boolean;
  prices?: readonly ItemPrice[];
}>;

/** A change refused: which one of the batch (its index), the item and the field at fault, in words. */
export type ItemRefusal = Readonly<{ index: number; sku: string; field: string; message: string }>;

/** What `apply` did: items stored (changed), unchanged (nothing new), refused (nothing of them stored). */
export type ApplyReport = { stored: number; unchanged: number; refused: ItemRefusal[] };

/** Everything stored about one item, for its page in the UI. */
export type ItemRecord = ItemView &
  Readonly<{
    source: string;
    /** Which source set each field, and when (epoch ms). */
    origins: Readonly<Record<string, Readonly<{ source: string; at: number }>>>;
    /** Each price with the source that set it and when. */
    priceSources: readonly Readonly<{ list: string; source: string; updatedAt: number }>[];
  }>;

type ItemRow = {
  sku: string;
  name: string | null;
  barcode: string | null;
  unit: string | null;
  is_active: number;
  source: string;
  origins: string;
  change_seq: number;
  updated_at: number;
};
type PriceRow = {
  sku: string;
  list: string;
  amount: string;
  currency: string;
  source: string;
  updated_at: number;
};

/** Canonical text of a decimal amount (`09.90` → `9.90`), so a re-read of the same price is no change. */
function canonicalAmount(amount: string): string {
  const text = amount.trim();
  const [whole = '0', fraction] = text.split('.');
  const w = whole.replace(/^0+(?=[0-9])/, '');
  return fraction === undefined ? w : `${w}.${fraction}`;
}

/**
 * The item master: the store's offline copy of its items, fed by sources (the catalog CSV, a Tryton pull, the
 * workbench), served to the tills (`page`) and checked by capture (`has`: a sale of an unknown SKU is still
 * captured, promise 1, and raises `unknown_sku`). With no catalog configured every SKU counts as known.
 *
 * Every stored change of an item takes the next change number (`items.change_seq`, the tills' cursor), records
 * which source set each field and when, and writes a history row (`item_history`) of what changed from what.
 * Nothing is deleted: an item its source deactivates stays, inactive. A change that would bring bad data (a price
 * that is not a decimal or is negative, an unknown currency, a barcode another item has) is refused naming the
 * item and field, and nothing of it is stored.
 */
export class Catalog {
  readonly #db: AgentDatabase;
  #skus: Set<string> | null = null;
  readonly #ownerOf;
  readonly #barcodesOf;
  readonly #itemRow;
  readonly #head;
  readonly #write;

  readonly #priceOf;
  readonly #onPricesChanged: ((sku: string, lists: ReadonlySet<string>, now: number) => void) | null;

  /**
   * `onPricesChanged`: called inside the transaction that stores a change of an item's prices, with the lists
   * whose price changed (the price marks of the destinations taking them are bumped there, so a price is never
   * stored without its updates queued).
   */
  constructor(
    db: AgentDatabase,
    isEnabled: boolean,
    options: Readonly<{
      onPricesChanged?: (sku: string, lists: ReadonlySet<string>, now: number) => void;
    }> = {},
  ) {
    this.#db = db;
    this.#onPricesChanged = options.onPricesChanged ?? null;
    this.#priceOf = db.sqlite.prepare<[string, string], ItemPrice>(
      'SELECT list, amount, currency FROM item_prices WHERE sku = ? AND list = ?',
    );
    // Prepared once: a catalog of 100,000 items is checked and stored row by row.
    this.#ownerOf = db.sqlite.prepare<[string], { sku: string }>(
      'SELECT sku FROM item_barcodes WHERE barcode = ?',
    );
    this.#barcodesOf = db.sqlite.prepare<[string], { barcode: string }>(
      'SELECT barcode FROM item_barcodes WHERE sku = ? ORDER BY position, barcode',
    );
    this.#itemRow = db.sqlite.prepare<[string], ItemRow>('SELECT * FROM items WHERE sku = ?');
    this.#head = db.sqlite.prepare<[], { seq: number | null }>('SELECT MAX(change_seq) AS seq FROM items');
    this.#write = {
      pricesOf: db.sqlite.prepare<[string], PriceRow>('SELECT * FROM item_prices WHERE sku = ?'),
      item: db.sqlite.prepare(
        `INSERT INTO items (sku, name, barcode, unit, is_active, source, origins, change_seq, updated_at)
         VALUES (@sku, @name, @barcode, @unit, @isActive, @source, @origins, @seq, @now)
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, barcode = excluded.barcode, unit = excluded.unit,
           is_active = excluded.is_active, source = excluded.source, origins = excluded.origins,
           change_seq = excluded.change_seq, updated_at = excluded.updated_at`,
      ),
      dropBarcodes: db.sqlite.prepare('DELETE FROM item_barcodes WHERE sku = ?'),
      barcode: db.sqlite.prepare(
        `INSERT INTO item_barcodes (barcode, sku, position, source, added_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (barcode) DO UPDATE SET sku = excluded.sku, position = excluded.position,
           source = excluded.source, added_at = excluded.added_at`,
      ),
      price: db.sqlite.prepare(
        `INSERT INTO item_prices (sku, list, amount, currency, source, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (sku, list) DO UPDATE SET amount = excluded.amount, currency = excluded.currency,
           source = excluded.source, updated_at = excluded.updated_at`,
      ),
      history: db.sqlite.prepare(
        'INSERT INTO item_history (sku, change_seq, source, at, changes) VALUES (?, ?, ?, ?, ?)',
      ),
    };
    if (isEnabled) this.#skus = new Set(db.all(db.query.selectFrom('items').select('sku')).map((r) => r.sku));
  }

  get isEnabled(): boolean {
    return this.#skus !== null;
  }

  has(sku: string): boolean {
    return this.#skus === null || this.#skus.has(sku);
  }

  /**
   * Turns the SKU check on: a source has given the whole catalog (the CSV loaded, the ERP's first pull done).
   * Not before, or every sale in the minutes of a first pull would raise `unknown_sku` for a real item.
   */
  enable(): void {
    this.#skus ??= new Set(this.#db.all(this.#db.query.selectFrom('items').select('sku')).map((r) => r.sku));
  }

  /**
   * Stores changes from one source. Each change is checked first; a refused one stores nothing of itself.
   * `isAllOrNothing`: one refusal refuses the whole batch (a CSV file: fix it and load it again), else the good
   * changes are stored (a page pulled from the ERP: one bad product must not hold the others). All stored in one
   * transaction. `isCheckOnly`: report what would be refused and store nothing. It does not turn the SKU check on:
   * its source does, once it has given the whole catalog (`enable`). `keepFieldsOf`: fields last set by one of
   * these sources are left as they are (the catalog CSV, read at every start, must not undo what the ERP, the
   * item master, changed since).
   *
   * @example catalog.apply([{ sku: 'MUG', name: 'Mug', prices: [{ list: 'retail', amount: '9.99', currency: 'EUR' }] }], 'csv')
   */
  apply(
    changes: readonly ItemChange[],
    source: string,
    isAllOrNothing = false,
    isCheckOnly = false,
    keepFieldsOf: ReadonlySet<string> = new Set(),
  ): ApplyReport {
    if (keepFieldsOf.size > 0) changes = changes.map((c) => this.#withoutKept(c, keepFieldsOf));
    const report: ApplyReport = { stored: 0, unchanged: 0, refused: [] };
    const good: ItemChange[] = [];
    this.#db.transaction(() => {
      const claimed = new Map<string, string>();
      const seen = new Set<string>();
      changes.forEach((change, index) => {
        const problem = this.#check(change, claimed, changes);
        if (problem === null && seen.has(change.sku))
          report.refused.push({
            index,
            sku: change.sku,
            field: 'sku',
            message: `item ${change.sku} is listed twice`,
          });
        else if (problem) report.refused.push({ index, sku: change.sku, ...problem });
        else {
          good.push(change);
          for (const b of change.barcodes ?? []) claimed.set(b, change.sku);
        }
        seen.add(change.sku);
      });
      if (isCheckOnly || (isAllOrNothing && report.refused.length > 0)) return;
      const now = Date.now();
      for (const change of good) {
        if (this.#store(change, source, now)) report.stored += 1;
        else report.unchanged += 1;
      }
    });
    if (!isCheckOnly && !(isAllOrNothing && report.refused.length > 0))
      for (const change of good) this.#skus?.add(change.sku);
    return report;
  }

  /**
   * Adds (or updates) one item by hand. Unlike `apply` it does not turn the check on: with no catalog configured
   * every SKU stays known. The SKU counts as known from the next capture on. Throws naming the field when refused.
   */
  add(item: CatalogItem, source = 'workbench'): void {
    const change: ItemChange = {
      sku: item.sku,
      name: item.name,
      ...(item.barcode !== null ? { barcodes: [...this.barcodesOf(item.sku), item.barcode] } : {}),
    };
    this.#db.transaction(() => {
      const problem = this.#check(change, new Map(), [change]);
      if (problem) throw new Error(problem.message);
      this.#store(change, source, Date.now());
    });
    this.#skus?.add(item.sku);
  }

  /** The SKU that has this barcode, if any. */
  skuOfBarcode(barcode: string): string | null {
    return this.#ownerOf.get(barcode)?.sku ?? null;
  }

  /** The barcodes of an item, oldest first. */
  barcodesOf(sku: string): string[] {
    return this.#barcodesOf.all(sku).map((r) => r.barcode);
  }

  /** Finds an item by SKU or any of its barcodes. */
  find(skuOrBarcode: string): CatalogItem | undefined {
    const sku = this.#db.sqlite
      .prepare<[string, string], { sku: string }>(
        'SELECT sku FROM items WHERE sku = ? UNION ALL SELECT sku FROM item_barcodes WHERE barcode = ? LIMIT 1',
      )
      .get(skuOrBarcode, skuOrBarcode)?.sku;
    if (sku === undefined) return undefined;
    return this.#db.first(
      this.#db.query.selectFrom('items').select(['sku', 'name', 'barcode']).where('sku', '=', sku),
    );
  }

  /** Everything stored about one item, or null. */
  record(sku: string): ItemRecord | null {
    const row = this.#itemRow.get(sku);
    if (row === undefined) return null;
    const prices = this.#pricesOf([sku]).get(sku) ?? [];
    return {
      ...this.#view(row, this.barcodesOf(sku), prices),
      source: row.source,
      origins: JSON.parse(row.origins) as ItemRecord['origins'],
      priceSources: prices.map((p) => ({ list: p.list, source: p.source, updatedAt: p.updated_at })),
    };
  }

  /** The stored changes of an item, newest first: when, which source, each field's value before and after. */
  history(
    sku: string,
    limit = 20,
  ): { at: number; source: string; fields: { field: string; before: unknown; after: unknown }[] }[] {
    return this.#db.sqlite
      .prepare<[string, number], { at: number; source: string; changes: string }>(
        'SELECT at, source, changes FROM item_history WHERE sku = ? ORDER BY id DESC LIMIT ?',
      )
      .all(sku, limit)
      .map((r) => ({
        at: r.at,
        source: r.source,
        fields: Object.entries(JSON.parse(r.changes) as Record<string, [unknown, unknown]>).map(
          ([field, [before, after]]) => ({ field, before, after }),
        ),
      }));
  }

  /** An item's price on one list, or null when it has none there. */
  price(sku: string, list: string): ItemPrice | null {
    return this.#priceOf.get(sku, list) ?? null;
  }

  /** The change number of the newest stored change (0: none). */
  head(): number {
    return this.#head.get()?.seq ?? 0;
  }

  /**
   * Items changed after change number `after`, oldest change first, at most `limit`: the tills' page
   * (`GET /api/v1/items`). `next` is the cursor of the last item served (or `after` when none was), so asking
   * with it again serves only what changed since.
   */
  page(after: number, limit: number): ItemsPage {
    const rows = this.#db.sqlite
      .prepare<[number, number], ItemRow>(
        'SELECT * FROM items WHERE change_seq > ? ORDER BY change_seq LIMIT ?',
      )
      .all(after, limit + 1);
    const more = rows.length > limit;
    const served = more ? rows.slice(0, limit) : rows;
    const skus = served.map((r) => r.sku);
    const prices = this.#pricesOf(skus);
    const barcodes = new Map<string, string[]>();
    if (skus.length > 0) {
      const found = this.#db.sqlite
        .prepare(
          `SELECT sku, barcode FROM item_barcodes WHERE sku IN (SELECT value FROM json_each(?))
           ORDER BY position, barcode`,
        )
        .all(JSON.stringify(skus)) as { sku: string; barcode: string }[];
      for (const b of found) barcodes.set(b.sku, [...(barcodes.get(b.sku) ?? []), b.barcode]);
    }
    return {
      items: served.map((r) => this.#view(r, barcodes.get(r.sku) ?? [], prices.get(r.sku) ?? [])),
      next: itemsCursor(served.at(-1)?.change_seq ?? after),
      more,
    };
  }

  #view(row: ItemRow, barcodes: readonly string[], prices: readonly PriceRow[]): ItemView {
    return {
      sku: row.sku,
      name: row.name,
      barcodes,
      unit: row.unit,
      active: row.is_active === 1,
      prices: prices.map((p) => ({ list: p.list, amount: p.amount, currency: p.currency })),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }

  #pricesOf(skus: readonly string[]): Map<string, PriceRow[]> {
    const bySku = new Map<string, PriceRow[]>();
    if (skus.length === 0) return bySku;
    const rows = this.#db.sqlite
      .prepare('SELECT * FROM item_prices WHERE sku IN (SELECT value FROM json_each(?)) ORDER BY sku, list')
      .all(JSON.stringify(skus)) as PriceRow[];
    for (const p of rows) bySku.set(p.sku, [...(bySku.get(p.sku) ?? []), p]);
    return bySku;
  }

  /**
   * What is wrong with a change, naming the field, or null. `claimed`: barcodes taken by earlier changes of the
   * same batch; `batch`: the whole batch, whose own barcode changes free barcodes its items give up.
   */
  #check(
    change: ItemChange,
    claimed: ReadonlyMap<string, string>,
    batch: readonly ItemChange[],
  ): { field: string; message: string } | null {
    const sku = change.sku;
    if (sku === '' || sku.length > 255) return { field: 'sku', message: 'sku must be 1 to 255 characters' };
    const item = `item ${sku}`;
    if (change.name != null && change.name.length > 255)
      return { field: 'name', message: `${item}: name must be at most 255 characters` };
    if (change.unit != null && change.unit.length > 32)
      return { field: 'unit', message: `${item}: unit must be at most 32 characters` };
    const lists = new Set<string>();
    for (const price of change.prices ?? []) {
      if (price.list === '' || price.list.length > 64)
        return { field: 'list', message: `${item}: price list must be 1 to 64 characters` };
      if (lists.has(price.list))
        return { field: 'list', message: `${item}: two prices for list "${price.list}"` };
      lists.add(price.list);
      const amount = priceAmountProblem(price.amount);
      if (amount) return { field: 'price', message: `${item}: price ${amount}` };
      const currency = currencyProblem(price.currency);
      if (currency) return { field: 'currency', message: `${item}: currency ${currency}` };
    }
    const own = new Set<string>();
    for (const barcode of change.barcodes ?? []) {
      const problem = barcodeProblem(barcode);
      if (problem) return { field: 'barcode', message: `${item}: barcode ${problem}` };
      if (own.has(barcode))
        return { field: 'barcode', message: `${item}: barcode ${barcode} is listed twice` };
      own.add(barcode);
      const taken = claimed.get(barcode);
      if (taken !== undefined && taken !== sku)
        return { field: 'barcode', message: `${item}: barcode ${barcode} is also given to item ${taken}` };
      const owner = this.skuOfBarcode(barcode);
      if (owner !== null && owner !== sku) {
        // Free only when the same batch gives the owner new barcodes without this one.
        const ownerChange = batch.find((c) => c.sku === owner && c.barcodes !== undefined);
        if (ownerChange === undefined || ownerChange.barcodes!.includes(barcode))
          return {
            field: 'barcode',
            message: `${item}: barcode ${barcode} is already the barcode of item ${owner}`,
          };
      }
    }
    return null;
  }

  /** The change without the fields whose stored value was last set by one of `keep`'s sources. */
  #withoutKept(change: ItemChange, keep: ReadonlySet<string>): ItemChange {
    const row = this.#itemRow.get(change.sku);
    if (row === undefined) return change;
    const origins = JSON.parse(row.origins) as Record<string, { source: string } | undefined>;
    const isKept = (field: string) => keep.has(origins[field]?.source ?? '');
    const kept: { -readonly [K in keyof ItemChange]: ItemChange[K] } = { ...change };
    if (isKept('name')) delete kept.name;
    if (isKept('unit')) delete kept.unit;
    if (isKept('active')) delete kept.isActive;
    if (isKept('barcodes')) delete kept.barcodes;
    if (change.prices !== undefined) kept.prices = change.prices.filter((p) => !isKept(`price:${p.list}`));
    return kept;
  }

  /** Writes one checked change; returns whether anything changed. */
  #store(change: ItemChange, source: string, now: number): boolean {
    const row = this.#itemRow.get(change.sku);
    const diff: Record<string, [unknown, unknown]> = {};
    const field = <T>(name: string, before: T, after: T | undefined) => {
      if (after !== undefined && JSON.stringify(before) !== JSON.stringify(after))
        diff[name] = [before, after];
    };
    field('name', row?.name ?? null, change.name);
    field('unit', row?.unit ?? null, change.unit);
    if (row === undefined) diff.active = [null, change.isActive ?? true];
    else field('active', row.is_active === 1, change.isActive);
    const oldBarcodes = row === undefined ? [] : this.barcodesOf(change.sku);
    if (change.barcodes !== undefined) {
      const before = [...oldBarcodes].sort();
      const after = [...change.barcodes].sort();
      if (JSON.stringify(before) !== JSON.stringify(after))
        diff.barcodes = [oldBarcodes, [...change.barcodes]];
    }
    const oldPrices = new Map(this.#write.pricesOf.all(change.sku).map((p) => [p.list, p]));
    const newPrices: ItemPrice[] = [];
    for (const p of change.prices ?? []) {
      const amount = canonicalAmount(p.amount);
      const old = oldPrices.get(p.list);
      if (old?.amount === amount && old.currency === p.currency) continue;
      newPrices.push({ list: p.list, amount, currency: p.currency });
      diff[`price:${p.list}`] = [old ? `${old.amount} ${old.currency}` : null, `${amount} ${p.currency}`];
    }
    if (row === undefined) diff.sku ??= [null, change.sku];
    if (Object.keys(diff).length === 0) return false;

    const seq = this.head() + 1;
    const origins = JSON.parse(row?.origins ?? '{}') as Record<string, { source: string; at: number }>;
    for (const name of Object.keys(diff)) if (name !== 'sku') origins[name] = { source, at: now };
    const barcodes = change.barcodes ?? oldBarcodes;
    this.#write.item.run({
      sku: change.sku,
      name: change.name !== undefined ? change.name : (row?.name ?? null),
      barcode: barcodes[0] ?? null,
      unit: change.unit !== undefined ? change.unit : (row?.unit ?? null),
      isActive: (change.isActive ?? (row === undefined ? true : row.is_active === 1)) ? 1 : 0,
      source,
      origins: JSON.stringify(origins),
      seq,
      now,
    });
    if (diff.barcodes) {
      this.#write.dropBarcodes.run(change.sku);
      barcodes.forEach((b, i) => this.#write.barcode.run(b, change.sku, i, source, now));
    }
    for (const p of newPrices) this.#write.price.run(change.sku, p.list, p.amount, p.currency, source, now);
    if (newPrices.length > 0) this.#onPricesChanged?.(change.sku, new Set(newPrices.map((p) => p.list)), now);
    this.#write.history.run(change.sku, seq, source, now, JSON.stringify(diff));
    return true;
  }
}
