import type { StockLevel } from '../../shared/api.js';
import type { ResolvedConfig } from '../../shared/config.js';
import { availableToSell } from './availability.js';
import type { ChannelBuffer, ChannelBuffers } from './channel-buffers.js';
import type { ChannelGuard } from './channel-guard.js';
import type { StockRepo } from './stock-repo.js';

/**
 * Stock as staff and channels see it: on hand, reserved, safety stock and available-to-sell per channel.
 * Channels and their buffers come from `ChannelBuffers`: the config's, plus one per marketplace destination
 * that names no configured channel; a buffer staff set in the UI applies from the moment it is saved.
 */
export class StockView {
  readonly #repo: StockRepo;
  readonly #stock: ResolvedConfig['stock'];
  readonly #buffers: ChannelBuffers;
  readonly #guard: ChannelGuard | null;

  constructor(
    repo: StockRepo,
    stock: ResolvedConfig['stock'],
    buffers: ChannelBuffers,
    guard: ChannelGuard | null = null,
  ) {
    this.#repo = repo;
    this.#guard = guard;
    this.#stock = stock;
    this.#buffers = buffers;
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
    const buffer = this.#buffers.bufferOf(channel);
    const available = availableToSell({ ...level, safetyStock: this.safetyStock(sku), buffer });
    return this.#guard ? this.#guard.publishable(channel, available) : available;
  }

  /**
   * What each channel is published for a level already read (the Stock page reads a page of levels in one
   * query): the same as `available` for each channel, without reading the level again.
   */
  published(
    level: Readonly<{ sku: string; onHand: number; reserved: number }>,
    channels: readonly ChannelBuffer[] = this.#buffers.list(),
  ): { channel: string; buffer: number; available: number }[] {
    const base = { onHand: level.onHand, reserved: level.reserved, safetyStock: this.safetyStock(level.sku) };
    return channels.map((c) => {
      const available = availableToSell({ ...base, buffer: c.buffer });
      return {
        channel: c.channel,
        buffer: c.buffer,
        available: this.#guard ? this.#guard.publishable(c.channel, available) : available,
      };
    });
  }

  /** The channels and their buffers in effect now, to hand to `published` for many rows. */
  buffers(): ChannelBuffer[] {
    return this.#buffers.list();
  }

  levels(filter: Readonly<{ sku?: string; location?: string; limit?: number }>): StockLevel[] {
    const channels = this.#buffers.list();
    return this.#repo.levels(filter).map((row) => ({
      sku: row.sku,
      location: row.location,
      onHand: row.on_hand,
      reserved: row.reserved,
      safetyStock: this.safetyStock(row.sku),
      available: Math.max(0, row.on_hand - row.reserved),
      channels: this.published({ sku: row.sku, onHand: row.on_hand, reserved: row.reserved }, channels),
      updatedSeq: row.updated_seq,
    }));
  }
}
