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
import { idSchema, TrytonMasterData, type Store, type TrytonConfig } from './tryton-master-data.js';

/**
 * Items per send. Each item is several calls (search, create, three to six workflow buttons and warnings, a
 * check), a tenth of a second each on a quiet Tryton and up to a few seconds on a loaded one: ten keep a send
 * inside the engine's send timeout (30 s), past which the item in flight is `unknown` and checked again.
 */
export const TRYTON_MAX_BATCH = 10;
/** Most workflow buttons pressed on one shipment in a round (a customer shipment needs four). */
const MAX_STEPS = 8;
/** Rounds of buttons and a state check before an item is given up for this attempt. */
const MAX_ROUNDS = 3;
const shipmentSchema = z.object({ id: idSchema, state: z.string() });

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
      maxBatch: TRYTON_MAX_BATCH,
      send: (items, signal) => ledger.send(items, signal),
    },
    levels: {
      measures: 'on_hand',
      readLevels: (items, signal) => ledger.readLevels(items, signal),
    },
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

/** What Tryton calls the shipments, for messages. */
const LABELS: Record<ShipmentModel, string> = {
  'stock.shipment.out': 'customer shipment',
  'stock.shipment.out.return': 'customer return shipment',
  'stock.shipment.in': 'supplier shipment',
  'stock.shipment.internal': 'internal shipment',
};

/** The connector's state: the RPC client and Tryton's master data (kept for the process). */
class TrytonLedger {
  readonly #context: ConnectorContext;
  readonly #rpc: TrytonRpc;
  /** Tryton's master data, looked up (and cached) as documents need it. */
  readonly #data: TrytonMasterData;

  constructor(config: TrytonConfig, context: ConnectorContext, rpc: TrytonRpc) {
    this.#context = context;
    this.#rpc = rpc;
    this.#data = new TrytonMasterData(config, context, rpc);
  }

  /**
   * Delivers the items one by one, in order, one result each. The first transient failure (or a refused login)
   * stops the batch: the items after it get `retry` untried, so order within the lane holds.
   */
  async send(items: readonly LedgerItem[], signal: AbortSignal): Promise<SendOutcome> {
    const results: DeliveryResult[] = [];
    let stopped: string | null = null;
    for (const item of items) {
      if (stopped === null && signal.aborted) stopped = 'the send was stopped';
      if (stopped !== null) {
        results.push({ kind: 'retry', detail: stopped });
        continue;
      }
      const result = await this.#deliver(item, signal);
      results.push(result);
      if (isStopping(result)) stopped = `an earlier item of this location waits (${result.kind})`;
    }
    return { results };
  }

  async #deliver(item: LedgerItem, signal: AbortSignal): Promise<DeliveryResult> {
    const { event, idempotencyKey } = item;
    const model = shipmentModelOf(event.type);
    // Reservations live in Backroom and the marketplaces; Tryton's stock only moves when goods move.
    if (model === null) return { kind: 'delivered' };
    const read: CallOptions = { signal, isWrite: false };
    const write: CallOptions = { signal, isWrite: true };
    try {
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

      // Exactly once: whatever a previous attempt created carries this key. Found means finish, never create.
      let shipments = await this.#rpc.call(
        z.array(shipmentSchema),
        model,
        'search_read',
        [[['reference', '=', idempotencyKey]], 0, null, null, ['state']],
        read,
      );
      const store = await this.#data.store(storage, signal);
      if (shipments.length > 0 && shipments.every((s) => s.state === 'done'))
        return { kind: 'already_applied' };
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
              `the ${LABELS[model]} ${shipment.id} made for it was cancelled in Tryton; reset it to draft in Tryton and retry, or discard this item`,
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
        throw new PlanError(`a ${LABELS[model]} made for it was deleted in Tryton`);
      pending = states.filter((s) => s.state !== 'done');
      if (pending.length === 0) return;
    }
    throw new TrytonCallError(
      'transient',
      `the ${LABELS[model]} ${pending.map((s) => s.id).join(', ')} is not done after ${MAX_ROUNDS} rounds (${pending.map((s) => s.state).join(', ')})`,
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

function skusOf(item: LedgerItem): string {
  return [...new Set(item.event.lines.map((l) => l.sku))].join(', ');
}
