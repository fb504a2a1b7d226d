import { z } from 'zod';
import type { ResolvedDestination } from '../../../shared/config.js';
import type { LedgerItem } from '../port/connector.js';
import type { ConnectorContext } from '../port/connector-context.js';
import {
  bookingDate,
  PlanError,
  type TrytonParty,
  type TrytonPlaces,
  type WarehouseLayout,
} from './tryton-documents.js';
import { trytonDateSchema, type CallOptions, type TrytonDate, type TrytonRpc } from './tryton-rpc.js';

/** A `tryton` destination's config, as the loader resolved it. */
export type TrytonConfig = Extract<ResolvedDestination, { type: 'tryton' }>;

/** How long Tryton's today and its last closed stock period are trusted before they are read again. */
const CALENDAR_TTL_MS = 60_000;

export const idSchema = z.number().int().positive();
const many2one = idSchema.nullable();

/** Places of one storage location, with the layout of its warehouse. */
export type Store = Readonly<{ places: TrytonPlaces; layout: WarehouseLayout }>;

/**
 * What the Tryton connector reads of Tryton's master data to build and date documents: storage locations and
 * their warehouses, products and their units, parties, the transit location, currencies, on-hand quantities,
 * and Tryton's calendar (today, the last closed stock period). Lookups that rarely change are cached for the
 * life of the connector, as promises so concurrent lanes share one request; one that fails is not kept.
 * Mappings staff set win over discovery (a product whose `code` is the SKU, a location whose `code` is the
 * local location id), and what is discovered is saved as a mapping.
 */
export class TrytonMasterData {
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
   * The day an item's shipments are dated in Tryton: the day it happened, unless that is after Tryton's today
   * or inside a closed stock period (then today, logged). See `bookingDate`.
   */
  async bookingDateOf(item: LedgerItem, company: number, signal: AbortSignal): Promise<TrytonDate> {
    return this.bookingDateAt(item.event.occurredAt, item.idempotencyKey, company, signal);
  }

  /** `bookingDateOf` for a time as the POS wrote it (`occurredAt`, or a statement's day) and the key it logs. */
  async bookingDateAt(
    occurredAt: string,
    key: string,
    company: number,
    signal: AbortSignal,
  ): Promise<TrytonDate> {
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
    const { date, isMoved } = bookingDate(occurredAt, calendar.today, calendar.closedUntil);
    if (isMoved)
      this.#context.logger.info(
        { key, occurredAt, closedUntil: calendar.closedUntil },
        "booked on Tryton's today: the day it happened is after it, or in a closed stock period",
      );
    return date;
  }

  /** Tryton's on-hand quantity of each product at a storage location (and its children): done moves up to today. */
  async onHand(
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
  async storageOf(location: string, signal: AbortSignal): Promise<number | null> {
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
  async productOf(sku: string, signal: AbortSignal): Promise<number | null> {
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
  async uomsOf(products: readonly number[], signal: AbortSignal): Promise<Map<number, number>> {
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
  store(storage: number, signal: AbortSignal): Promise<Store> {
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
  party(role: 'customer' | 'supplier', signal: AbortSignal): Promise<TrytonParty> {
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

  /**
   * The products among `products` that are inactive in Tryton (withdrawn from sale). Read each time, not cached:
   * a product is withdrawn while the agent runs. Tryton itself lets a sale line name an inactive product.
   */
  async inactiveOf(products: readonly number[], signal: AbortSignal): Promise<Set<number>> {
    const rows = await this.#rpc.call(
      // Tryton on SQLite answers a boolean as 0 or 1.
      z.array(z.object({ id: idSchema, active: z.union([z.boolean(), z.literal(0), z.literal(1)]) })),
      'product.product',
      'read',
      [[...new Set(products)], ['active']],
      { signal, isWrite: false, context: { active_test: false } },
    );
    return new Set(rows.filter((r) => !r.active).map((r) => r.id));
  }

  /** The customer party's payment term (`sales` mode: a sale takes it, as Tryton's own form does); null when none. */
  customerPaymentTerm(party: number, signal: AbortSignal): Promise<number | null> {
    return this.#once(`payment-term:${party}`, async () => {
      const [row] = await this.#rpc.call(
        z.array(z.object({ id: idSchema, customer_payment_term: many2one })),
        'party.party',
        'read',
        [[party], ['customer_payment_term']],
        { signal, isWrite: false },
      );
      return row?.customer_payment_term ?? null;
    });
  }

  /** The transit location of internal shipments (Tryton's stock configuration). */
  transit(signal: AbortSignal): Promise<number> {
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
  currencyOf(code: string, signal: AbortSignal): Promise<number | null> {
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
