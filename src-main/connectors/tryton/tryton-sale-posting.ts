import { z } from 'zod';
import type { Logger } from '../../platform/logger.js';
import type { DeliveryResult, LedgerItem } from '../port/connector.js';
import { PlanError, type WarehouseLayout } from './tryton-documents.js';
import { idSchema, type TrytonMasterData } from './tryton-master-data.js';
import {
  TrytonCallError,
  trytonDateSchema,
  type CallOptions,
  type TrytonDate,
  type TrytonRpc,
} from './tryton-rpc.js';
import { nextSaleStep, planSale, salePricesOf } from './tryton-sales.js';
import {
  finishShipments,
  MAX_ROUNDS,
  searchByReference,
  shipmentSchema,
  skusOf,
  type Ready,
} from './tryton-workflow.js';

/** A sale found or made, as its workflow is driven from its state. */
type FoundSale = { id: number; state: string };
const saleDocumentsSchema = z.object({
  id: idSchema,
  state: z.string(),
  sale_date: trytonDateSchema.nullable(),
  shipments: z.array(idSchema),
  shipment_returns: z.array(idSchema),
});

export type SalePostingDeps = Readonly<{
  rpc: TrytonRpc;
  data: TrytonMasterData;
  logger: Logger;
  /** Posts one item alone: how a refused batch finds the item Tryton refused. */
  deliverOne: (item: LedgerItem, signal: AbortSignal) => Promise<DeliveryResult>;
}>;

/** The Tryton connector's `sales` posting mode: POS sales and returns as Tryton sales (`sale.sale`). */
export class TrytonSalePosting {
  readonly #d: SalePostingDeps;

  constructor(deps: SalePostingDeps) {
    this.#d = deps;
  }

  /**
   * The `sales` posting mode: each POS sale or return becomes a Tryton sale (`tryton-sales.ts`) with the item's
   * key as `reference`, pushed through Tryton's workflow (quote, confirm, process: Tryton then creates its
   * invoice per the sale's invoice method and its customer shipment or return) and its shipments driven to done.
   * Exactly once as shipments are: one `search_read` of the references first, one `create` of the sales not
   * found, found sales driven on from their state (a crash between create and done leaves a sale the retry
   * finishes). With `canSplit`, a refused call posts its items again one by one to find the refused one.
   */
  async post(
    members: readonly { index: number; ready: Ready }[],
    signal: AbortSignal,
    canSplit: boolean,
  ): Promise<Map<number, DeliveryResult>> {
    const results = new Map<number, DeliveryResult>();
    const write: CallOptions = { signal, isWrite: true };
    const found = await searchByReference(this.#d.rpc, 'sale.sale', members, signal);
    const byKey = new Map(found.map((sale) => [sale.reference ?? '', sale]));
    const fresh = members.filter((m) => !byKey.has(m.ready.item.idempotencyKey));
    const inactive =
      fresh.length === 0
        ? new Set<number>()
        : await this.#d.data.inactiveOf(
            fresh.flatMap((m) => m.ready.products),
            signal,
          );
    const toDrive: { index: number; ready: Ready; sale: FoundSale }[] = [];
    // The units of all their products in one read (each sale's plan then finds them cached).
    if (fresh.length > 0)
      await this.#d.data.uomsOf(
        fresh.flatMap((m) => m.ready.products),
        signal,
      );
    const toCreate: { index: number; ready: Ready; values: Record<string, unknown> }[] = [];
    for (const member of members) {
      const existing = byKey.get(member.ready.item.idempotencyKey);
      if (existing !== undefined) {
        this.#d.logger.info(
          { key: member.ready.item.idempotencyKey, sale: existing.id, state: existing.state },
          'found the sale of an earlier attempt; finishing it',
        );
        toDrive.push({ ...member, sale: existing });
        continue;
      }
      const withdrawn = member.ready.item.event.lines.filter((_, i) =>
        inactive.has(member.ready.products[i]!),
      );
      if (withdrawn.length > 0) {
        results.set(member.index, {
          kind: 'rejected',
          detail: `${withdrawn.map((l) => `SKU ${l.sku}`).join(', ')} is withdrawn in Tryton (its product is inactive), so Tryton cannot take this ${member.ready.item.event.type}; reactivate the product in Tryton, or map the SKU to another product, then retry`,
        });
        continue;
      }
      try {
        toCreate.push({ ...member, values: await this.#planSale(member.ready, signal) });
      } catch (error) {
        if (!(error instanceof PlanError)) throw error;
        results.set(member.index, { kind: 'rejected', detail: error.message });
      }
    }
    const refused = async (error: unknown, which: readonly { index: number; ready: Ready }[]) => {
      const isRefusal =
        error instanceof PlanError || (error instanceof TrytonCallError && error.kind === 'refused');
      if (!isRefusal) throw error;
      if (canSplit && which.length > 1)
        for (const member of which)
          results.set(member.index, await this.#d.deliverOne(member.ready.item, signal));
      else
        for (const member of which)
          results.set(member.index, {
            kind: 'rejected',
            detail:
              error instanceof PlanError
                ? error.message
                : `Tryton refused the sale: ${error.message} (SKUs: ${skusOf(member.ready.item)})`,
          });
    };
    if (toCreate.length > 0) {
      try {
        const ids = await this.#d.rpc.callAcknowledging(
          z.array(idSchema),
          'sale.sale',
          'create',
          [toCreate.map((c) => c.values)],
          write,
        );
        for (const [i, member] of toCreate.entries())
          toDrive.push({ index: member.index, ready: member.ready, sale: { id: ids[i]!, state: 'draft' } });
      } catch (error) {
        // Nothing was created (one transaction).
        await refused(error, toCreate);
      }
    }
    if (toDrive.length === 0) return results;
    try {
      await this.driveSales(
        toDrive.map((d) => ({ layout: d.ready.store.layout, sale: d.sale })),
        signal,
      );
      for (const member of toDrive) results.set(member.index, { kind: 'delivered' });
    } catch (error) {
      await refused(error, toDrive);
    }
    return results;
  }

