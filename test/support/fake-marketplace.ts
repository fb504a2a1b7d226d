import type { OrderSource, RemoteOrder } from '../../src-main/connectors/port/connector-bundle.js';

/**
 * One marketplace's orders for an `OrderPuller`, served in one page (the paging itself is orders.test.ts's
 * business). Each `put` is one minute after the last, so updates come back in the order they were made.
 */
export class FakeMarketplace implements OrderSource {
  orders = new Map<string, RemoteOrder>();
  #clock = Date.parse('2026-11-24T09:00:00Z');

  put(order: Omit<RemoteOrder, 'updatedAt'>): void {
    this.#clock += 60_000;
    this.orders.set(order.orderId, { ...order, updatedAt: new Date(this.#clock).toISOString() });
  }

  pullOrders = async (): Promise<{ orders: RemoteOrder[]; nextCursor: string | null }> => ({
    orders: [...this.orders.values()].sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt)),
    nextCursor: null,
  });
}
