/*
 * The fulfilment part of the Shopify fake (shopify-fake.ts wires it in): each order's fulfilment order with its
 * line items and remaining quantities, `fulfillmentCreate` as Shopify answers it (user errors for an
 * over-fulfilment, a line that is not on the fulfilment order, a cancelled or closed fulfilment order; nothing
 * applied when there is one), and the order's `fulfillments` with their tracking, read back. Kept in its own
 * file so the fake's inventory and price parts change apart from it.
 */

/** An order line as the fake holds it (structurally the fake's own record). */
export type FakeOrderLine = {
  id: number;
  itemId: number | null;
  sku: string | null;
  title: string;
  currentQuantity: number;
};

/** An order as the fake holds it (structurally the fake's own record; fulfilment changes it in place). */
export type FakeOrder = {
  id: number;
  name: string;
  createdAt: number;
  updatedAt: number;
  cancelledAt: number | null;
  fulfillmentStatus: 'UNFULFILLED' | 'FULFILLED';
  locationId: number;
  fulfillmentOrderId: number;
  lines: FakeOrderLine[];
};

type ConnectionArgs = Readonly<{
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  reverse?: boolean | null;
}>;

/** What the fulfilment part needs of the fake shop around it. */
export type FulfilmentHost = Readonly<{
  orders: () => Iterable<FakeOrder>;
  newId: () => number;
  /** Shopify's DateTime of a time in ms. */
  dateTime: (ms: number) => string;
  /** The order's next update time (now, never before the last). */
  touch: (order: FakeOrder) => void;
  /** Units of an item leave a location: its committed quantity falls. */
  ship: (itemId: number, locationId: number, quantity: number) => void;
  /** The fake's views, for the fields that lead back into the shop. */
  orderView: (orderId: number) => Record<string, unknown> | null;
  lineView: (orderId: number, lineId: number) => Record<string, unknown> | null;
  locationView: (locationId: number) => Record<string, unknown> | null;
  locationName: (locationId: number) => string;
  /** A page of records as a Relay connection (the fake's own paginate). */
  connection: <T>(
    records: readonly T[],
    args: ConnectionArgs,
    keyOf: (record: T) => (string | number)[],
    view: (record: T) => unknown,
  ) => unknown;
}>;

type Tracking = { company: string | null; number: string | null; url: string | null };

type FulfilmentRecord = {
  id: number;
  status: 'SUCCESS' | 'CANCELLED';
  orderId: number;
  createdAt: number;
  tracking: Tracking | null;
  notifyCustomer: boolean;
  lines: { id: number; lineId: number; quantity: number }[];
};

type UserErrorRecord = { field: string[] | null; message: string };

/** A return the customer asked for (`REQUESTED`), approved (`OPEN`), received (`CLOSED`) or declined/cancelled. */
type ReturnRecord = {
  id: number;
  status: 'REQUESTED' | 'OPEN' | 'CLOSED' | 'DECLINED' | 'CANCELED';
  lines: { id: number; lineId: number; quantity: number }[];
};

/** A refund; `restockType` RETURN means the goods are to come back, NO_RESTOCK money only. */
type RefundRecord = {
  id: number;
  createdAt: number;
  restockType: 'RETURN' | 'NO_RESTOCK' | 'CANCEL';
  lines: { id: number; lineId: number; quantity: number }[];
};

type LineItemInput = Readonly<{ id: string; quantity: number }>;
type FulfillmentInput = Readonly<{
  lineItemsByFulfillmentOrder: readonly Readonly<{
    fulfillmentOrderId: string;
    fulfillmentOrderLineItems?: readonly LineItemInput[] | null;
  }>[];
  trackingInfo?: Readonly<{
    company?: string | null;
    number?: string | null;
    url?: string | null;
    numbers?: readonly string[] | null;
    urls?: readonly string[] | null;
  }> | null;
  notifyCustomer?: boolean | null;
}>;

/** A fulfilment as a test reads it: its tracking and what it carried, by line SKU. */
export type FakeFulfilment = Readonly<{
  id: string;
  tracking: Tracking | null;
  notifyCustomer: boolean;
  lines: readonly Readonly<{ sku: string | null; quantity: number }>[];
}>;

const gid = (type: string, id: number) => `gid://shopify/${type}/${id}`;

