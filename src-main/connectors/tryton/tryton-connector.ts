import { z } from 'zod';
import type { ConnectorBundle, ProbeResult, RemoteLevel } from '../port/connector-bundle.js';
import type { ConnectorContext } from '../port/connector-context.js';
import { probeFailure } from '../port/call-failure.js';
import { ConnectorError } from '../port/connector-error.js';
import type { DeliveryResult, LedgerItem, SendOutcome } from '../port/connector.js';
import {
  nextStep,
  PlanError,
  planDocuments,
  shipmentModelOf,
  stateAfter,
  type ShipmentModel,
  type TrytonLine,
  type WarehouseLayout,
} from './tryton-documents.js';
import { TrytonCallError, TrytonRpc, type CallOptions } from './tryton-rpc.js';
import { TrytonSalePosting } from './tryton-sale-posting.js';
import { TrytonShipmentPosting } from './tryton-shipment-posting.js';
import { noteTracking } from './tryton-tracking.js';
import { TrytonStatementPosting } from './tryton-statement-posting.js';
import {
  MAX_ROUNDS,
  MAX_STEPS,
  SHIPMENT_LABELS,
  shipmentSchema,
  skusOf,
  type Ready,
} from './tryton-workflow.js';
import { idSchema, TrytonMasterData, type Store, type TrytonConfig } from './tryton-master-data.js';

/**
 * Items per send, per posting mode. A batch costs about as many calls as one item (one search, one create, each
 * workflow button once for all); what grows with it is Tryton's work per call. Measured by `npm run bench:erp` on
 * a loaded 2-core machine (trytond on SQLite): 100 customer shipments take about 5 s to create and 3 s per
 * button, while 100 sales take about 90 s to confirm (Tryton creates their invoices and shipments then) and 60 s
 * for their shipments' `done` (which processes the sales again). A send must stay inside the engine's send timeout
 * (30 s) and each call inside `requestTimeoutMs` (20 s by default), past which items are `unknown` and searched
 * again, so: 50 in `per_event`, 10 in `sales`.
 */
export const TRYTON_MAX_BATCH = { per_event: 50, sales: 10, daily_statement: 50 } as const;

/**
 * The Tryton ERP destination (ledger mode), over Tryton's JSON-RPC (6.0). Every ledger item becomes shipments
 * whose moves are done, so Tryton's stock quantities move with the local ledger (see `tryton-documents.ts` for
 * what each event type becomes).
 *
 * Exactly-once effect: Tryton has no idempotency key, so every shipment carries the item's idempotency key as its
 * `reference`, and the connector searches for it before it creates anything. The shipments of one item are
 * created in one call (one Tryton transaction), so they exist all or none. Found shipments are driven on through
 * their workflow to `done` from whatever state a crash left them in; nothing is ever created twice.
 *
 * Mappings: an item maps to a `product.product` id, a location to a warehouse's storage `stock.location` id.
 * Missing ones are discovered (a product whose `code` is the SKU, a location whose `code` is the local location
 * id) and saved; an item with nothing to map to is answered `unmapped`.
 *
 * Also reads levels back (`on_hand`): each product's quantity at the storage location (done moves, today).
 */
export function createTrytonConnector(config: TrytonConfig, context: ConnectorContext): ConnectorBundle {
  const rpcOptions = {
    url: config.url,
    database: config.database,
    username: config.username,
    password: config.password,
    agentId: context.agentId,
    timeoutMs: config.requestTimeoutMs,
    logger: context.logger,
  };
  const rpc = new TrytonRpc(rpcOptions);
  const ledger = new TrytonLedger(config, context, rpc);
  return {
    connector: {
      mode: 'ledger',
      maxBatch: TRYTON_MAX_BATCH[config.postingMode],
      send: (items, signal) => ledger.send(items, signal),
    },
    levels: {
      measures: 'on_hand',
      readLevels: (items, signal) => ledger.readLevels(items, signal),
    },
    ...(config.postingMode === 'daily_statement'
      ? {
          statements: {
            post: (statement, signal) => ledger.statements.post(statement, signal),
            read: (references, signal) => ledger.statements.read(references, signal),
          },
        }
      : {}),
    // A client of its own: a login now, not the connector's session from before a password change.
    probe: (signal) => probeTryton(config, new TrytonRpc(rpcOptions), signal),
  };
}

