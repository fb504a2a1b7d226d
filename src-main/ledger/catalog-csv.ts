import { readCsv } from '../platform/csv.js';
import type { ApplyReport, Catalog, ItemChange } from './catalog.js';

/** One bad row of a catalog CSV, named by line and column. */
export type CatalogRowError = Readonly<{ line: number; column: string; message: string }>;

const COLUMN_OF_FIELD: Readonly<Record<string, string>> = { list: 'price_list', active: 'active' };

/**
 * Reads a catalog CSV with a header row; comma or semicolon. Columns: `sku` (required), `name`, `barcode`
 * (several separated by `|`), `unit`, `active` (`true`/`false`, `yes`/`no`, `1`/`0`; default true), `price` (a
 * decimal like 9.99), `currency` (ISO 4217, required with a price) and `price_list` (default `retail`). Returns
 * the changes and each bad row's errors by line and column (the catalog's own checks, such as a barcode another
 * item has, are reported by `loadCatalogCsv`).
 */
export function parseCatalogCsv(text: string): {
  changes: ItemChange[];
  lines: number[];
  errors: CatalogRowError[];
} {
  const changes: ItemChange[] = [];
  const lines: number[] = [];
  const errors: CatalogRowError[] = [];
  let rows;
  try {
    rows = readCsv(text);
  } catch (error) {
    return { changes, lines, errors: [{ line: 1, column: 'file', message: (error as Error).message }] };
  }
  if (rows.length > 0 && !('sku' in rows[0]!.record))
    return {
      changes,
      lines,
      errors: [{ line: 1, column: 'sku', message: 'the header has no "sku" column' }],
    };
  for (const { record, line } of rows) {
    const sku = record.sku ?? '';
    const bad = (column: string, message: string) => errors.push({ line, column, message });
    if (sku === '' || sku.length > 255) {
      bad('sku', 'sku must be 1 to 255 characters');
      continue;
    }
    const activeText = (record.active ?? '').toLowerCase();
    const isActive = ['', 'true', 'yes', '1'].includes(activeText)
      ? true
      : ['false', 'no', '0'].includes(activeText)
        ? false
        : null;
    if (isActive === null) {
      bad('active', `item ${sku}: active must be true or false ("${record.active}")`);
      continue;
    }
    const price = record.price ?? '';
    const currency = record.currency ?? '';
    if (price !== '' && currency === '') {
      bad('currency', `item ${sku}: a price needs its currency`);
      continue;
    }
    if (price === '' && currency !== '') {
      bad('price', `item ${sku}: a currency without a price`);
      continue;
    }
    const barcodes = (record.barcode ?? '')
      .split('|')
      .map((b) => b.trim())
      .filter((b) => b !== '');
    changes.push({
      sku,
      ...('name' in record ? { name: record.name || null } : {}),
      ...('barcode' in record ? { barcodes } : {}),
      ...('unit' in record ? { unit: record.unit || null } : {}),
      isActive,
      ...(price !== '' ? { prices: [{ list: record.price_list || 'retail', amount: price, currency }] } : {}),
    });
    lines.push(line);
  }
  return { changes, lines, errors };
}

/**
 * Loads a catalog CSV whole or not at all: every bad row (its own shape, or the catalog's checks: a price that is
 * not a decimal or is negative, an unknown currency, a barcode another item has) is reported by line and column,
 * and then nothing of the file is stored. Fields last set by a source of `keepFieldsOf` (an ERP feeding the
 * catalog) are left as that source set it. Returns the report and the errors (empty when it was stored).
 */
export function loadCatalogCsv(
  catalog: Catalog,
  text: string,
  keepFieldsOf: ReadonlySet<string> = new Set(),
): { report: ApplyReport | null; errors: CatalogRowError[] } {
  const parsed = parseCatalogCsv(text);
  // With rows already bad, the rest is only checked (so every error is reported at once) and nothing is stored.
  const report = catalog.apply(parsed.changes, 'csv', true, parsed.errors.length > 0, keepFieldsOf);
  if (parsed.errors.length === 0 && report.refused.length === 0) catalog.enable();
  const errors = [
    ...parsed.errors,
    ...report.refused.map((r) => ({
      line: parsed.lines[r.index] ?? 0,
      column: COLUMN_OF_FIELD[r.field] ?? r.field,
      message: r.message,
    })),
  ].sort((a, b) => a.line - b.line);
  return { report: errors.length === 0 ? report : null, errors };
}
