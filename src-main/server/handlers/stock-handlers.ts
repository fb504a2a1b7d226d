import type { ResolvedConfig } from '../../../shared/config.js';
import type { StockItemView, StockListView } from '../../../shared/rpc-views.js';
import type { AgentDatabase } from '../../db/agent-database.js';
import type { StockView } from '../../ledger/stock-view.js';
import type { Catalog } from '../../ledger/catalog.js';
import { stockListPage } from '../../ledger/stock-list.js';
import { itemBySkuOrBarcode, movementsOfSku, openReservationsOfSku } from '../../ledger/stock-views.js';
import type { HandlerTable } from '../rpc-router.js';

/**
 * Stock for the UI: the Stock page's table (a page of item-location rows), and one item by SKU or barcode with its
 * item master record (fields, sources, prices, changes), its levels and its ledger history with the source events.
 */
export function stockHandlers(
  deps: Readonly<{
    db: AgentDatabase;
    stock: StockView;
    catalog: Catalog;
    config: Pick<ResolvedConfig, 'stock' | 'locations'>;
  }>,
): Pick<HandlerTable, 'stock.item' | 'stock.list'> {
  const { db } = deps;
  return {
    'stock.list': (input) => {
      const midnight = new Date();
      midnight.setHours(0, 0, 0, 0);
      const page = stockListPage(db, input, { safety: deps.config.stock, midnight: midnight.getTime() });
      // Published availability is worked out for this page's rows only, with the buffers in effect now.
      const buffers = deps.stock.buffers();
      return {
        total: page.total,
        offset: input.offset,
        channels: buffers.map((b) => b.channel),
        locations: deps.config.locations.map((l) => ({ id: l.id, name: l.name })),
        rows: page.rows.map((r) => ({
          sku: r.sku,
          name: r.name,
          barcode: r.barcode,
          location: r.location,
          onHand: r.on_hand,
          reserved: r.reserved,
          safetyStock: deps.stock.safetyStock(r.sku),
          channels: deps.stock
            .published({ sku: r.sku, onHand: r.on_hand, reserved: r.reserved }, buffers)
            .map((c) => ({ channel: c.channel, available: c.available })),
          lastMovementAt: r.last_movement_at,
        })),
      } satisfies StockListView;
    },
    'stock.item': ({ q }) => {
      const item = itemBySkuOrBarcode(db, q);
      const sku = item?.sku ?? q;
      const levels = deps.stock.levels({ sku });
      const movements = movementsOfSku(db, sku);
      const reservations = openReservationsOfSku(db, sku);
      const record = deps.catalog.record(sku);
      const isKnown = item !== undefined || levels.length > 0 || movements.length > 0;
      return {
        sku: isKnown ? sku : null,
        name: item?.name ?? null,
        barcode: item?.barcode ?? null,
        master:
          record === null
            ? null
            : {
                barcodes: [...record.barcodes],
                unit: record.unit,
                active: record.active,
                source: record.source,
                origins: Object.entries(record.origins).map(([field, o]) => ({ field, ...o })),
                prices: record.prices.map((p) => {
                  const origin = record.priceSources.find((s) => s.list === p.list);
                  return { ...p, source: origin?.source ?? record.source, updatedAt: origin?.updatedAt ?? 0 };
                }),
                changes: deps.catalog.history(sku),
              },
        levels,
        reservations,
        movements,
      } satisfies StockItemView;
    },
  };
}
