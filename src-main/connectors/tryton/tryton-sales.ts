import type { PosEvent } from '../../../shared/events.js';
import { PlanError, type TrytonParty, type TrytonPlaces } from './tryton-documents.js';
import { trytonDecimal, type TrytonDate } from './tryton-rpc.js';

/**
 * The Tryton sale (`sale.sale`) a POS `sale` or `return` becomes in the `sales` posting mode: the walk-in
 * customer party, the store's warehouse, the event's day, one line per event line with its product, quantity
 * (negative for a return) and unit price, in the event's currency. Pure: the connector resolves the ids.
 */
export type SaleInput = Readonly<{
  /** The item's idempotency key: the sale's `reference`, searched before anything is created. */
  reference: string;
  /** The POS receipt number, kept as the sale's description. */
  description: string | null;
  places: TrytonPlaces;
  customer: TrytonParty;
  /** The Tryton currency of the event's lines. */
  currency: number;
  date: TrytonDate;
  /** The customer's payment term, when it has one (Tryton's own form takes it from the party). */
  paymentTerm: number | null;
  isReturn: boolean;
  lines: readonly SaleLineInput[];
}>;

export type SaleLineInput = Readonly<{ product: number; uom: number; qty: number; unitPrice: string }>;

/** The values of `sale.sale.create` for one event, its lines created with it. */
export function planSale(input: SaleInput): Record<string, unknown> {
  const address = input.customer.address;
  if (address === null) throw new PlanError('the customer party has no address in Tryton; add one');
  const sign = input.isReturn ? -1 : 1;
  return {
    company: input.places.company,
    reference: input.reference,
    ...(input.description === null ? {} : { description: input.description }),
    party: input.customer.id,
    invoice_address: address,
    shipment_address: address,
    warehouse: input.places.warehouse,
    currency: input.currency,
    sale_date: input.date,
    ...(input.paymentTerm === null ? {} : { payment_term: input.paymentTerm }),
    lines: [
      [
        'create',
        input.lines.map((line) => ({
          type: 'line',
          product: line.product,
          unit: line.uom,
          quantity: sign * line.qty,
          unit_price: trytonDecimal(line.unitPrice),
        })),
      ],
    ],
  };
}

/**
 * The currency code the lines of a sale name (null when none names one: the company's currency) and each line's
 * unit price. Throws `PlanError` naming the line when a price is missing (a Tryton sale needs one on every line)
 * or when two lines name different currencies (a Tryton sale has one).
 */
export function salePricesOf(event: PosEvent): { currency: string | null; unitPrices: string[] } {
  let currency: string | null = null;
  const unitPrices: string[] = [];
  for (const [i, line] of event.lines.entries()) {
    if (line.unitPrice === undefined)
      throw new PlanError(
        `line ${i + 1} (SKU ${line.sku}) has no unit price; the "sales" posting mode needs the price of every line`,
      );
    if (line.currency !== undefined) {
      if (currency !== null && line.currency !== currency)
        throw new PlanError(
          `line ${i + 1} (SKU ${line.sku}) is in ${line.currency} while an earlier line is in ${currency}; a Tryton sale has one currency`,
        );
      currency = line.currency;
    }
    unitPrices.push(line.unitPrice);
  }
  return { currency, unitPrices };
}

/** The button that moves a sale on towards `processing` (where its shipments exist), or what stops it. */
export function nextSaleStep(state: string): 'quote' | 'confirm' | 'process' | 'processed' | 'cancelled' {
  switch (state) {
    case 'draft':
      return 'quote';
    case 'quotation':
      return 'confirm';
    case 'confirmed':
      return 'process';
    case 'processing':
    case 'done':
      return 'processed';
    case 'cancelled':
      return 'cancelled';
    default:
      throw new PlanError(`a sale in state "${state}" is not one Backroom knows how to finish`);
  }
}
