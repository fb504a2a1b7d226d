import type { StockLevel } from '../../shared/api.js';
import { DESTINATION_MODE, type ResolvedConfig } from '../../shared/config.js';
import { availableToSell } from './availability.js';
import type { StockRepo } from './stock-repo.js';

type Channel = { id: string; buffer: number };

/**
 * Stock as staff and channels see it: on hand, reserved, safety stock and available-to-sell per channel.
 * Channels are those of the config plus one per marketplace destination that names no configured channel.
 */
export class StockView {
  readonly #repo: StockRepo;
  readonly #stock: ResolvedConfig['stock'];
  readonly #channels: readonly Channel[];

  constructor(repo: StockRepo, config: Pick<ResolvedConfig, 'stock' | 'channels' | 'destinations'>) {
    this.#repo = repo;
    this.#stock = config.stock;
    const channels = new Map(config.channels.map((c) => [c.id, c]));
    for (const d of config.destinations) {
      if (DESTINATION_MODE[d.type] !== 'level') continue;
      const id = ('channel' in d ? d.channel : undefined) ?? d.id;
      if (!channels.has(id)) channels.set(id, { id, buffer: 0 });
    }
    this.#channels = [...channels.values()];
  }

  safetyStock(sku: string): number {
    return this.#stock.safetyStockBySku[sku] ?? this.#stock.safetyStock;
  }

  /** Available-to-sell of (sku, location) for one channel, read now. */
  available(sku: string, location: string, channel: string): number {
    const level = this.#repo.level(sku, location);
    const buffer = this.#channels.find((c) => c.id === channel)?.buffer ?? 0;
    return availableToSell({ ...level, safetyStock: this.safetyStock(sku), buffer });
  }

  levels(filter: Readonly<{ sku?: string; location?: string; limit?: number }>): StockLevel[] {
    return this.#repo.levels(filter).map((row) => {
      const safetyStock = this.safetyStock(row.sku);
      const base = { onHand: row.on_hand, reserved: row.reserved, safetyStock };
      return {
        sku: row.sku,
        location: row.location,
        onHand: row.on_hand,
        reserved: row.reserved,
        safetyStock,
        available: Math.max(0, row.on_hand - row.reserved),
        channels: this.#channels.map((c) => ({
          channel: c.id,
          buffer: c.buffer,
          available: availableToSell({ ...base, buffer: c.buffer }),
        })),
        updatedSeq: row.updated_seq,
      };
    });
  }
}
