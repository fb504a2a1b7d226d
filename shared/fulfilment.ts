import { z } from 'zod';
import { MAX_LINES, MAX_QTY, trackingNumberSchema } from './events.js';
import { entryIdSchema } from './stock-entry.js';

/**
 * Fulfilling marketplace orders at the workbench (the Fulfil page): the open orders of a location, and a picked
 * order shipped with its carrier and tracking number. The page validates with these schemas before sending and
 * the agent parses every input with the same ones (`shared/rpc.ts`); a shipment is captured as a `ship` event
 * under the workbench source, like any stock entry.
 */

export const fulfilOrdersInputSchema = z.strictObject({
  location: z.string().trim().min(1, 'Choose a location').max(64),
});

export const fulfilShipInputSchema = z.strictObject({
  /** The shipment's id, made when the pick starts: sending it twice ships once. */
  id: entryIdSchema,
  location: z.string().trim().min(1, 'Choose a location').max(64),
  /** The order's channel and id, as `fulfil.orders` lists them. */
  channel: z.string().min(1).max(128),
  orderId: z.string().min(1, 'Scan the order first').max(255),
  /** What was picked: SKUs of the order, each at most what is left to ship of it. */
  lines: z
    .array(
      z.strictObject({
        sku: z.string().trim().min(1).max(255),
        qty: z
          .number({ error: 'Enter a quantity' })
          .int('Enter a whole number')
          .min(1, 'Pick at least 1')
          .max(MAX_QTY, `At most ${MAX_QTY}`),
      }),
    )
    .min(1, 'Scan the items you pack first')
    .max(MAX_LINES, `At most ${MAX_LINES} lines`),
  /** A carrier the store ships with (its id or name). */
  carrier: z.string().trim().min(1, 'Choose or scan the carrier').max(64, 'At most 64 characters'),
  trackingNumber: z.string().trim().pipe(trackingNumberSchema),
});
export type FulfilShipInput = z.output<typeof fulfilShipInputSchema>;

/** What came back: resellable goes back on hand; damaged is written off (an adjustment with that reason). */
export const RETURN_CONDITIONS = ['resellable', 'damaged'] as const;
export type ReturnCondition = (typeof RETURN_CONDITIONS)[number];

export const fulfilReturnInputSchema = z.strictObject({
  /** The return's id, made when the form opens: sending it twice receives it once. */
  id: entryIdSchema,
  location: z.string().trim().min(1, 'Choose a location').max(64),
  /** The order's channel and id (or its number, like `#1001`). */
  channel: z.string().min(1).max(128).optional(),
  order: z.string().trim().min(1, 'Scan or type the order').max(255),
  lines: z
    .array(
      z.strictObject({
        sku: z.string().trim().min(1).max(255),
        qty: z
          .number({ error: 'Enter a quantity' })
          .int('Enter a whole number')
          .min(1, 'At least 1')
          .max(MAX_QTY, `At most ${MAX_QTY}`),
      }),
    )
    .min(1, 'Scan the items that came back')
    .max(MAX_LINES, `At most ${MAX_LINES} lines`),
  condition: z.enum(RETURN_CONDITIONS, { error: 'Choose resellable or damaged' }),
  note: z.string().trim().max(1000).optional(),
});
export type FulfilReturnInput = z.output<typeof fulfilReturnInputSchema>;