/**
 * The connection test: logs in (`common.db.login`, then the user's preferences) and reads the name of the
 * user's company, which every shipment Backroom creates belongs to. Reads only.
 */
async function probeTryton(config: TrytonConfig, rpc: TrytonRpc, signal: AbortSignal): Promise<ProbeResult> {
  try {
    const context = await rpc.userContext(signal);
    const who = `Tryton accepted the login of "${config.username}" to database "${config.database}"`;
    const id = idSchema.safeParse(context.company);
    if (!id.success)
      return {
        ok: false,
        reason: 'rejected',
        detail: `${who}, but the user has no current company; set one in its preferences`,
      };
    const [company] = await rpc.call(
      z.array(z.object({ rec_name: z.string() })),
      'company.company',
      'read',
      [[id.data], ['rec_name']],
      { signal, isWrite: false },
    );
    return { ok: true, detail: `${who}; company "${company?.rec_name ?? id.data}"` };
  } catch (error) {
    return probeFailure(error instanceof TrytonCallError ? connectorErrorOf(error) : error);
  }
}

/** A failed Tryton call as what a read throws. */
export function connectorErrorOf(error: TrytonCallError): ConnectorError {
  switch (error.kind) {
    case 'refused':
    case 'warning':
      return new ConnectorError('rejected', error.message);
    case 'auth':
      return new ConnectorError('auth_failed', error.message);
    case 'rate_limited':
      return new ConnectorError('rate_limited', error.message, error.retryAfterMs);
    case 'transient':
    case 'unknown':
      return new ConnectorError('unreachable', error.message);
  }
}

const isStopping = (r: DeliveryResult) =>
  r.kind === 'retry' || r.kind === 'unknown' || r.kind === 'rate_limited' || r.kind === 'auth_failed';

/** The connector's state: the RPC client and Tryton's master data (kept for the process). */
class TrytonLedger {
  readonly #config: TrytonConfig;
  readonly #context: ConnectorContext;
  readonly #rpc: TrytonRpc;
  /** Tryton's master data, looked up (and cached) as documents need it. */
  readonly #data: TrytonMasterData;
  /** Shipments posted many at a time (`per_event`, and every non-sale event in the other modes). */
  readonly #shipments: TrytonShipmentPosting;
  /** The `sales` posting mode's sales. */
  readonly #sales: TrytonSalePosting;
  /** The `daily_statement` posting mode's statements (one sale per location and business day). */
  readonly statements: TrytonStatementPosting;

