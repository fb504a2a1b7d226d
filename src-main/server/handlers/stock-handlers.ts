import { ApiFailure } from '../api-failure.js';
import type { StockItemView } from '../../../shared/rpc-views.js';
import type { AgentDatabase } from '../../db/agent-database.js';
import type { StockView } from '../../ledger/stock-view.js';
import { itemBySkuOrBarcode, movementsOfSku, openReservationsOfSku } from '../../ledger/stock-views.js';
import type { HandlerTable } from '../rpc-router.js';

/** Stock for the UI: one item by SKU or barcode, its levels and its ledger history with the source events. */
export function stockHandlers(
  deps: Readonly<{ db: AgentDatabase; stock: StockView }>,
): Pick<HandlerTable, 'stock.item' | 'stock.list'> {
  const { db } = deps;
  return {
    'stock.list': () => {
      throw new ApiFailure('unavailable', 'Not built yet.');
    },
    'stock.item': ({ q }) => {
      const item = itemBySkuOrBarcode(db, q);
      const sku = item?.sku ?? q;
      const levels = deps.stock.levels({ sku });
      const movements = movementsOfSku(db, sku);
      const reservations = openReservationsOfSku(db, sku);
      const isKnown = item !== undefined || levels.length > 0 || movements.length > 0;
      return {
        sku: isKnown ? sku : null,
        name: item?.name ?? null,
        barcode: item?.barcode ?? null,
        levels,
        reservations,
        movements,
      } satisfies StockItemView;
    },
  };
}
