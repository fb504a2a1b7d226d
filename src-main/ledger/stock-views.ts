import type { MovementView, ReservationView } from '../../shared/rpc-views.js';
import type { AgentDatabase } from '../db/agent-database.js';

/** An item's ledger as the UI's stock page reads it: the item, its movements and the orders holding it. */

/** The item whose SKU or barcode is `code`, or undefined when none is. */
export function itemBySkuOrBarcode(
  db: AgentDatabase,
  code: string,
): { sku: string; name: string | null; barcode: string | null } | undefined {
  return db
    .prepare(
      `SELECT sku, name, barcode FROM items
       WHERE sku = ? OR sku = (SELECT sku FROM item_barcodes WHERE barcode = ?) OR barcode = ? LIMIT 1`,
    )
    .get(code, code, code) as { sku: string; name: string | null; barcode: string | null } | undefined;
}

/** The newest 200 movements of a SKU at every location, newest first, each with the event that made it. */
export function movementsOfSku(db: AgentDatabase, sku: string): MovementView[] {
  return (
    db
      .prepare(
        `SELECT m.id, m.event_seq, m.location, m.delta, m.on_hand_after, e.type, e.event_id, e.source,
                  json_extract(e.body, '$.reference') AS reference, e.received_at
           FROM movements m JOIN events e ON e.seq = m.event_seq
           WHERE m.sku = ? ORDER BY m.id DESC LIMIT 200`,
      )
      .all(sku) as {
      id: number;
      event_seq: number;
      location: string;
      delta: number;
      on_hand_after: number;
      type: string;
      event_id: string;
      source: string;
      reference: string | null;
      received_at: number;
    }[]
  ).map((m) => ({
    id: m.id,
    eventSeq: m.event_seq,
    location: m.location,
    delta: m.delta,
    onHandAfter: m.on_hand_after,
    type: m.type,
    eventId: m.event_id,
    source: m.source,
    reference: m.reference,
    receivedAt: m.received_at,
  }));
}

/** The open reservations of a SKU (at most 200), oldest first: why available-to-sell is below on hand. */
export function openReservationsOfSku(db: AgentDatabase, sku: string): ReservationView[] {
  return (
    db
      .prepare(
        `SELECT r.channel, r.order_id, r.location, r.qty, e.received_at,
                  json_extract(e.body, '$.meta.order') AS order_name
           FROM reservations r LEFT JOIN events e ON e.seq = r.opened_seq
           WHERE r.sku = ? AND r.state = 'open' ORDER BY r.opened_seq LIMIT 200`,
      )
      .all(sku) as {
      channel: string;
      order_id: string;
      location: string;
      qty: number;
      received_at: number | null;
      order_name: unknown;
    }[]
  ).map((r) => ({
    // Orders pulled from a marketplace are captured under `orders:<destination>`: the destination names it.
    channel: r.channel.startsWith('orders:') ? r.channel.slice('orders:'.length) : r.channel,
    orderId: r.order_id,
    orderName: typeof r.order_name === 'string' && r.order_name !== r.order_id ? r.order_name : null,
    location: r.location,
    qty: r.qty,
    since: r.received_at,
  }));
}
