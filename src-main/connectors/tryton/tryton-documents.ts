import { assertNever, type EventType } from '../../../shared/events.js';
import { trytonDecimal, type TrytonDate } from './tryton-rpc.js';

/**
 * The Tryton documents a ledger event becomes. Each event is one or more shipments of one model, created in
 * one `create` call (so all of them exist or none), each carrying the item's idempotency key in `reference`:
 *
 * | event                    | model                        | moves                                                |
 * | ------------------------ | ---------------------------- | ---------------------------------------------------- |
 * | `sale`, `ship`           | `stock.shipment.out`         | storage → (output →) customer                        |
 * | `return`                 | `stock.shipment.out.return`  | customer → (input →) storage                         |
 * | `receipt`                | `stock.shipment.in`          | supplier → (input →) storage                         |
 * | `adjustment` +/−         | `stock.shipment.internal`    | lost and found → storage / storage → lost and found  |
 * | `count`                  | `stock.shipment.internal`    | the difference with Tryton's level, to/from lost and found |
 * | `transfer_out`           | `stock.shipment.internal`    | storage → transit                                    |
 * | `transfer_in`            | `stock.shipment.internal`    | transit → storage                                    |
 * | `reserve`, `release`     | none                         | (reservations are not the ERP's business)            |
 */
export type ShipmentModel =
  'stock.shipment.out' | 'stock.shipment.out.return' | 'stock.shipment.in' | 'stock.shipment.internal';

/** The model an event type becomes, or null when the ERP gets nothing for it. */
export function shipmentModelOf(type: EventType): ShipmentModel | null {
  switch (type) {
    case 'sale':
    case 'ship':
      return 'stock.shipment.out';
    case 'return':
      return 'stock.shipment.out.return';
    case 'receipt':
      return 'stock.shipment.in';
    case 'adjustment':
    case 'count':
    case 'transfer_out':
    case 'transfer_in':
      return 'stock.shipment.internal';
    case 'reserve':
    case 'release':
      return null;
    default:
      return assertNever(type);
  }
}

/** A party a shipment names: its id, the address deliveries go to, and its customer/supplier location. */
export type TrytonParty = Readonly<{ id: number; address: number | null; location: number }>;

/** The Tryton locations and records of one store location, as the documents need them. */
export type TrytonPlaces = Readonly<{
  company: number;
  /** The company's currency: moves with a price and no known currency of their own use it. */
  currency: number;
  /** The warehouse whose storage location the store maps to. */
  warehouse: number;
  storage: number;
  /** The warehouse's input and output; equal to `storage` in a one-step warehouse. */
  input: number;
  output: number;
  lostFound: number;
}>;

/** One event line resolved to Tryton ids. */
export type TrytonLine = Readonly<{
  product: number;
  uom: number;
  /** The event's quantity: positive, signed for an adjustment, the counted level for a count. */
  qty: number;
  /** The line's unit price and the Tryton currency it is in, when the event gave one Tryton knows. */
  unitPrice: string | null;
  currency: number | null;
}>;

/** What the documents of one event need besides its lines; only what its type uses must be given. */
export type PlanInput = Readonly<{
  type: Exclude<EventType, 'reserve' | 'release'>;
  reference: string;
  lines: readonly TrytonLine[];
  places: TrytonPlaces;
  /** `sale`, `ship`, `return`: the party the shipment names. */
  customer?: TrytonParty;
  /** `receipt`. */
  supplier?: TrytonParty;
  /** `transfer_out`, `transfer_in`: the transit location. */
  transit?: number;
  /** `count`: Tryton's on-hand quantity of each product of the lines at the storage location, read just now. */
  current?: ReadonlyMap<number, number>;
  /**
   * The day the goods moved (see `bookingDate`): each shipment's planned and effective date, which its moves take
   * when done. Without it Tryton dates them the day they are done.
   */
  date?: TrytonDate;
}>;

/** The values of one shipment to create (its moves created with it). */
export type ShipmentValues = Readonly<Record<string, unknown>>;

type MoveValues = Record<string, unknown>;

/**
 * The shipments to create for an event, all of `shipmentModelOf(type)`; empty when there is nothing to move (a
 * count that matches Tryton's level). Throws `PlanError` when a party or location the type needs is missing.
 */
