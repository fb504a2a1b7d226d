import { z } from 'zod';
import type { DeliveryResult, LedgerItem } from '../port/connector.js';
import { PlanError, type ShipmentModel } from './tryton-documents.js';
import { idSchema, type Store, type TrytonMasterData } from './tryton-master-data.js';
import { TrytonCallError, type CallOptions, type TrytonRpc } from './tryton-rpc.js';
import { noteTracking } from './tryton-tracking.js';
import { finishShipments, searchByReference, type shipmentSchema, type Ready } from './tryton-workflow.js';

export type ShipmentPostingDeps = Readonly<{
  rpc: TrytonRpc;
  data: TrytonMasterData;
  /** The shipments to create for an item (`tryton-documents.ts` with what its type needs read from Tryton). */
  plan: (
    item: LedgerItem,
    model: ShipmentModel,
    store: Store,
    products: readonly number[],
    signal: AbortSignal,
  ) => Promise<Record<string, unknown>[]>;
  /** Posts one item alone: how a refused batch finds the item Tryton refused. */
  deliverOne: (item: LedgerItem, signal: AbortSignal) => Promise<DeliveryResult>;
}>;

/**
 * The Tryton connector's stock shipments posted many items at a time: every event of the `per_event` mode, and
 * the receipts, counts, adjustments and transfers of the other modes (what each becomes: `tryton-documents.ts`).
 */
export class TrytonShipmentPosting {
  readonly #d: ShipmentPostingDeps;

  constructor(deps: ShipmentPostingDeps) {
    this.#d = deps;
  }

  /**
   * Posts the members (items of one shipment model, prepared) with as few calls as Tryton allows: one
   * `search_read` of all their references, one `create` of every shipment not found, then each workflow button
   * once for all the shipments it applies to. Exactly once: the search comes first, the create is one
   * transaction, found shipments are finished from their state. A refusal names no item, so the members of a
   * refused call are posted again one by one (`deliverOne`, which searches first) to tell which one Tryton
   * refuses; the others post. Answers a result per member; throws a transient failure (the caller answers every
   * member without a result with it).
   */
  async post(
    model: ShipmentModel,
    members: readonly { index: number; ready: Ready }[],
    signal: AbortSignal,
  ): Promise<Map<number, DeliveryResult>> {
    const results = new Map<number, DeliveryResult>();
    const write: CallOptions = { signal, isWrite: true };
    const found = await searchByReference(this.#d.rpc, model, members, signal);
    const byKey = new Map<string, z.output<typeof shipmentSchema>[]>();
    for (const shipment of found)
      byKey.set(shipment.reference ?? '', [...(byKey.get(shipment.reference ?? '') ?? []), shipment]);
    const toFinish: { index: number; ready: Ready; shipments: z.output<typeof shipmentSchema>[] }[] = [];
    const doneBefore: { ready: Ready; shipments: z.output<typeof shipmentSchema>[] }[] = [];
    const toCreate: { index: number; ready: Ready; documents: Record<string, unknown>[] }[] = [];
    // The units of all their products in one read (each item's plan then finds them cached).
    await this.#d.data.uomsOf(
      members.flatMap((m) => (byKey.has(m.ready.item.idempotencyKey) ? [] : m.ready.products)),
      signal,
    );
    for (const member of members) {
      const existing = byKey.get(member.ready.item.idempotencyKey) ?? [];
      if (existing.length > 0 && existing.every((s) => s.state === 'done')) {
        results.set(member.index, { kind: 'already_applied' });
        doneBefore.push({ ready: member.ready, shipments: existing });
      } else if (existing.length > 0) toFinish.push({ ...member, shipments: existing });
      else {
        try {
          const documents = await this.#d.plan(
            member.ready.item,
            model,
            member.ready.store,
            member.ready.products,
            signal,
          );
          if (documents.length === 0) results.set(member.index, { kind: 'delivered' });
          else toCreate.push({ ...member, documents });
        } catch (error) {
          if (!(error instanceof PlanError)) throw error;
          results.set(member.index, { kind: 'rejected', detail: error.message });
        }
      }
    }
    if (toCreate.length > 0) {
      let ids: number[];
      try {
        ids = await this.#d.rpc.callAcknowledging(
          z.array(idSchema),
          model,
          'create',
          [toCreate.flatMap((c) => c.documents)],
          write,
        );
      } catch (error) {
        if (!(error instanceof TrytonCallError) || error.kind !== 'refused') throw error;
        // Nothing was created (one transaction): post them one by one to learn which one Tryton refuses.
        for (const member of toCreate)
          results.set(member.index, await this.#d.deliverOne(member.ready.item, signal));
        ids = [];
      }
      let next = 0;
      if (ids.length > 0)
        for (const member of toCreate) {
          const created = ids
            .slice(next, next + member.documents.length)
            .map((id) => ({ id, state: 'draft' }));
          next += member.documents.length;
          toFinish.push({ index: member.index, ready: member.ready, shipments: created });
        }
    }
    // A marketplace shipment's carrier and tracking go on its customer shipment (tryton-tracking.ts).
    await noteTracking(
      this.#d.rpc,
      model,
      [...doneBefore, ...toFinish].map((m) => ({
        event: m.ready.item.event,
        shipmentIds: m.shipments.map((s) => s.id),
      })),
      signal,
    );
    if (toFinish.length === 0) return results;
    try {
      await finishShipments(
        this.#d.rpc,
        model,
        toFinish.flatMap((f) => f.shipments.map((s) => ({ ...s, layout: f.ready.store.layout }))),
        signal,
      );
      for (const member of toFinish) results.set(member.index, { kind: 'delivered' });
    } catch (error) {
      if (!(error instanceof PlanError) && !(error instanceof TrytonCallError && error.kind === 'refused'))
        throw error;
      // One of them cannot be moved on (cancelled, refused): finish them one by one to learn which.
      for (const member of toFinish)
        results.set(member.index, await this.#d.deliverOne(member.ready.item, signal));
    }
    return results;
  }
}
