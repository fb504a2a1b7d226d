import { z } from 'zod';
import { fulfilmentOutcomeOf } from '../port/call-failure.js';
import type {
  FulfilmentOutcome,
  FulfilmentTarget,
  OutgoingShipment,
  RemoteFulfilled,
} from '../port/connector-bundle.js';
import type { ConnectorContext } from '../port/connector-context.js';
import { VendureFailure, type Operation, type VendureAdminClient } from './vendure-admin-client.js';

/** Vendure's built-in fulfilment handler: its `method` and `trackingCode` arguments are all it records. */
const MANUAL_HANDLER = 'manual-fulfillment';

const ORDER_FULFILMENTS: Operation = {
  name: 'order',
  isWrite: false,
  query: `query BackroomOrderFulfilments($id: ID!) {
    order(id: $id) {
      id code state
      lines { id quantity productVariant { id sku } }
      fulfillments { id state method trackingCode lines { orderLineId quantity } }
    }
  }`,
};

const ADD_FULFILMENT: Operation = {
  name: 'addFulfillmentToOrder',
  isWrite: true,
  query: `mutation BackroomAddFulfilment($input: FulfillOrderInput!) {
    addFulfillmentToOrder(input: $input) {
      __typename
      ... on Fulfillment { id state }
      ... on ErrorResult { errorCode message }
    }
  }`,
};

const SHIPPED: Operation = {
  name: 'transitionFulfillmentToState',
  isWrite: true,
  query: `mutation BackroomFulfilmentShipped($id: ID!) {
    transitionFulfillmentToState(id: $id, state: "Shipped") {
      __typename
      ... on Fulfillment { id state }
      ... on ErrorResult { errorCode message }
    }
  }`,
};

const fulfilmentSchema = z.object({
  id: z.string(),
  state: z.string(),
  method: z.string().nullable().optional(),
  trackingCode: z.string().nullable().optional(),
  lines: z.array(z.object({ orderLineId: z.string(), quantity: z.number() })).optional(),
});

const orderSchema = z.object({
  order: z
    .object({
      id: z.string(),
      code: z.string(),
      state: z.string(),
      lines: z.array(
        z.object({
          id: z.string(),
          quantity: z.number(),
          productVariant: z.object({ id: z.string(), sku: z.string() }),
        }),
      ),
      fulfillments: z.array(fulfilmentSchema).nullable(),
    })
    .nullable(),
});

const resultSchema = (field: string) =>
  z.object({
    [field]: z.object({
      __typename: z.string(),
      id: z.string().optional(),
      state: z.string().optional(),
      errorCode: z.string().optional(),
      message: z.string().optional(),
    }),
  });

type VendureOrder = NonNullable<z.output<typeof orderSchema>['order']>;
type RemoteFulfilment = z.output<typeof fulfilmentSchema>;

/** The error codes of `addFulfillmentToOrder` that mean the lines are fulfilled already. */
const ALREADY_FULFILLED = new Set(['ITEMS_ALREADY_FULFILLED_ERROR']);

/**
 * Records the warehouse's shipments of Vendure orders through the Admin API: `addFulfillmentToOrder` with the
 * manual handler (`method` the carrier, `trackingCode` the tracking number) for the shipped lines, then the
 * fulfilment's transition to `Shipped` (which moves the order to Shipped, or PartiallyShipped while lines are
 * left). Vendure takes no idempotency key, so a shipment is recognised by its tracking code among the order's
 * fulfilments (`find`): one found still `Pending` (the transition's answer was lost) is moved on to Shipped. A
 * cancelled order is refused as `cancelled` before anything is written.
 */