export function planDocuments(input: PlanInput): ShipmentValues[] {
  const documents = planUndated(input);
  const { date } = input;
  if (date === undefined) return documents;
  // An internal shipment also has a start (when the goods left): Tryton requires a planned one with a planned date.
  const isInternal = shipmentModelOf(input.type) === 'stock.shipment.internal';
  return documents.map((d) => ({
    ...d,
    planned_date: date,
    effective_date: date,
    ...(isInternal ? { planned_start_date: date, effective_start_date: date } : {}),
  }));
}

function planUndated(input: PlanInput): ShipmentValues[] {
  const { places, reference, lines } = input;
  const move = (
    line: TrytonLine,
    quantity: number,
    from: number,
    to: number,
    isPriced: boolean,
  ): MoveValues => {
    const values: MoveValues = {
      product: line.product,
      uom: line.uom,
      quantity,
      from_location: from,
      to_location: to,
      company: places.company,
    };
    // Tryton requires a price on moves from a supplier and to or from a customer.
    if (isPriced) {
      const isKnown = line.unitPrice !== null && line.currency !== null;
      values.unit_price = trytonDecimal(isKnown && line.unitPrice !== null ? line.unitPrice : '0');
      values.currency = isKnown ? line.currency : places.currency;
    }
    return values;
  };
  const internal = (from: number, to: number, moves: MoveValues[]): ShipmentValues[] =>
    moves.length === 0
      ? []
      : [
          {
            company: places.company,
            reference,
            from_location: from,
            to_location: to,
            moves: [['create', moves]],
          },
        ];
  switch (input.type) {
    case 'sale':
    case 'ship': {
      const customer = need(input.customer, 'customer party');
      return [
        {
          company: places.company,
          reference,
          warehouse: places.warehouse,
          customer: customer.id,
          delivery_address: need(customer.address ?? undefined, 'address of the customer party'),
          outgoing_moves: [
            ['create', lines.map((l) => move(l, l.qty, places.output, customer.location, true))],
          ],
        },
      ];
    }
    case 'return': {
      const customer = need(input.customer, 'customer party');
      return [
        {
          company: places.company,
          reference,
          warehouse: places.warehouse,
          customer: customer.id,
          delivery_address: need(customer.address ?? undefined, 'address of the customer party'),
          incoming_moves: [
            ['create', lines.map((l) => move(l, l.qty, customer.location, places.input, true))],
          ],
        },
      ];
    }
    case 'receipt': {
      const supplier = need(input.supplier, 'supplier party');
      return [
        {
          company: places.company,
          reference,
          warehouse: places.warehouse,
          supplier: supplier.id,
          incoming_moves: [
            ['create', lines.map((l) => move(l, l.qty, supplier.location, places.input, true))],
          ],
        },
      ];
    }
    case 'adjustment': {
      const ins = lines.filter((l) => l.qty > 0);
      const outs = lines.filter((l) => l.qty < 0);
      return [
        ...internal(
          places.lostFound,
          places.storage,
          ins.map((l) => move(l, l.qty, places.lostFound, places.storage, false)),
        ),
        ...internal(
          places.storage,
          places.lostFound,
          outs.map((l) => move(l, -l.qty, places.storage, places.lostFound, false)),
        ),
      ];
    }
    case 'count': {
      const current = need(input.current, "Tryton's current levels");
      // A count sets the level: with a SKU counted twice, the last line is the level (as the local ledger does).
      const counted = new Map<number, TrytonLine>();
      for (const line of lines) counted.set(line.product, line);
      const ins: MoveValues[] = [];
      const outs: MoveValues[] = [];
      for (const line of counted.values()) {
        const difference = line.qty - (current.get(line.product) ?? 0);
        if (difference > 0) ins.push(move(line, difference, places.lostFound, places.storage, false));
        if (difference < 0) outs.push(move(line, -difference, places.storage, places.lostFound, false));
      }
      return [
        ...internal(places.lostFound, places.storage, ins),
        ...internal(places.storage, places.lostFound, outs),
      ];
    }
    case 'transfer_out': {
      const transit = need(input.transit, 'transit location');
      return internal(
        places.storage,
        transit,
        lines.map((l) => move(l, l.qty, places.storage, transit, false)),
      );
    }
    case 'transfer_in': {
      const transit = need(input.transit, 'transit location');
      return internal(
        transit,
        places.storage,
        lines.map((l) => move(l, l.qty, transit, places.storage, false)),
      );
    }
    default:
      return assertNever(input.type);
  }
}