function parseGid(value: unknown, type: string): number | null {
  if (typeof value !== 'string') return null;
  const match = new RegExp(`^gid://shopify/${type}/(\\d+)$`).exec(value);
  return match ? Number(match[1]) : null;
}

/** Shopify's fulfilment order statuses the fake uses. */
type FulfilmentOrderStatus = 'OPEN' | 'IN_PROGRESS' | 'CLOSED' | 'CANCELLED';

/**
 * The fulfilment orders and fulfilments of the fake shop's orders. One fulfilment order per order (the order's
 * assigned location); its line items are the order's lines with `totalQuantity` the current quantity and
 * `remainingQuantity` what no fulfilment carried yet. An order fulfilled by staff in the admin (`fulfilOrder`)
 * has nothing remaining.
 */
export class FakeFulfilments {
  readonly #host: FulfilmentHost;
  readonly #byOrder = new Map<number, FulfilmentRecord[]>();
  readonly #returns = new Map<number, ReturnRecord[]>();
  readonly #refunds = new Map<number, RefundRecord[]>();
  #created = 0;
  #isAnswerLost = false;

  constructor(host: FulfilmentHost) {
    this.#host = host;
  }

  // ---- what tests read ----

  /** How many fulfilments `fulfillmentCreate` made (a replayed or refused one makes none). */
  get createdCount(): number {
    return this.#created;
  }