export function createVendureFulfilment(
  client: VendureAdminClient,
  context: ConnectorContext,
): FulfilmentTarget {
  const readOrder = async (orderId: string, signal: AbortSignal): Promise<VendureOrder | null> =>
    (await client.request(ORDER_FULFILMENTS, { id: orderId }, orderSchema, signal)).order;

  /** The local SKU of an order line (its mapping, else Vendure's own SKU). */
  const skuOf = (line: VendureOrder['lines'][number]) =>
    context.mappings.skuOf(line.productVariant.id) ?? line.productVariant.sku;

  /** The fulfilment that is this shipment (same tracking code), if the order has one. */
  const ours = (order: VendureOrder, shipment: OutgoingShipment): RemoteFulfilment | undefined =>
    shipment.trackingNumber === null
      ? undefined
      : (order.fulfillments ?? []).find(
          (f) => f.trackingCode === shipment.trackingNumber && f.state !== 'Cancelled',
        );

  /** Moves a fulfilment to Shipped (already there, or further, is fine). */
  const markShipped = async (
    fulfilment: RemoteFulfilment,
    signal: AbortSignal,
  ): Promise<FulfilmentOutcome> => {
    if (fulfilment.state !== 'Pending') return { kind: 'delivered', remoteId: fulfilment.id };
    const data = await client.request(
      SHIPPED,
      { id: fulfilment.id },
      resultSchema('transitionFulfillmentToState'),
      signal,
    );
    const answer = data['transitionFulfillmentToState']!;
    if (answer.__typename === 'Fulfillment') return { kind: 'delivered', remoteId: fulfilment.id };
    return {
      kind: 'rejected',
      why: 'other',
      detail: `${answer.errorCode ?? ''} ${answer.message ?? ''}`.trim(),
    };
  };

  async function send(shipment: OutgoingShipment, signal: AbortSignal): Promise<FulfilmentOutcome> {
    try {
      const order = await readOrder(shipment.orderId, signal);
      if (order === null)
        return { kind: 'rejected', why: 'other', detail: `Vendure has no order ${shipment.orderId}` };
      if (order.state === 'Cancelled')
        return { kind: 'rejected', why: 'cancelled', detail: `order ${order.code} is Cancelled in Vendure` };
      const existing = ours(order, shipment);
      if (existing !== undefined) return await markShipped(existing, signal);
      // The order's lines of each shipped SKU, filled in order (an order may list a variant on several lines).
      const lines: { orderLineId: string; quantity: number }[] = [];
      for (const wanted of shipment.lines) {
        let left = wanted.qty;
        for (const line of order.lines) {
          if (left === 0) break;
          if (skuOf(line) !== wanted.sku || line.quantity <= 0) continue;
          const take = Math.min(left, line.quantity);
          lines.push({ orderLineId: line.id, quantity: take });
          left -= take;
        }
        if (left > 0)
          return {
            kind: 'rejected',
            why: 'other',
            detail: `order ${order.code} has no line left for ${left} × ${wanted.sku}`,
          };
      }
      const added = await client.request(
        ADD_FULFILMENT,
        {
          input: {
            lines,
            handler: {
              code: MANUAL_HANDLER,
              arguments: [
                { name: 'method', value: shipment.carrier ?? '' },
                { name: 'trackingCode', value: shipment.trackingNumber ?? '' },
              ],
            },
          },
        },
        resultSchema('addFulfillmentToOrder'),
        signal,
      );
      const answer = added['addFulfillmentToOrder']!;
      if (answer.__typename !== 'Fulfillment' || answer.id === undefined) {
        const detail = `${answer.errorCode ?? answer.__typename}: ${answer.message ?? ''}`.trim();
        return {
          kind: 'rejected',
          why: ALREADY_FULFILLED.has(answer.errorCode ?? '') ? 'already_fulfilled' : 'other',
          detail,
        };
      }
      return await markShipped({ id: answer.id, state: answer.state ?? 'Pending' }, signal);
    } catch (error) {
      return fulfilmentOutcomeOf(error);
    }
  }

  async function find(shipment: OutgoingShipment, signal: AbortSignal): Promise<string | null> {
    try {
      const order = await readOrder(shipment.orderId, signal);
      const existing = order === null ? undefined : ours(order, shipment);
      if (existing === undefined) return null;
      // Found, but the transition to Shipped may be what was lost: finish it.
      const outcome = await markShipped(existing, signal);
      return outcome.kind === 'delivered' ? outcome.remoteId : null;
    } catch (error) {
      if (error instanceof VendureFailure) throw error.toConnectorError();
      throw error;
    }
  }

  /** What Vendure shows fulfilled of an order: its fulfilments' lines (not cancelled ones), per local SKU. */
  async function readFulfilled(orderId: string, signal: AbortSignal): Promise<RemoteFulfilled | null> {
    try {
      const order = await readOrder(orderId, signal);
      if (order === null) return null;
      const skuOfLine = new Map(order.lines.map((l) => [l.id, skuOf(l)]));
      const fulfilled = new Map<string, number>();
      for (const f of order.fulfillments ?? []) {
        if (f.state === 'Cancelled') continue;
        for (const line of f.lines ?? []) {
          const sku = skuOfLine.get(line.orderLineId);
          if (sku !== undefined) fulfilled.set(sku, (fulfilled.get(sku) ?? 0) + line.quantity);
        }
      }
      return {
        isCancelled: order.state === 'Cancelled',
        fulfilled: [...fulfilled].map(([sku, qty]) => ({ sku, qty })),
      };
    } catch (error) {
      if (error instanceof VendureFailure) throw error.toConnectorError();
      throw error;
    }
  }

  return { send, find, readFulfilled };
}