/**
 * The day an event's goods are booked in Tryton: the calendar day of its `occurredAt` where it happened (the
 * date the POS wrote, in its own offset), so a sale made offline yesterday is booked yesterday. Tryton's today
 * instead when that day is after it (a till clock ahead: Tryton refuses to finish future moves without a
 * warning), or on or before the end of the last closed stock period (`closedUntil`: such moves cannot be
 * written); `isMoved` then says so.
 *
 * @example bookingDate('2026-11-23T21:30:00-05:00', date(2026, 11, 24), null) // 2026-11-23, isMoved false
 */
export function bookingDate(
  occurredAt: string,
  today: TrytonDate,
  closedUntil: TrytonDate | null,
): { date: TrytonDate; isMoved: boolean } {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(occurredAt);
  if (match === null) return { date: today, isMoved: true };
  const day: TrytonDate = {
    __class__: 'date',
    year: Number(match[1]),
    month: Number(match[2]),
    day: Number(match[3]),
  };
  const key = (d: TrytonDate) => d.year * 10_000 + d.month * 100 + d.day;
  if (key(day) > key(today) || (closedUntil !== null && key(day) <= key(closedUntil)))
    return { date: today, isMoved: true };
  return { date: day, isMoved: false };
}

/** A document cannot be made or moved on (a party or location it needs is missing); the message says which. */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new PlanError(`no ${what} is known in Tryton`);
  return value;
}

/** The workflow buttons the connector presses (Tryton 6.0 names). */
export type WorkflowButton = 'draft' | 'wait' | 'assign_force' | 'pick' | 'pack' | 'receive' | 'done';

/** The layout of the warehouse a shipment is in: one-step when input or output is the storage location. */
export type WarehouseLayout = Readonly<{ isOneStepIn: boolean; isOneStepOut: boolean }>;

/**
 * The workflow button that moves a shipment on from `state` towards `done`, `'finished'` when it is done, or
 * `'cancelled'` when someone cancelled it in Tryton. Every button is a no-op on a shipment already past it, so
 * pressing one again after a lost answer does no harm.
 *
 * - customer shipment: draft → wait → (pick, two-step only) → pack → done (stock is taken from storage at pick
 *   in a two-step warehouse, at pack/done in a one-step one; a POS sale has already happened, so no assignment
 *   check stands in its way)
 * - customer return, supplier shipment: draft → receive → done (`receive` finishes a one-step one by itself)
 * - internal shipment: draft → wait → assign_force → done
 */
export function nextStep(
  model: ShipmentModel,
  state: string,
  layout: WarehouseLayout,
): WorkflowButton | 'finished' | 'cancelled' {
  if (state === 'done') return 'finished';
  if (state === 'cancelled') return 'cancelled';
  switch (model) {
    case 'stock.shipment.out':
      switch (state) {
        case 'draft':
          return 'wait';
        case 'waiting':
          return layout.isOneStepOut ? 'pack' : 'pick';
        case 'assigned':
          return 'pick';
        case 'picked':
          return 'pack';
        case 'packed':
          return 'done';
        default:
          return unknownState(model, state);
      }
    case 'stock.shipment.out.return':
    case 'stock.shipment.in':
      switch (state) {
        case 'draft':
          return 'receive';
        case 'received':
          return 'done';
        default:
          return unknownState(model, state);
      }
    case 'stock.shipment.internal':
      switch (state) {
        case 'request':
          return 'draft';
        case 'draft':
          return 'wait';
        case 'waiting':
          return 'assign_force';
        case 'assigned':
        case 'shipped':
          return 'done';
        default:
          return unknownState(model, state);
      }
    default:
      return assertNever(model);
  }
}

function unknownState(model: string, state: string): never {
  throw new PlanError(`a ${model} in state "${state}" is not one Backroom knows how to finish`);
}

/**
 * The state a workflow button leaves a shipment in, as Tryton 6.0 does it; the connector presses the buttons
 * in a row on this prediction and reads the states once at the end (a wrong guess only costs another round).
 */
export function stateAfter(model: ShipmentModel, step: WorkflowButton, layout: WarehouseLayout): string {
  switch (step) {
    case 'wait':
      return 'waiting';
    case 'pick':
      return 'picked';
    case 'pack':
      return 'packed';
    case 'assign_force':
      return 'assigned';
    case 'receive':
      // A one-step warehouse has no put-away: `receive` finishes the shipment by itself.
      return model !== 'stock.shipment.internal' && layout.isOneStepIn ? 'done' : 'received';
    case 'draft':
      return 'draft';
    case 'done':
      return 'done';
    default:
      return assertNever(step);
  }
}