  /** The fulfilments of an order, oldest first, with their tracking and lines. */
  of(orderGid: string): FakeFulfilment[] {
    const order = this.#order(parseGid(orderGid, 'Order'));
    if (order === undefined) throw new Error(`the fake shop has no ${orderGid}`);
    return (this.#byOrder.get(order.id) ?? []).map((f) => ({
      id: gid('Fulfillment', f.id),
      tracking: f.tracking,
      notifyCustomer: f.notifyCustomer,
      lines: f.lines.map((l) => ({
        sku: order.lines.find((line) => line.id === l.lineId)?.sku ?? null,
        quantity: l.quantity,
      })),
    }));
  }

  /** What is left to fulfil of each line of an order, by line SKU. */
  remainingOf(orderGid: string): Record<string, number> {
    const order = this.#order(parseGid(orderGid, 'Order'));
    if (order === undefined) throw new Error(`the fake shop has no ${orderGid}`);
    return Object.fromEntries(order.lines.map((l) => [l.sku ?? String(l.id), this.#remaining(order, l)]));
  }

  /**
   * The next `fulfillmentCreate` is applied and then never answered (until the fake stops): the client sees a
   * timeout after its request left, and cannot tell that the fulfilment was made.
   */
  loseNextAnswer(): void {
    this.#isAnswerLost = true;
  }

  // ---- shop-side actions: returns and refunds ----

  /**
   * A return of fulfilled units (by line SKU), as the customer asks for it in the shop or staff create it in the
   * admin: `REQUESTED` (default) or `OPEN` (approved). Returns its gid.
   */
  requestReturn(
    orderGid: string,
    lines: readonly Readonly<{ sku: string; quantity: number }>[],
    status: 'REQUESTED' | 'OPEN' = 'REQUESTED',
  ): string {
    const order = this.#mustOrder(orderGid);
    const record: ReturnRecord = { id: this.#host.newId(), status, lines: this.#linesOf(order, lines) };
    this.#returns.set(order.id, [...(this.#returns.get(order.id) ?? []), record]);
    this.#host.touch(order);
    return gid('Return', record.id);
  }

  /** A return declined or cancelled by staff: no goods are expected any more. */
  closeReturn(returnGid: string, status: 'DECLINED' | 'CANCELED'): void {
    const id = parseGid(returnGid, 'Return');
    for (const [orderId, list] of this.#returns) {
      const found = list.find((r) => r.id === id);
      const order = this.#order(orderId);
      if (found && order) {
        found.status = status;
        this.#host.touch(order);
        return;
      }
    }
    throw new Error(`the fake shop has no ${returnGid}`);
  }

  /**
   * Staff cancel a fulfilment in the admin: its units are unfulfilled again (remaining, committed), and the order
   * no longer fulfilled.
   */
  cancelFulfilment(fulfilmentGid: string): void {
    const id = parseGid(fulfilmentGid, 'Fulfillment');
    for (const [orderId, list] of this.#byOrder) {
      const found = list.find((f) => f.id === id);
      const order = this.#order(orderId);
      if (!found || !order || found.status === 'CANCELLED') continue;
      found.status = 'CANCELLED';
      order.fulfillmentStatus = 'UNFULFILLED';
      for (const l of found.lines) {
        const line = order.lines.find((x) => x.id === l.lineId);
        if (line?.itemId != null) this.#host.ship(line.itemId, order.locationId, -l.quantity);
      }
      this.#host.touch(order);
      return;
    }
    throw new Error(`the fake shop has no fulfilment ${fulfilmentGid} to cancel`);
  }

  /** A refund of units (by line SKU); `RETURN` restocks them (they come back), `NO_RESTOCK` is money only. */
  refund(
    orderGid: string,
    lines: readonly Readonly<{ sku: string; quantity: number }>[],
    restockType: 'RETURN' | 'NO_RESTOCK' = 'RETURN',
  ): string {
    const order = this.#mustOrder(orderGid);
    const record: RefundRecord = {
      id: this.#host.newId(),
      createdAt: Date.now(),
      restockType,
      lines: this.#linesOf(order, lines),
    };
    this.#refunds.set(order.id, [...(this.#refunds.get(order.id) ?? []), record]);
    this.#host.touch(order);
    return gid('Refund', record.id);
  }

  #mustOrder(orderGid: string): FakeOrder {
    const order = this.#order(parseGid(orderGid, 'Order'));
    if (order === undefined) throw new Error(`the fake shop has no ${orderGid}`);
    return order;
  }

  #linesOf(
    order: FakeOrder,
    lines: readonly Readonly<{ sku: string; quantity: number }>[],
  ): { id: number; lineId: number; quantity: number }[] {
    return lines.map((l) => {
      const line = order.lines.find((x) => x.sku === l.sku);
      if (line === undefined) throw new Error(`order ${order.name} has no line of ${l.sku}`);
      return { id: this.#host.newId(), lineId: line.id, quantity: l.quantity };
    });
  }

  // ---- resolvers ----

  /** The root fields this part serves. */
  rootFields(): Record<string, unknown> {
    return {
      fulfillmentCreate: (args: { fulfillment: FulfillmentInput; message?: string | null }) => {
        const payload = this.#create(args.fulfillment);
        if (!this.#isAnswerLost) return payload;
        this.#isAnswerLost = false;
        // Applied; the answer never comes (the fake drops the connection when it stops).
        return new Promise<never>(() => undefined);
      },
      fulfillmentOrder: ({ id }: { id: string }) => {
        const order = this.#byFulfilmentOrder(parseGid(id, 'FulfillmentOrder'));
        return order ? this.#fulfilmentOrderView(order) : null;
      },
      fulfillment: ({ id }: { id: string }) => {
        const wanted = parseGid(id, 'Fulfillment');
        for (const [orderId, list] of this.#byOrder) {
          const found = list.find((f) => f.id === wanted);
          const order = this.#order(orderId);
          if (found && order) return this.#fulfilmentView(order, found);
        }
        return null;
      },
    };
  }

  /** The order fields this part serves, over the fake's order view. */
  orderFields(order: FakeOrder): Record<string, unknown> {
    const fulfilled = order.lines.reduce((n, l) => n + l.currentQuantity - this.#remaining(order, l), 0);
    const total = order.lines.reduce((n, l) => n + l.currentQuantity, 0);
    return {
      displayFulfillmentStatus:
        order.fulfillmentStatus === 'FULFILLED' || (total > 0 && fulfilled >= total)
          ? 'FULFILLED'
          : fulfilled > 0
            ? 'PARTIALLY_FULFILLED'
            : 'UNFULFILLED',
      fulfillmentOrders: (args: ConnectionArgs) =>
        this.#host.connection(
          [order],
          args,
          (o) => [o.fulfillmentOrderId],
          (o) => this.#fulfilmentOrderView(o),
        ),
      fulfillments: ({ first }: { first?: number | null }) =>
        (this.#byOrder.get(order.id) ?? [])
          .slice(0, first ?? undefined)
          .map((f) => this.#fulfilmentView(order, f)),
      returnStatus: this.#returnStatus(order),
      displayFinancialStatus: this.#financialStatus(order),
      returns: (args: ConnectionArgs) =>
        this.#host.connection(
          this.#returns.get(order.id) ?? [],
          args,
          (r) => [r.id],
          (r) => this.#returnView(order, r),
        ),
      refunds: ({ first }: { first?: number | null }) =>
        (this.#refunds.get(order.id) ?? [])
          .slice(0, first ?? undefined)
          .map((r) => this.#refundView(order, r)),
    };
  }

  /** Paid, until refunds cover some units (partly) or all of them. */
  #financialStatus(order: FakeOrder): string {
    const refunded = (this.#refunds.get(order.id) ?? []).reduce(
      (n, r) => n + r.lines.reduce((m, l) => m + l.quantity, 0),
      0,
    );
    if (refunded === 0) return 'PAID';
    return refunded >= order.lines.reduce((n, l) => n + l.currentQuantity, 0)
      ? 'REFUNDED'
      : 'PARTIALLY_REFUNDED';
  }

  #returnStatus(order: FakeOrder): string {
    const returns = this.#returns.get(order.id) ?? [];
    if (returns.some((r) => r.status === 'REQUESTED')) return 'RETURN_REQUESTED';
    if (returns.some((r) => r.status === 'OPEN')) return 'IN_PROGRESS';
    if (returns.some((r) => r.status === 'CLOSED')) return 'RETURNED';
    return 'NO_RETURN';
  }

  #returnView(order: FakeOrder, r: ReturnRecord): Record<string, unknown> {
    const empty = (args: ConnectionArgs) =>
      this.#host.connection(
        [],
        args,
        () => [],
        () => null,
      );
    return {
      id: gid('Return', r.id),
      name: `${order.name}-R${(this.#returns.get(order.id) ?? []).indexOf(r) + 1}`,
      status: r.status,
      totalQuantity: r.lines.reduce((n, l) => n + l.quantity, 0),
      decline: null,
      order: () => this.#host.orderView(order.id),
      returnShippingFees: [],
      exchangeLineItems: empty,
      refunds: empty,
      reverseFulfillmentOrders: empty,
      returnLineItems: (args: ConnectionArgs) =>
        this.#host.connection(
          r.lines,
          args,
          (l) => [l.id],
          (l) => ({
            __typename: 'ReturnLineItem',
            id: gid('ReturnLineItem', l.id),
            quantity: l.quantity,
            refundableQuantity: l.quantity,
            refundedQuantity: 0,
            returnReason: 'UNKNOWN',
            returnReasonNote: '',
            customerNote: null,
            fulfillmentLineItem: {
              id: gid('FulfillmentLineItem', l.id),
              quantity: l.quantity,
              lineItem: () => this.#host.lineView(order.id, l.lineId),
            },
          }),
        ),
    };
  }

  #refundView(order: FakeOrder, r: RefundRecord): Record<string, unknown> {
    const { dateTime } = this.#host;
    return {
      id: gid('Refund', r.id),
      legacyResourceId: String(r.id),
      createdAt: dateTime(r.createdAt),
      updatedAt: dateTime(r.createdAt),
      note: null,
      order: () => this.#host.orderView(order.id),
      return: null,
      refundLineItems: (args: ConnectionArgs) =>
        this.#host.connection(
          r.lines,
          args,
          (l) => [l.id],
          (l) => ({
            id: gid('RefundLineItem', l.id),
            quantity: l.quantity,
            restockType: r.restockType,
            restocked: r.restockType === 'RETURN',
            location: () => this.#host.locationView(order.locationId),
            lineItem: () => this.#host.lineView(order.id, l.lineId),
          }),
        ),
    };
  }

  // ---- internals ----

  #order(id: number | null): FakeOrder | undefined {
    if (id === null) return undefined;
    for (const order of this.#host.orders()) if (order.id === id) return order;
    return undefined;
  }

  #byFulfilmentOrder(id: number | null): FakeOrder | undefined {
    if (id === null) return undefined;
    for (const order of this.#host.orders()) if (order.fulfillmentOrderId === id) return order;
    return undefined;
  }

  #fulfilledOf(order: FakeOrder, line: FakeOrderLine): number {
    let n = 0;
    for (const f of this.#byOrder.get(order.id) ?? [])
      if (f.status === 'SUCCESS') for (const l of f.lines) if (l.lineId === line.id) n += l.quantity;
    return n;
  }

  #remaining(order: FakeOrder, line: FakeOrderLine): number {
    if (order.fulfillmentStatus === 'FULFILLED') return 0;
    return Math.max(0, line.currentQuantity - this.#fulfilledOf(order, line));
  }

  #status(order: FakeOrder): FulfilmentOrderStatus {
    if (order.cancelledAt !== null) return 'CANCELLED';
    const remaining = order.lines.reduce((n, l) => n + this.#remaining(order, l), 0);
    if (remaining === 0) return 'CLOSED';
    return (this.#byOrder.get(order.id) ?? []).length > 0 ? 'IN_PROGRESS' : 'OPEN';
  }

  #fulfilmentOrderView(order: FakeOrder): Record<string, unknown> {
    const { dateTime } = this.#host;
    const status = this.#status(order);
    return {
      id: gid('FulfillmentOrder', order.fulfillmentOrderId),
      status,
      requestStatus: status === 'CLOSED' ? 'CLOSED' : 'UNSUBMITTED',
      orderId: gid('Order', order.id),
      orderName: order.name,
      orderProcessedAt: dateTime(order.createdAt),
      createdAt: dateTime(order.createdAt),
      updatedAt: dateTime(order.updatedAt),
      fulfillAt: null,
      fulfillBy: null,
      fulfillmentHolds: [],
      supportedActions: [],
      order: () => this.#host.orderView(order.id),
      assignedLocation: {
        name: this.#host.locationName(order.locationId),
        countryCode: 'DE',
        location: this.#host.locationView(order.locationId),
      },
      lineItems: (args: ConnectionArgs) =>
        this.#host.connection(
          order.lines.filter((l) => l.currentQuantity > 0),
          args,
          (l) => [l.id],
          (l) => this.#fulfilmentOrderLineView(order, l),
        ),
      fulfillments: (args: ConnectionArgs) =>
        this.#host.connection(
          this.#byOrder.get(order.id) ?? [],
          args,
          (f) => [f.id],
          (f) => this.#fulfilmentView(order, f),
        ),
    };
  }

  #fulfilmentOrderLineView(order: FakeOrder, line: FakeOrderLine): Record<string, unknown> {
    return {
      id: gid('FulfillmentOrderLineItem', line.id),
      sku: line.sku,
      inventoryItemId: line.itemId === null ? null : gid('InventoryItem', line.itemId),
      productTitle: line.title,
      variantTitle: null,
      vendor: null,
      requiresShipping: true,
      totalQuantity: line.currentQuantity,
      remainingQuantity: this.#remaining(order, line),
      warnings: [],
      financialSummaries: [],
      lineItem: () => this.#host.lineView(order.id, line.id),
    };
  }

  #fulfilmentView(order: FakeOrder, f: FulfilmentRecord): Record<string, unknown> {
    const { dateTime } = this.#host;
    const index = (this.#byOrder.get(order.id) ?? []).indexOf(f) + 1;
    return {
      id: gid('Fulfillment', f.id),
      legacyResourceId: String(f.id),
      name: `${order.name}-F${index}`,
      status: f.status,
      displayStatus: f.status === 'SUCCESS' ? 'FULFILLED' : 'CANCELED',
      createdAt: dateTime(f.createdAt),
      updatedAt: dateTime(f.createdAt),
      deliveredAt: null,
      estimatedDeliveryAt: null,
      inTransitAt: null,
      requiresShipping: true,
      totalQuantity: f.lines.reduce((n, l) => n + l.quantity, 0),
      order: () => this.#host.orderView(order.id),
      location: () => this.#host.locationView(order.locationId),
      trackingInfo: ({ first }: { first?: number | null }) =>
        (f.tracking === null ? [] : [f.tracking]).slice(0, first ?? undefined),
      fulfillmentLineItems: (args: ConnectionArgs) =>
        this.#host.connection(
          f.lines,
          args,
          (l) => [l.id],
          (l) => {
            const line = order.lines.find((x) => x.id === l.lineId);
            return {
              id: gid('FulfillmentLineItem', l.id),
              quantity: l.quantity,
              lineItem: line ? () => this.#host.lineView(order.id, line.id) : null,
            };
          },
        ),
      fulfillmentOrders: (args: ConnectionArgs) =>
        this.#host.connection(
          [order],
          args,
          (o) => [o.fulfillmentOrderId],
          (o) => this.#fulfilmentOrderView(o),
        ),
    };
  }

  /**
   * `fulfillmentCreate`: every pair must name a fulfilment order of one order, open or in progress; each line
   * item must be on it, with a quantity from 1 to what remains (blank: all that remains). Any user error applies
   * nothing, as on Shopify.
   */
  #create(input: FulfillmentInput): Record<string, unknown> {
    const errors: UserErrorRecord[] = [];
    const wanted = new Map<number, number>();
    let order: FakeOrder | undefined;
    if (input.lineItemsByFulfillmentOrder.length === 0)
      errors.push({
        field: ['fulfillment', 'lineItemsByFulfillmentOrder'],
        message: 'Line items by fulfillment order must not be empty.',
      });
    input.lineItemsByFulfillmentOrder.forEach((pair, i) => {
      const field = (...rest: string[]) => ['fulfillment', 'lineItemsByFulfillmentOrder', String(i), ...rest];
      const fo = this.#byFulfilmentOrder(parseGid(pair.fulfillmentOrderId, 'FulfillmentOrder'));
      if (fo === undefined) {
        errors.push({ field: field('fulfillmentOrderId'), message: 'Fulfillment order does not exist.' });
        return;
      }
      if (order !== undefined && order !== fo) {
        errors.push({
          field: field('fulfillmentOrderId'),
          message: 'All fulfillment orders must belong to the same order.',
        });
        return;
      }
      order = fo;
      const status = this.#status(fo);
      if (status === 'CANCELLED' || status === 'CLOSED') {
        errors.push({
          field: field('fulfillmentOrderId'),
          message: `Fulfillment order ${pair.fulfillmentOrderId} has an unfulfillable status= ${status.toLowerCase()}.`,
        });
        return;
      }
      const items =
        pair.fulfillmentOrderLineItems ??
        fo.lines
          .filter((l) => this.#remaining(fo, l) > 0)
          .map((l) => ({
            id: gid('FulfillmentOrderLineItem', l.id),
            quantity: this.#remaining(fo, l),
          }));
      items.forEach((item, j) => {
        const itemField = field('fulfillmentOrderLineItems', String(j));
        const line = fo.lines.find((l) => l.id === parseGid(item.id, 'FulfillmentOrderLineItem'));
        if (line === undefined || line.currentQuantity <= 0) {
          errors.push({
            field: [...itemField, 'id'],
            message: `Fulfillment order line item ${item.id} does not exist on fulfillment order ${pair.fulfillmentOrderId}.`,
          });
          return;
        }
        const total = (wanted.get(line.id) ?? 0) + item.quantity;
        if (item.quantity <= 0 || total > this.#remaining(fo, line)) {
          errors.push({
            field: [...itemField, 'quantity'],
            message: 'Invalid fulfillment order line item quantity requested.',
          });
          return;
        }
        wanted.set(line.id, total);
      });
    });
    const tracking = input.trackingInfo ?? null;
    const url = tracking?.url ?? null;
    if (url !== null && !/^https?:\/\/[^\s/]+\.[^\s]*$/i.test(url))
      errors.push({ field: ['fulfillment', 'trackingInfo', 'url'], message: 'Tracking url is invalid.' });
    if (errors.length > 0 || order === undefined || wanted.size === 0)
      return {
        fulfillment: null,
        userErrors:
          errors.length > 0
            ? errors
            : [{ field: ['fulfillment'], message: 'There are no line items left to fulfill.' }],
      };

    const record: FulfilmentRecord = {
      id: this.#host.newId(),
      status: 'SUCCESS',
      orderId: order.id,
      createdAt: Date.now(),
      tracking:
        tracking === null
          ? null
          : { company: tracking.company ?? null, number: tracking.number ?? null, url: tracking.url ?? null },
      notifyCustomer: input.notifyCustomer === true,
      lines: [...wanted].map(([lineId, quantity]) => ({ id: this.#host.newId(), lineId, quantity })),
    };
    const list = this.#byOrder.get(order.id) ?? [];
    list.push(record);
    this.#byOrder.set(order.id, list);
    for (const l of record.lines) {
      const line = order.lines.find((x) => x.id === l.lineId);
      if (line?.itemId != null) this.#host.ship(line.itemId, order.locationId, l.quantity);
    }
    if (order.lines.every((l) => this.#remaining(order!, l) === 0)) order.fulfillmentStatus = 'FULFILLED';
    this.#host.touch(order);
    this.#created += 1;
    return { fulfillment: this.#fulfilmentView(order, record), userErrors: [] };
  }
}
