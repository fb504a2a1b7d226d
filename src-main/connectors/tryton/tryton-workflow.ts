import { z } from 'zod';
import type { LedgerItem } from '../port/connector.js';
import {
  nextStep,
  PlanError,
  stateAfter,
  type ShipmentModel,
  type WarehouseLayout,
  type WorkflowButton,
} from './tryton-documents.js';
import { idSchema, type Store } from './tryton-master-data.js';
import { TrytonCallError, type TrytonRpc } from './tryton-rpc.js';

/** Most workflow buttons pressed on one shipment in a round (a customer shipment needs four). */
export const MAX_STEPS = 8;
/** Rounds of buttons and a state check before an item is given up for this attempt. */
export const MAX_ROUNDS = 3;
export const shipmentSchema = z.object({ id: idSchema, state: z.string() });

/** What Tryton calls the shipments, for messages. */
export const SHIPMENT_LABELS: Record<ShipmentModel, string> = {
  'stock.shipment.out': 'customer shipment',
  'stock.shipment.out.return': 'customer return shipment',
  'stock.shipment.in': 'supplier shipment',
  'stock.shipment.internal': 'internal shipment',
};

/** An item ready to be posted: its document model, its store's places and its lines' products. */
export type Ready = Readonly<{
  item: LedgerItem;
  /** A shipment model, or `sale.sale` for a POS sale or return in the `sales` posting mode. */
  model: ShipmentModel | 'sale.sale';
  store: Store;
  products: readonly number[];
}>;

/**
 * Exactly once starts here: the documents of `model` a previous attempt made for these ready items, found by
 * their references (the items' idempotency keys) in one `search_read`, with their state.
 */
export function searchByReference(
  rpc: TrytonRpc,
  model: string,
  members: readonly { ready: Ready }[],
  signal: AbortSignal,
): Promise<{ id: number; state: string; reference: string | null }[]> {
  return rpc.call(
    z.array(shipmentSchema.extend({ reference: z.string().nullable() })),
    model,
    'search_read',
    [
      [['reference', 'in', members.map((m) => m.ready.item.idempotencyKey)]],
      0,
      null,
      null,
      ['state', 'reference'],
    ],
    { signal, isWrite: false },
  );
}

/** The item's SKUs, for messages. */
export function skusOf(item: LedgerItem): string {
  return [...new Set(item.event.lines.map((l) => l.sku))].join(', ');
}

/**
 * Drives shipments of many items to done: each round presses every button once for all the shipments it applies
 * to (a workflow button of Tryton takes a list of records), then reads all their states once.
 */
export async function finishShipments(
  rpc: TrytonRpc,
  model: ShipmentModel,
  shipments: readonly (z.output<typeof shipmentSchema> & { layout: WarehouseLayout })[],
  signal: AbortSignal,
): Promise<void> {
  let pending = shipments;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const states = new Map(pending.map((s) => [s.id, s.state]));
    for (let steps = 0; steps < MAX_STEPS; steps += 1) {
      const byStep = new Map<WorkflowButton, number[]>();
      for (const shipment of pending) {
        const step = nextStep(model, states.get(shipment.id)!, shipment.layout);
        if (step === 'finished') continue;
        if (step === 'cancelled')
          throw new PlanError(
            `the ${SHIPMENT_LABELS[model]} ${shipment.id} made for it was cancelled in Tryton`,
          );
        byStep.set(step, [...(byStep.get(step) ?? []), shipment.id]);
      }
      if (byStep.size === 0) break;
      for (const [step, ids] of byStep) {
        await rpc.callAcknowledging(z.unknown(), model, step, [ids], { signal, isWrite: true });
        for (const shipment of pending)
          if (ids.includes(shipment.id)) states.set(shipment.id, stateAfter(model, step, shipment.layout));
      }
    }
    const read = await rpc.call(
      z.array(shipmentSchema),
      model,
      'read',
      [pending.map((s) => s.id), ['state']],
      { signal, isWrite: false },
    );
    if (read.length !== pending.length)
      throw new PlanError(`a ${SHIPMENT_LABELS[model]} made for it was deleted in Tryton`);
    const layouts = new Map(pending.map((s) => [s.id, s.layout]));
    pending = read.filter((s) => s.state !== 'done').map((s) => ({ ...s, layout: layouts.get(s.id)! }));
    if (pending.length === 0) return;
  }
  throw new TrytonCallError(
    'transient',
    `the ${SHIPMENT_LABELS[model]} ${pending.map((s) => s.id).join(', ')} is not done after ${MAX_ROUNDS} rounds (${pending.map((s) => s.state).join(', ')})`,
  );
}
