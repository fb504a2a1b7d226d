import { z } from 'zod';
import type { PosEvent } from '../../../shared/events.js';
import type { ShipmentModel } from './tryton-documents.js';
import { idSchema } from './tryton-master-data.js';
import type { TrytonRpc } from './tryton-rpc.js';

/*
 * The carrier and tracking number of a marketplace shipment, shown on its Tryton customer shipment.
 *
 * Why a note (`ir.note` on the shipment) and not `stock_package_shipping`: that module makes every customer
 * shipment packed without a carrier raise a warning (`shipment_out_no_carrier_<id>`), which is every POS sale's
 * shipment in `per_event` mode, so a batch would stop at the connector's limit of acknowledged warnings; it needs a
 * Tryton `carrier` (a party and a service product) per carrier, and it pulls in `sale_shipment_cost`, which
 * changes the sales the `sales` mode makes. The shipment's own `reference` is taken: it holds the idempotency key
 * the connector searches by. A note is Tryton's own way to put words on any record: the client shows it on the
 * shipment (its notes), searchable by text.
 */

/**
 * The note a `ship` event's customer shipment carries: the carrier, the tracking number and page, and the order;
 * null for any other event, or a shipment with neither carrier nor tracking number.
 *
 * @example trackingNoteOf(ship) // 'Shipped with DHL, tracking number JJD0001 (https://…), order #1001'
 */
export function trackingNoteOf(event: PosEvent): string | null {
  if (event.type !== 'ship') return null;
  if (event.carrier === undefined && event.trackingNumber === undefined) return null;
  const parts = [event.carrier === undefined ? 'Shipped' : `Shipped with ${event.carrier}`];
  if (event.trackingNumber !== undefined)
    parts.push(
      `tracking number ${event.trackingNumber}${event.trackingUrl === undefined ? '' : ` (${event.trackingUrl})`}`,
    );
  if (event.reference !== undefined) parts.push(`order ${event.reference}`);
  return parts.join(', ');
}

/** One item's shipments in Tryton and its event. */
export type TrackedShipments = Readonly<{ event: PosEvent; shipmentIds: readonly number[] }>;

/**
 * Notes the tracking of each `ship` among `entries` on its customer shipments, exactly once: one `search_read` of
 * the notes these shipments have, then one `create` of those missing (a note with the same text on the same
 * shipment is this one, written by an earlier attempt). Does nothing for other models or events. Throws the RPC's
 * `TrytonCallError`; the item is then tried again, and its shipments found done are noted on that attempt.
 */
export async function noteTracking(
  rpc: TrytonRpc,
  model: ShipmentModel,
  entries: readonly TrackedShipments[],
  signal: AbortSignal,
): Promise<void> {
  if (model !== 'stock.shipment.out') return;
  const wanted = new Map<string, string>();
  for (const { event, shipmentIds } of entries) {
    const message = trackingNoteOf(event);
    if (message !== null) for (const id of shipmentIds) wanted.set(`${model},${id}`, message);
  }
  if (wanted.size === 0) return;
  const existing = await rpc.call(
    z.array(z.object({ id: idSchema, resource: z.string(), message: z.string().nullable() })),
    'ir.note',
    'search_read',
    [[['resource', 'in', [...wanted.keys()]]], 0, null, null, ['resource', 'message']],
    { signal, isWrite: false },
  );
  for (const note of existing) if (wanted.get(note.resource) === note.message) wanted.delete(note.resource);
  if (wanted.size === 0) return;
  await rpc.call(
    z.array(idSchema),
    'ir.note',
    'create',
    [[...wanted].map(([resource, message]) => ({ resource, message }))],
    { signal, isWrite: true },
  );
}
