import { z } from 'zod';
import type { ResolvedDestination } from '../../../shared/config.js';
import type { ConnectorBundle, ConnectorContext, ProbeResult, RemoteLevel } from '../connector-kit.js';
import { ConnectorError, probeFailure } from '../connector-kit.js';
import type { DeliveryResult, LedgerItem, SendOutcome } from '../../outbox/connector.js';
import {
  bookingDate,
  nextStep,
  PlanError,
  planDocuments,
  shipmentModelOf,
  stateAfter,
  type ShipmentModel,
  type TrytonLine,
  type TrytonParty,
  type TrytonPlaces,
  type WarehouseLayout,
} from './tryton-documents.js';
import {
  TrytonCallError,
  TrytonRpc,
  trytonDateSchema,
  type CallOptions,
  type TrytonDate,
} from './tryton-rpc.js';

export type TrytonConfig = Extract<ResolvedDestination, { type: 'tryton' }>;

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
/** How long Tryton's today and its last closed stock period are trusted before they are read again. */
const CALENDAR_TTL_MS = 60_000;

const idSchema = z.number().int().positive();
const shipmentSchema = z.object({ id: idSchema, state: z.string() });
const many2one = idSchema.nullable();

/** Places of one storage location, with the layout of its warehouse. */
type Store = Readonly<{ places: TrytonPlaces; layout: WarehouseLayout }>;

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
function connectorErrorOf(error: TrytonCallError): ConnectorError {
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

/** The connector's state: the RPC client and what it learnt of Tryton's master data (kept for the process). */
class TrytonLedger {
  readonly #config: TrytonConfig;
  readonly #context: ConnectorContext;
  readonly #rpc: TrytonRpc;
  /** Lookups that rarely change, cached as promises so concurrent lanes share them; a failure is not kept. */
  readonly #cache = new Map<string, Promise<unknown>>();
  /** Per company: Tryton's today and the end of its last closed stock period, and when they were read. */
  readonly #calendars = new Map<number, { at: number; today: TrytonDate; closedUntil: TrytonDate | null }>();

  constructor(config: TrytonConfig, context: ConnectorContext, rpc: TrytonRpc) {
    this.#config = config;
    this.#context = context;
    this.#rpc = rpc;
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
      const storage = await this.#storageOf(event.location, signal);
      if (storage === null)
        return {
          kind: 'unmapped',
          mapping: 'location',
          localId: event.location,
          detail: `no Tryton storage location or warehouse has the code "${event.location}"; map the location to a storage location id`,
        };
      const products: number[] = [];
      for (const line of event.lines) {
        const product = await this.#productOf(line.sku, signal);
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
      const store = await this.#store(storage, signal);
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
    const uoms = await this.#uomsOf(products, signal);
    const lines: TrytonLine[] = [];
    for (const [i, line] of event.lines.entries()) {
      const product = products[i]!;
      const currency =
        line.unitPrice === undefined
          ? null
          : line.currency === undefined
            ? store.places.currency
            : await this.#currencyOf(line.currency, signal);
      lines.push({
        product,
        uom: uoms.get(product)!,
        qty: line.qty,
        unitPrice: currency === null ? null : (line.unitPrice ?? null),
        currency,
      });
    }
    const date = await this.#bookingDateOf(item, store.places.company, signal);
    const base = { type, reference: item.idempotencyKey, lines, places: store.places, date };
    switch (model) {
      case 'stock.shipment.out':
      case 'stock.shipment.out.return':
        return planDocuments({ ...base, customer: await this.#party('customer', signal) });
      case 'stock.shipment.in':
        return planDocuments({ ...base, supplier: await this.#party('supplier', signal) });
      case 'stock.shipment.internal':
        if (type === 'transfer_out' || type === 'transfer_in')
          return planDocuments({ ...base, transit: await this.#transit(signal) });
        if (type === 'count')
          return planDocuments({
            ...base,
            current: await this.#onHand(store.places.storage, products, signal),
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
        const storage = await this.#storageOf(location, signal);
        const products = new Map<string, number>();
        for (const sku of skus) {
          const product = storage === null ? null : await this.#productOf(sku, signal);
          if (product !== null) products.set(sku, product);
        }
        const quantities =
          storage === null || products.size === 0
            ? new Map<number, number>()
            : await this.#onHand(storage, [...new Set(products.values())], signal);
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

  /**
   * The day an item's shipments are dated in Tryton: the day it happened, unless that is after Tryton's today
   * or inside a closed stock period (then today, logged). See `bookingDate`.
   */
  async #bookingDateOf(item: LedgerItem, company: number, signal: AbortSignal): Promise<TrytonDate> {
    const now = Date.now();
    let calendar = this.#calendars.get(company);
    if (calendar === undefined || now - calendar.at > CALENDAR_TTL_MS) {
      const read: CallOptions = { signal, isWrite: false };
      const today = await this.#rpc.call(trytonDateSchema, 'ir.date', 'today', [], read);
      const closed = await this.#rpc.call(
        z.array(z.object({ date: trytonDateSchema })),
        'stock.period',
        'search_read',
        [
          [
            ['state', '=', 'closed'],
            ['company', '=', company],
          ],
          0,
          1,
          [['date', 'DESC']],
          ['date'],
        ],
        read,
      );
      calendar = { at: now, today, closedUntil: closed[0]?.date ?? null };
      this.#calendars.set(company, calendar);
    }
    const { date, isMoved } = bookingDate(item.event.occurredAt, calendar.today, calendar.closedUntil);
    if (isMoved)
      this.#context.logger.info(
        { key: item.idempotencyKey, occurredAt: item.event.occurredAt, closedUntil: calendar.closedUntil },
        "booked on Tryton's today: the day it happened is after it, or in a closed stock period",
      );
    return date;
  }

  /** Tryton's on-hand quantity of each product at a storage location (and its children): done moves up to today. */
  async #onHand(
    storage: number,
    products: readonly number[],
    signal: AbortSignal,
  ): Promise<Map<number, number>> {
    const read: CallOptions = { signal, isWrite: false };
    // `stock_date_end` = Tryton's today counts done moves only; without it Tryton forecasts (draft moves too).
    const today = await this.#rpc.call(trytonDateSchema, 'ir.date', 'today', [], read);
    const rows = await this.#rpc.call(
      z.array(z.object({ id: idSchema, quantity: z.number() })),
      'product.product',
      'read',
      [products, ['quantity']],
      { ...read, context: { locations: [storage], stock_date_end: today } },
    );
    return new Map(rows.map((r) => [r.id, r.quantity]));
  }

  /** The storage location a local location maps to, discovering it by code; null when Tryton has none. */
  async #storageOf(location: string, signal: AbortSignal): Promise<number | null> {
    const mapped = this.#context.mappings.location(location);
    if (mapped !== null) return remoteId(mapped, `location ${location}`);
    const found = await this.#rpc.call(
      z.array(z.object({ id: idSchema, type: z.string(), storage_location: many2one })),
      'stock.location',
      'search_read',
      [
        [
          ['code', '=', location],
          ['type', 'in', ['storage', 'warehouse']],
        ],
        0,
        null,
        null,
        ['type', 'storage_location'],
      ],
      { signal, isWrite: false },
    );
    // A storage location with the code wins over a warehouse with it; a warehouse stands for its storage.
    const match = found.find((l) => l.type === 'storage') ?? found.find((l) => l.type === 'warehouse');
    const storage = match === undefined ? null : match.type === 'storage' ? match.id : match.storage_location;
    if (storage === null) return null;
    this.#context.logger.info({ location, storage }, 'discovered the Tryton storage location of a location');
    this.#context.mappings.saveDiscovered('location', location, String(storage));
    return storage;
  }

  /** The product a SKU maps to, discovering it by code; null when Tryton has none. */
  async #productOf(sku: string, signal: AbortSignal): Promise<number | null> {
    const mapped = this.#context.mappings.item(sku);
    if (mapped !== null) return remoteId(mapped, `SKU ${sku}`);
    const found = await this.#rpc.call(
      z.array(idSchema),
      'product.product',
      'search',
      [[['code', '=', sku]], 0, 2, null],
      { signal, isWrite: false },
    );
    // Tryton keeps product codes unique; two matches would be a guess, and a connector never guesses.
    if (found.length !== 1) return null;
    this.#context.logger.info({ sku, product: found[0] }, 'discovered the Tryton product of a SKU');
    this.#context.mappings.saveDiscovered('item', sku, String(found[0]));
    return found[0]!;
  }

  /** The unit of measure of each product (moves are in the product's default unit). */
  async #uomsOf(products: readonly number[], signal: AbortSignal): Promise<Map<number, number>> {
    const uoms = new Map<number, number>();
    const missing = [...new Set(products)].filter((p) => !this.#cache.has(`uom:${p}`));
    if (missing.length > 0) {
      const rows = this.#rpc.call(
        z.array(z.object({ id: idSchema, default_uom: idSchema })),
        'product.product',
        'read',
        [missing, ['default_uom']],
        { signal, isWrite: false },
      );
      for (const product of missing)
        this.#remember(
          `uom:${product}`,
          rows.then((r) => {
            const row = r.find((x) => x.id === product);
            if (row === undefined) throw new PlanError(`Tryton has no product ${product}`);
            return row.default_uom;
          }),
        );
    }
    for (const product of products) uoms.set(product, (await this.#cache.get(`uom:${product}`)) as number);
    return uoms;
  }

  /** Where a storage location is: its warehouse's input, output and lost and found, and the company. */
  #store(storage: number, signal: AbortSignal): Promise<Store> {
    return this.#once(`store:${storage}`, async () => {
      const read: CallOptions = { signal, isWrite: false };
      const [location] = await this.#rpc.call(
        z.array(z.object({ id: idSchema, warehouse: many2one })),
        'stock.location',
        'read',
        [[storage], ['warehouse']],
        read,
      );
      if (location?.warehouse == null)
        throw new PlanError(
          `Tryton location ${storage} is not inside a warehouse; map the location to a warehouse's storage location`,
        );
      const [warehouse] = await this.#rpc.call(
        z.array(
          z.object({
            id: idSchema,
            input_location: idSchema,
            output_location: idSchema,
            storage_location: idSchema,
            lost_found_location: many2one,
          }),
        ),
        'stock.location',
        'read',
        [
          [location.warehouse],
          ['input_location', 'output_location', 'storage_location', 'lost_found_location'],
        ],
        read,
      );
      if (warehouse === undefined) throw new PlanError(`Tryton has no warehouse ${location.warehouse}`);
      if (warehouse.storage_location !== storage)
        throw new PlanError(
          `Tryton location ${storage} is not the storage location of its warehouse (${warehouse.storage_location} is); map the location to that one`,
        );
      const lostFound = warehouse.lost_found_location ?? (await this.#anyLostFound(signal));
      const company = await this.#company(signal);
      return {
        places: {
          company: company.id,
          currency: company.currency,
          warehouse: warehouse.id,
          storage,
          input: warehouse.input_location,
          output: warehouse.output_location,
          lostFound,
        },
        layout: {
          isOneStepIn: warehouse.input_location === storage,
          isOneStepOut: warehouse.output_location === storage,
        },
      };
    });
  }

  async #anyLostFound(signal: AbortSignal): Promise<number> {
    const [id] = await this.#rpc.call(
      z.array(idSchema),
      'stock.location',
      'search',
      [[['type', '=', 'lost_found']], 0, 1, null],
      { signal, isWrite: false },
    );
    if (id === undefined) throw new PlanError('Tryton has no lost and found location');
    return id;
  }

  /** The user's current company, its currency and its party. */
  #company(signal: AbortSignal): Promise<{ id: number; currency: number; party: number }> {
    return this.#once('company', async () => {
      const context = await this.#rpc.userContext(signal);
      const id = idSchema.safeParse(context.company);
      if (!id.success)
        throw new PlanError(
          `Tryton user "${this.#config.username}" has no current company; set one in its preferences`,
        );
      const [company] = await this.#rpc.call(
        z.array(z.object({ id: idSchema, currency: idSchema, party: idSchema })),
        'company.company',
        'read',
        [[id.data], ['currency', 'party']],
        { signal, isWrite: false },
      );
      if (company === undefined) throw new PlanError(`Tryton has no company ${id.data}`);
      return company;
    });
  }

  /**
   * The party customer shipments (or supplier shipments) name: the configured one by its code, else the
   * company's own party (a store's walk-in sales have no customer of their own).
   */
  #party(role: 'customer' | 'supplier', signal: AbortSignal): Promise<TrytonParty> {
    return this.#once(`party:${role}`, async () => {
      const read: CallOptions = { signal, isWrite: false };
      const code = role === 'customer' ? this.#config.customerParty : this.#config.supplierParty;
      let party: number;
      if (code === undefined) party = (await this.#company(signal)).party;
      else {
        const [found] = await this.#rpc.call(
          z.array(idSchema),
          'party.party',
          'search',
          [[['code', '=', code]], 0, 1, null],
          read,
        );
        if (found === undefined) throw new PlanError(`no Tryton party has the code "${code}" (${role}Party)`);
        party = found;
      }
      const [row] = await this.#rpc.call(
        z.array(
          z.object({
            id: idSchema,
            addresses: z.array(idSchema),
            customer_location: many2one,
            supplier_location: many2one,
          }),
        ),
        'party.party',
        'read',
        [[party], ['addresses', 'customer_location', 'supplier_location']],
        read,
      );
      const location = role === 'customer' ? row?.customer_location : row?.supplier_location;
      if (row === undefined || location == null)
        throw new PlanError(`Tryton party ${party} has no ${role} location; set one on the party`);
      return { id: row.id, address: row.addresses[0] ?? null, location };
    });
  }

  /** The transit location of internal shipments (Tryton's stock configuration). */
  #transit(signal: AbortSignal): Promise<number> {
    return this.#once('transit', async () => {
      const [config] = await this.#rpc.call(
        z.array(z.object({ id: idSchema, shipment_internal_transit: many2one })),
        'stock.configuration',
        'read',
        [[1], ['shipment_internal_transit']],
        { signal, isWrite: false },
      );
      const transit = config?.shipment_internal_transit;
      if (transit == null)
        throw new PlanError("Tryton's stock configuration names no internal transit location");
      return transit;
    });
  }

  /** The Tryton currency of an ISO code; null when Tryton does not have it (the price is then left at 0). */
  #currencyOf(code: string, signal: AbortSignal): Promise<number | null> {
    return this.#once(`currency:${code}`, async () => {
      const [id] = await this.#rpc.call(
        z.array(idSchema),
        'currency.currency',
        'search',
        [[['code', '=', code]], 0, 1, null],
        {
          signal,
          isWrite: false,
        },
      );
      return id ?? null;
    });
  }

  #once<T>(key: string, load: () => Promise<T>): Promise<T> {
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached as Promise<T>;
    const promise = load();
    this.#remember(key, promise);
    return promise;
  }

  /** Keeps a lookup for the life of the connector; one that fails is forgotten, so the next send asks again. */
  #remember(key: string, promise: Promise<unknown>): void {
    this.#cache.set(key, promise);
    promise.catch(() => {
      if (this.#cache.get(key) === promise) this.#cache.delete(key);
    });
  }
}

/** A mapping's remote id as a Tryton record id; a mapping that is not one is a mistake staff must fix. */
function remoteId(mapped: string, what: string): number {
  const id = Number(mapped);
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new PlanError(`the Tryton mapping of ${what} is "${mapped}", which is not a Tryton record id`);
  return id;
}

function skusOf(item: LedgerItem): string {
  return [...new Set(item.event.lines.map((l) => l.sku))].join(', ');
}
