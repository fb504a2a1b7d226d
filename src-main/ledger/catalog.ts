import { readCsv } from '../platform/csv.js';
import type { AgentDatabase } from '../db/agent-database.js';

export type CatalogItem = { sku: string; name: string | null; barcode: string | null };

/**
 * The item catalog: which SKUs are known. A sale of an unknown SKU is still captured (promise 1) and raises an
 * `unknown_sku` exception. With no catalog configured every SKU counts as known.
 */
export class Catalog {
  readonly #db: AgentDatabase;
  #skus: Set<string> | null = null;

  constructor(db: AgentDatabase, isEnabled: boolean) {
    this.#db = db;
    if (isEnabled) this.#skus = new Set(db.all(db.query.selectFrom('items').select('sku')).map((r) => r.sku));
  }

  get isEnabled(): boolean {
    return this.#skus !== null;
  }

  has(sku: string): boolean {
    return this.#skus === null || this.#skus.has(sku);
  }

  /** Adds or updates items (by SKU) and enables the check. Returns how many were written. */
  upsert(items: readonly CatalogItem[]): number {
    const put = this.#db.sqlite.prepare(
      `INSERT INTO items (sku, name, barcode) VALUES (?, ?, ?)
       ON CONFLICT (sku) DO UPDATE SET name = excluded.name, barcode = excluded.barcode`,
    );
    this.#db.transaction(() => {
      for (const item of items) put.run(item.sku, item.name, item.barcode);
    });
    this.#skus ??= new Set();
    for (const item of items) this.#skus.add(item.sku);
    return items.length;
  }

  /**
   * Adds (or updates) one item by hand. Unlike `upsert` it does not turn the check on: with no catalog configured
   * every SKU stays known. The SKU counts as known from the next capture on.
   */
  add(item: CatalogItem): void {
    this.#db.sqlite
      .prepare(
        `INSERT INTO items (sku, name, barcode) VALUES (?, ?, ?)
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, barcode = excluded.barcode`,
      )
      .run(item.sku, item.name, item.barcode);
    this.#skus?.add(item.sku);
  }

  /** The SKU that has this barcode, if any. */
  skuOfBarcode(barcode: string): string | null {
    return (
      this.#db.first(this.#db.query.selectFrom('items').select('sku').where('barcode', '=', barcode).limit(1))
        ?.sku ?? null
    );
  }

  /** Finds an item by SKU or barcode. */
  find(skuOrBarcode: string): CatalogItem | undefined {
    return this.#db.first(
      this.#db.query
        .selectFrom('items')
        .selectAll()
        .where((eb) => eb.or([eb('sku', '=', skuOrBarcode), eb('barcode', '=', skuOrBarcode)]))
        .limit(1),
    );
  }
}

/**
 * Reads a catalog CSV with a header row: `sku` (required), `name`, `barcode` (optional); comma or semicolon.
 * Throws naming the line of the first bad row.
 */
export function parseCatalogCsv(text: string, label: string): CatalogItem[] {
  const rows = readCsv(text);
  if (rows.length > 0 && !('sku' in rows[0]!.record))
    throw new Error(`${label}: the header has no "sku" column`);
  return rows.map(({ record, line }) => {
    const sku = record.sku ?? '';
    if (sku === '' || sku.length > 255)
      throw new Error(`${label} line ${line}: sku must be 1 to 255 characters`);
    return { sku, name: record.name || null, barcode: record.barcode || null };
  });
}
