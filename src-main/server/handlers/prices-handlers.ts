import type { ChannelPriceState, ChannelPriceView } from '../../../shared/rpc-views.js';
import type { Catalog } from '../../ledger/catalog.js';
import type { PriceDecisions } from '../../outbox/price-decisions.js';
import type { PriceMarkRow, PriceMarks } from '../../outbox/price-marks.js';
import type { PriceDrift } from '../../reconcile/price-drift.js';
import type { HandlerTable } from '../rpc-router.js';

export type PricesHandlerDeps = Readonly<{
  /** The coalesced price marks of the destinations that take prices. */
  priceMarks: PriceMarks;
  /** Confirm or keep a price held under its floor (audited). */
  priceDecisions: PriceDecisions;
  catalog: Catalog;
  /** Price reconciliation: each channel's prices read back, the causes of a difference, the fixes. */
  priceDrift: PriceDrift;
}>;

function stateOf(mark: PriceMarkRow | undefined): ChannelPriceState {
  if (mark === undefined) return 'not_sent';
  if (mark.held === 'floor') return 'held_floor';
  if (mark.held === 'unmapped') return 'held_unmapped';
  if (mark.version > mark.sent_version) return 'pending';
  return mark.sent_amount === null ? 'not_sent' : 'sent';
}

/**
 * Prices for the UI: an item's price per channel (the item page), the changes waiting or held (the Prices page),
 * and a manager's decision about a price held under its floor.
 */
export function pricesHandlers(
  deps: PricesHandlerDeps,
): Pick<
  HandlerTable,
  'prices.item' | 'prices.list' | 'prices.confirm' | 'prices.keep' | 'reconcile.prices' | 'reconcile.priceFix'
> {
  const { priceMarks: marks, catalog } = deps;
  const view = (
    destination: string,
    sku: string,
    mark: PriceMarkRow | undefined,
  ): ChannelPriceView | null => {
    const route = marks.route(destination);
    if (route === undefined) return null;
    const price = catalog.price(sku, route.list);
    const state = stateOf(mark);
    return {
      destination,
      sku,
      name: catalog.find(sku)?.name ?? null,
      list: route.list,
      amount: price?.amount ?? null,
      currency: price?.currency ?? null,
      sentAmount: mark?.sent_amount ?? null,
      sentCompareAt: mark?.sent_compare_at ?? null,
      sentCurrency: mark?.sent_currency ?? null,
      sentAt: mark?.sent_at ?? null,
      state,
      heldAmount: mark?.held_amount ?? null,
      floorPercent: route.floorPercent,
      lastError: mark?.last_error ?? null,
      since: state === 'sent' || state === 'not_sent' ? null : (mark?.marked_at ?? null),
    };
  };
  return {
    'prices.item': ({ sku }) => {
      const bySku = new Map(marks.ofItem(sku).map((m) => [m.destination_id, m]));
      return marks.routes.flatMap((r) => view(r.destinationId, sku, bySku.get(r.destinationId)) ?? []);
    },
    'prices.list': ({ limit }) => {
      const counts = new Map(marks.counts().map((c) => [c.destinationId, c]));
      return {
        rows: marks.open(limit).flatMap((m) => view(m.destination_id, m.sku, m) ?? []),
        destinations: marks.routes.map((r) => ({
          destination: r.destinationId,
          list: r.list,
          pending: counts.get(r.destinationId)?.pending ?? 0,
          held: counts.get(r.destinationId)?.held ?? 0,
        })),
      };
    },
    'prices.confirm': ({ destination, sku, reason }, { operator }) =>
      deps.priceDecisions.confirm({ destinationId: destination, sku, operator, reason: reason ?? null }),
    'prices.keep': ({ destination, sku, reason }, { operator }) =>
      deps.priceDecisions.keep({ destinationId: destination, sku, operator, reason }),
    // A destination that takes no prices, or cannot read them back, is refused naming `destination`.
    'reconcile.prices': ({ destination, sku }) =>
      deps.priceDrift.run(destination, sku === undefined ? undefined : [sku]),
    'reconcile.priceFix': ({ destination, sku, action, reason }, { operator }) =>
      deps.priceDrift.fix({ destinationId: destination, sku, action, reason, operator }),
  };
}