  constructor(config: TrytonConfig, context: ConnectorContext, rpc: TrytonRpc) {
    this.#config = config;
    this.#context = context;
    this.#rpc = rpc;
    this.#data = new TrytonMasterData(config, context, rpc);
    this.#shipments = new TrytonShipmentPosting({
      rpc,
      data: this.#data,
      plan: (item, model, store, products, signal) => this.#plan(item, model, store, products, signal),
      deliverOne: (item, signal) => this.#deliver(item, signal),
    });
    this.#sales = new TrytonSalePosting({
      rpc,
      data: this.#data,
      logger: context.logger,
      deliverOne: (item, signal) => this.#deliver(item, signal),
    });
    this.statements = new TrytonStatementPosting({
      rpc,
      data: this.#data,
      sales: this.#sales,
      logger: context.logger,
    });
  }

  /**
   * Delivers the items in order, one result each. Items between two counts are posted together (`#deliverRun`:
   * one search, one create and one call per workflow button for all of them); a count goes alone, after the items
   * before it are done, since it measures Tryton's level. The first transient failure (or a refused login) stops
   * the batch: the items after it get `retry`, so order within the lane holds (an item of the same run that was
   * done anyway is found by its reference next time and answered `already_applied`).
   */
  async send(items: readonly LedgerItem[], signal: AbortSignal): Promise<SendOutcome> {
    const results: DeliveryResult[] = [];
    let stopped: string | null = null;
    let start = 0;
    while (start < items.length) {
      if (stopped === null && signal.aborted) stopped = 'the send was stopped';
      if (stopped !== null) {
        results.push({ kind: 'retry', detail: stopped });
        start += 1;
        continue;
      }
      let end = start + 1;
      if (items[start]!.event.type !== 'count')
        while (end < items.length && items[end]!.event.type !== 'count') end += 1;
      const run = items.slice(start, end);
      const answers =
        run.length === 1 ? [await this.#deliver(run[0]!, signal)] : await this.#deliverRun(run, signal);
      for (const result of answers) {
        if (stopped !== null) {
          results.push({ kind: 'retry', detail: stopped });
          continue;
        }
        results.push(result);
        if (isStopping(result)) stopped = `an earlier item of this location waits (${result.kind})`;
      }
      start = end;
    }
    return { results };
  }

  /**
   * Posts several items (no count among them) with as few calls as Tryton allows, grouped by document model: the
   * shipments of each model by `TrytonShipmentPosting`, the `sales` mode's sales by `TrytonSalePosting` (each: one
   * search of all their references, one create of what is not found, each workflow button once for all; a refused
   * call posted again item by item to find the refused one).
   */
  async #deliverRun(items: readonly LedgerItem[], signal: AbortSignal): Promise<DeliveryResult[]> {
    const results: (DeliveryResult | undefined)[] = items.map(() => undefined);
    const groups = new Map<Ready['model'], { index: number; ready: Ready }[]>();
    try {
      for (const [index, item] of items.entries()) {
        const ready = await this.#prepare(item, signal);
        if ('kind' in ready) results[index] = ready;
        else groups.set(ready.model, [...(groups.get(ready.model) ?? []), { index, ready }]);
      }
      for (const [model, members] of groups) {
        const unresolved =
          model === 'sale.sale'
            ? await this.#sales.post(members, signal, true)
            : await this.#shipments.post(model, members, signal);
        for (const [index, result] of unresolved) results[index] = result;
      }
    } catch (error) {
      for (const [index, item] of items.entries())
        if (results[index] === undefined) results[index] = this.#classify(error, item);
    }
    return results.map(
      (r, index) => r ?? { kind: 'retry', detail: `${items[index]!.idempotencyKey} was not tried` },
    );
  }

  /**
   * What an item needs before anything is written: its shipment model, its store and its products; or its
   * result when it needs nothing (a reservation) or cannot be posted yet (an unmapped location or SKU).
   */
  async #prepare(item: LedgerItem, signal: AbortSignal): Promise<Ready | DeliveryResult> {
    const { event } = item;
    const isSale = this.#config.postingMode === 'sales' && (event.type === 'sale' || event.type === 'return');
    const model = isSale ? 'sale.sale' : shipmentModelOf(event.type);
    // Reservations live in Backroom and the marketplaces; Tryton's stock only moves when goods move.
    if (model === null) return { kind: 'delivered' };
    const storage = await this.#data.storageOf(event.location, signal);
    if (storage === null)
      return {
        kind: 'unmapped',
        mapping: 'location',
        localId: event.location,
        detail: `no Tryton storage location or warehouse has the code "${event.location}"; map the location to a storage location id`,
      };
    const products: number[] = [];
    for (const line of event.lines) {
      const product = await this.#data.productOf(line.sku, signal);
      if (product === null)
        return {
          kind: 'unmapped',
          mapping: 'item',
          localId: line.sku,
          detail: `no Tryton product has the code "${line.sku}"; map the SKU to a product id`,
        };
      products.push(product);
    }
    return { item, model, store: await this.#data.store(storage, signal), products };
  }

  async #deliver(item: LedgerItem, signal: AbortSignal): Promise<DeliveryResult> {
    const { idempotencyKey } = item;
    const read: CallOptions = { signal, isWrite: false };
    const write: CallOptions = { signal, isWrite: true };
    try {
      const ready = await this.#prepare(item, signal);
      if ('kind' in ready) return ready;
      if (ready.model === 'sale.sale')
        return (await this.#sales.post([{ index: 0, ready }], signal, false)).get(0)!;
      const { model, store, products } = ready;

      // Exactly once: whatever a previous attempt created carries this key. Found means finish, never create.
      let shipments = await this.#rpc.call(
        z.array(shipmentSchema),
        model,
        'search_read',
        [[['reference', '=', idempotencyKey]], 0, null, null, ['state']],
        read,
      );
      const tracked = () => [{ event: item.event, shipmentIds: shipments.map((s) => s.id) }];
      if (shipments.length > 0 && shipments.every((s) => s.state === 'done')) {
        await noteTracking(this.#rpc, model, tracked(), signal);
        return { kind: 'already_applied' };
      }
      if (shipments.length === 0) {
        const documents = await this.#plan(item, model, store, products, signal);
        // A count that matches Tryton's level moves nothing; a retry reads the level again and finds the same.
        if (documents.length === 0) return { kind: 'delivered' };
        let ids: number[];
        try {
          ids = await this.#rpc.callAcknowledging(z.array(idSchema), model, 'create', [documents], write);
        } catch (error) {
          if (error instanceof TrytonCallError && error.kind === 'refused')
            return {
              kind: 'rejected',
              detail: `Tryton refused it: ${error.message} (SKUs: ${skusOf(item)})`,
            };
          throw error;
        }
        shipments = ids.map((id) => ({ id, state: 'draft' }));
      } else {
        this.#context.logger.info(
          { key: idempotencyKey, shipments: shipments.map((s) => s.id) },
          'found the shipments of an earlier attempt; finishing them',
        );
      }
      await noteTracking(this.#rpc, model, tracked(), signal);
      await this.#finish(model, shipments, store.layout, signal);
      return { kind: 'delivered' };
    } catch (error) {
      return this.#classify(error, item);
    }
  }

  /**
   * Drives the shipments of one item to `done`: presses each one's workflow buttons in a row on the states they
   * are predicted to reach, then reads the states once; a shipment not done yet (a prediction Tryton did not
   * follow) gets another round from its real state. Tryton's warnings are acknowledged on the way.
   */
  async #finish(
    model: ShipmentModel,
    shipments: readonly z.output<typeof shipmentSchema>[],
    layout: WarehouseLayout,
    signal: AbortSignal,
  ): Promise<void> {
    let pending = shipments;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      for (const shipment of pending) {
        let state = shipment.state;
        for (let steps = 0; steps < MAX_STEPS; steps += 1) {
          const step = nextStep(model, state, layout);
          if (step === 'finished') break;
          if (step === 'cancelled')
            throw new PlanError(
              `the ${SHIPMENT_LABELS[model]} ${shipment.id} made for it was cancelled in Tryton; reset it to draft in Tryton and retry, or discard this item`,
            );
          await this.#rpc.callAcknowledging(z.unknown(), model, step, [[shipment.id]], {
            signal,
            isWrite: true,
          });
          state = stateAfter(model, step, layout);
        }
      }
      const ids = pending.map((s) => s.id);
      const states = await this.#rpc.call(z.array(shipmentSchema), model, 'read', [ids, ['state']], {
        signal,
        isWrite: false,
      });
      if (states.length !== ids.length)
        throw new PlanError(`a ${SHIPMENT_LABELS[model]} made for it was deleted in Tryton`);
      pending = states.filter((s) => s.state !== 'done');
      if (pending.length === 0) return;
    }
    throw new TrytonCallError(
      'transient',
      `the ${SHIPMENT_LABELS[model]} ${pending.map((s) => s.id).join(', ')} is not done after ${MAX_ROUNDS} rounds (${pending.map((s) => s.state).join(', ')})`,
    );
  }

  /** The shipments to create for an item, with everything its type needs read from Tryton. */
  async #plan(
    item: LedgerItem,
    model: ShipmentModel,
    store: Store,
    products: readonly number[],
    signal: AbortSignal,
  ): Promise<Record<string, unknown>[]> {
    const { event } = item;
    const type = event.type;
    if (type === 'reserve' || type === 'release') return [];
    const uoms = await this.#data.uomsOf(products, signal);
    const lines: TrytonLine[] = [];
    for (const [i, line] of event.lines.entries()) {
      const product = products[i]!;
      const currency =
        line.unitPrice === undefined
          ? null
          : line.currency === undefined
            ? store.places.currency
            : await this.#data.currencyOf(line.currency, signal);
      lines.push({
        product,
        uom: uoms.get(product)!,
        // A count sets Tryton to the level the count left in the ledger (the counted quantity less what moved
        // between counting and posting, which Tryton already has), never back to the bare counted quantity.
        qty: type === 'count' ? (item.levelsAfter?.[line.sku] ?? line.qty) : line.qty,
        unitPrice: currency === null ? null : (line.unitPrice ?? null),
        currency,
      });
    }
    const date = await this.#data.bookingDateOf(item, store.places.company, signal);
    const base = { type, reference: item.idempotencyKey, lines, places: store.places, date };
    switch (model) {
      case 'stock.shipment.out':
      case 'stock.shipment.out.return':
        return planDocuments({ ...base, customer: await this.#data.party('customer', signal) });
      case 'stock.shipment.in':
        return planDocuments({ ...base, supplier: await this.#data.party('supplier', signal) });
      case 'stock.shipment.internal':
        if (type === 'transfer_out' || type === 'transfer_in')
          return planDocuments({ ...base, transit: await this.#data.transit(signal) });
        if (type === 'count')
          return planDocuments({
            ...base,
            current: await this.#data.onHand(store.places.storage, products, signal),
          });
        return planDocuments(base);
    }
  }

  /** Maps a failure onto the result taxonomy; anything unexpected is logged and retried. */
  #classify(error: unknown, item: LedgerItem): DeliveryResult {
    if (error instanceof PlanError) return { kind: 'rejected', detail: error.message };
    if (error instanceof TrytonCallError) {
      switch (error.kind) {
        case 'refused':
        case 'warning':
          return { kind: 'rejected', detail: `Tryton refused it: ${error.message}` };
        case 'auth':
          return { kind: 'auth_failed', detail: error.message };
        case 'rate_limited':
          return { kind: 'rate_limited', retryAfterMs: error.retryAfterMs, detail: error.message };
        case 'transient':
          return { kind: 'retry', detail: error.message };
        case 'unknown':
          return { kind: 'unknown', detail: error.message };
      }
    }
    this.#context.logger.error(
      { err: error, key: item.idempotencyKey },
      'unexpected failure sending to Tryton',
    );
    return { kind: 'retry', detail: `unexpected: ${error instanceof Error ? error.message : String(error)}` };
  }

  /** Reads on-hand quantities back, one call per location. Unmapped items come back with quantity null. */
  async readLevels(
    items: readonly Readonly<{ sku: string; location: string }>[],
    signal: AbortSignal,
  ): Promise<RemoteLevel[]> {
    try {
      const byLocation = new Map<string, string[]>();
      for (const { sku, location } of items)
        byLocation.set(location, [...(byLocation.get(location) ?? []), sku]);
      const levels = new Map<string, number | null>();
      for (const [location, skus] of byLocation) {
        const storage = await this.#data.storageOf(location, signal);
        const products = new Map<string, number>();
        for (const sku of skus) {
          const product = storage === null ? null : await this.#data.productOf(sku, signal);
          if (product !== null) products.set(sku, product);
        }
        const quantities =
          storage === null || products.size === 0
            ? new Map<number, number>()
            : await this.#data.onHand(storage, [...new Set(products.values())], signal);
        for (const sku of skus) {
          const product = products.get(sku);
          levels.set(
            `${sku}\u0000${location}`,
            product === undefined ? null : (quantities.get(product) ?? 0),
          );
        }
      }
      return items.map(({ sku, location }) => ({
        sku,
        location,
        quantity: levels.get(`${sku}\u0000${location}`) ?? null,
      }));
    } catch (error) {
      if (error instanceof PlanError) throw new ConnectorError('rejected', error.message);
      if (error instanceof TrytonCallError) throw connectorErrorOf(error);
      throw error;
    }
  }
}
