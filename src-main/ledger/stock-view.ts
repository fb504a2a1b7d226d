import type { StockLevel } from '../../shared/api.js';
import { DESTINATION_MODE, type ResolvedConfig } from '../../shared/config.js';
import { availableToSell } from './availability.js';
import type { ChannelGuard } from './channel-guard.js';
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

  readonly #guard: ChannelGuard | null;

  constructor(
    repo: StockRepo,
    config: Pick<ResolvedConfig, 'stock' | 'channels' | 'destinations'>,
    guard: ChannelGuard | null = null,
  ) {
    this.#repo = repo;
    this.#guard = guard;
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

  /**
   * What is published to one channel for (sku, location), read now: on hand − reserved − safety stock − the
   * channel's buffer, never below 0, tightened further while the oversell guard finds the channel degraded.
   */
  available(sku: string, location: string, channel: string): number {
    const level = this.#repo.level(sku, location);
    const buffer = this.#channels.find((c) => c.id === channel)?.buffer ?? 0;
    const available = availableToSell({ ...level, safetyStock: this.safetyStock(sku), buffer });
    return this.#guard ? this.#guard.publishable(channel, available) : available;
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
          available: this.#guard
            ? this.#guard.publishable(c.id, availableToSell({ ...base, buffer: c.buffer }))
            : availableToSell({ ...base, buffer: c.buffer }),
        })),
        updatedSeq: row.updated_seq,
      };
    });
  }
}