  /** The values of one sale (`planSale`), with what it needs read from Tryton. Throws `PlanError` for bad input. */
  async #planSale(ready: Ready, signal: AbortSignal): Promise<Record<string, unknown>> {
    const { item, store, products } = ready;
    const { event } = item;
    const prices = salePricesOf(event);
    const currency =
      prices.currency === null
        ? store.places.currency
        : await this.#d.data.currencyOf(prices.currency, signal);
    if (currency === null)
      throw new PlanError(
        `Tryton does not know the currency ${prices.currency ?? ''} of this ${event.type} (SKUs: ${skusOf(item)}); add the currency in Tryton and retry, or discard this item`,
      );
    const customer = await this.#d.data.party('customer', signal);
    const uoms = await this.#d.data.uomsOf(products, signal);
    return planSale({
      reference: item.idempotencyKey,
      description: event.reference ?? null,
      places: store.places,
      customer,
      currency,
      date: await this.#d.data.bookingDateOf(item, store.places.company, signal),
      paymentTerm: await this.#d.data.customerPaymentTerm(customer.id, signal),
      isReturn: event.type === 'return',
      lines: event.lines.map((line, i) => ({
        product: products[i]!,
        uom: uoms.get(products[i]!)!,
        qty: line.qty,
        unitPrice: prices.unitPrices[i]!,
      })),
    });
  }

  /**
   * Drives sales to `processing` (quote, confirm, process; each button once for all the sales it applies to)
   * and then the customer shipments and returns Tryton made for them to `done`. Every step is taken from the
   * state Tryton reports, so a sale a crash left half way is finished, never made again. Throws `PlanError` for
   * a sale cancelled or deleted in Tryton.
   */
  async driveSales(
    sales: readonly { layout: WarehouseLayout; sale: Readonly<{ id: number; state: string }> }[],
    signal: AbortSignal,
  ): Promise<void> {
    const write: CallOptions = { signal, isWrite: true };
    const ids = sales.map((s) => s.sale.id);
    let states = new Map(sales.map((s) => [s.sale.id, s.sale.state]));
    let documents: z.output<typeof saleDocumentsSchema>[] = [];
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const byStep = (step: ReturnType<typeof nextSaleStep>) =>
        ids.filter((id) => nextSaleStep(states.get(id)!) === step);
      const cancelled = byStep('cancelled');
      if (cancelled.length > 0)
        throw new PlanError(
          `the Tryton sale ${cancelled.join(', ')} made for it was cancelled in Tryton; reset it to draft in Tryton and retry, or discard this item`,
        );
      // In Tryton's order; a sale quoted here is confirmed in the same round.
      const quote = byStep('quote');
      const confirm = [...quote, ...byStep('confirm')];
      if (quote.length > 0)
        await this.#d.rpc.callAcknowledging(z.unknown(), 'sale.sale', 'quote', [quote], write);
      if (confirm.length > 0)
        await this.#d.rpc.callAcknowledging(z.unknown(), 'sale.sale', 'confirm', [confirm], write);
      // Confirming queues `process`, which Tryton runs after the call unless a queue worker is set up: a sale
      // still `confirmed` is processed here.
      const read = async () =>
        this.#d.rpc.call(
          z.array(saleDocumentsSchema),
          'sale.sale',
          'read',
          [ids, ['state', 'sale_date', 'shipments', 'shipment_returns']],
          { signal, isWrite: false },
        );
      documents = await read();
      const unprocessed = documents.filter((d) => d.state === 'confirmed').map((d) => d.id);
      if (unprocessed.length > 0) {
        await this.#d.rpc.callAcknowledging(z.unknown(), 'sale.sale', 'process', [unprocessed], write);
        documents = await read();
      }
      if (documents.length !== ids.length) throw new PlanError('a sale made for it was deleted in Tryton');
      states = new Map(documents.map((d) => [d.id, d.state]));
      if (ids.every((id) => nextSaleStep(states.get(id)!) === 'processed')) break;
      if (round === MAX_ROUNDS - 1)
        throw new TrytonCallError(
          'transient',
          `the Tryton sale ${ids.filter((id) => nextSaleStep(states.get(id)!) !== 'processed').join(', ')} is not processed after ${MAX_ROUNDS} rounds`,
        );
    }
    const layouts = new Map(sales.map((s) => [s.sale.id, s.layout]));
    for (const [model, field] of [
      ['stock.shipment.out', 'shipments'],
      ['stock.shipment.out.return', 'shipment_returns'],
    ] as const) {
      const layoutOf = new Map<number, WarehouseLayout>();
      for (const d of documents) for (const id of d[field]) layoutOf.set(id, layouts.get(d.id)!);
      if (layoutOf.size === 0) continue;
      const shipments = await this.#d.rpc.call(
        z.array(shipmentSchema),
        model,
        'read',
        [[...layoutOf.keys()], ['state']],
        { signal, isWrite: false },
      );
      const pending = shipments.filter((s) => s.state !== 'done');
      // Dated like the sale (the event's day, as `per_event` dates its shipments): a shipment not done yet takes
      // its sale's day as its effective date, which its moves take when done (Tryton's today otherwise).
      const byDay = new Map<string, { date: TrytonDate; ids: number[] }>();
      for (const d of documents)
        for (const id of d[field]) {
          if (d.sale_date === null || !pending.some((s) => s.id === id)) continue;
          const key = `${d.sale_date.year}-${d.sale_date.month}-${d.sale_date.day}`;
          byDay.set(key, { date: d.sale_date, ids: [...(byDay.get(key)?.ids ?? []), id] });
        }
      for (const { date, ids: dated } of byDay.values())
        await this.#d.rpc.call(z.unknown(), model, 'write', [dated, { effective_date: date }], write);
      if (pending.length > 0)
        await finishShipments(
          this.#d.rpc,
          model,
          pending.map((s) => ({ ...s, layout: layoutOf.get(s.id)! })),
          signal,
        );
    }
  }
}
