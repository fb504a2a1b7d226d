import { z } from 'zod';
import { isIso4217 } from './currencies.js';

/** One price of an item: on a price list (`retail`, the ERP's list price) or for a channel, in a currency. */
export type ItemPrice = Readonly<{ list: string; amount: string; currency: string }>;

/** An item as `GET /api/v1/items` serves it to the tills (CONTRACT.md, additions in v1). */
export type ItemView = Readonly<{
  sku: string;
  name: string | null;
  barcodes: readonly string[];
  /** The unit it is sold in (`Unit`, `kg`), when the source says. */
  unit: string | null;
  active: boolean;
  prices: readonly ItemPrice[];
  /** RFC 3339 time of the item's last stored change. */
  updatedAt: string;
}>;

/** A page of `GET /api/v1/items`: `next` is always there; `more` says whether further pages wait now. */
export type ItemsPage = Readonly<{ items: readonly ItemView[]; next: string; more: boolean }>;

/** Cursors of the items API: `i1-<change number>`; anything else is not one of ours. */
const CURSOR = /^i1-(0|[1-9][0-9]{0,14})$/;

/** The cursor for "after change number `seq`". */
export function itemsCursor(seq: number): string {
  return `i1-${seq}`;
}

/** The change number of a cursor of ours, or null when it is not one. */
export function parseItemsCursor(cursor: string): number | null {
  const match = CURSOR.exec(cursor);
  return match ? Number(match[1]) : null;
}

/** The query of `GET /api/v1/items`: `since` a cursor of ours (absent: from the beginning), `limit` 1 to 1000. */
export const itemsQuerySchema = z.object({
  since: z
    .string()
    .refine(
      (s) => parseItemsCursor(s) !== null,
      'is not a cursor of this agent (use the "next" of an answer)',
    )
    .optional(),
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 1000' })
    .int('must be a whole number from 1 to 1000')
    .min(1, 'must be a whole number from 1 to 1000')
    .max(1000, 'must be a whole number from 1 to 1000')
    .default(500),
});

/** A plain decimal of zero or more: digits, then optionally a point and digits (`9.99`, `10`, `0.5`). */
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;

/**
 * What is wrong with a price amount as text, or null when it is a plain decimal of zero or more. A comma
 * (`9,99`), an exponent, a sign or any other text is refused rather than guessed at: a misread price must not
 * reach a channel.
 */
export function priceAmountProblem(amount: string): string | null {
  const text = amount.trim();
  if (text === '') return 'must not be empty';
  if (/^-\s*[0-9]/.test(text)) return `must not be negative ("${amount}")`;
  if (!DECIMAL.test(text)) return `must be a decimal number like 9.99 ("${amount}" is not)`;
  return null;
}

/** What is wrong with a currency code, or null when it is an ISO 4217 code in use. */
export function currencyProblem(currency: string): string | null {
  if (!/^[A-Z]{3}$/.test(currency))
    return `must be an ISO 4217 code of three capital letters, like EUR ("${currency}" is not)`;
  if (!isIso4217(currency)) return `"${currency}" is not an ISO 4217 currency`;
  return null;
}

/** What is wrong with a barcode, or null: 1 to 64 characters without spaces. */
export function barcodeProblem(barcode: string): string | null {
  if (barcode.length === 0 || barcode.length > 64) return 'must be 1 to 64 characters';
  if (/\s/.test(barcode)) return `must hold no spaces ("${barcode}")`;
  return null;
}
