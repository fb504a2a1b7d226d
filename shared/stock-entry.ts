import { z } from 'zod';
import { MAX_LINES, MAX_QTY } from './events.js';

/**
 * Stock entry at the workbench: what staff type or scan to receive goods, count, adjust and transfer. The forms
 * validate with these schemas before sending, and the agent parses every input with the same ones (`shared/rpc.ts`),
 * then captures the result through `capture()` under the source `WORKBENCH_SOURCE`, like any till.
 */

/** The capture source of everything entered at the workbench. */
export const WORKBENCH_SOURCE = 'workbench';

/** Why stock is adjusted by hand; `other` needs a note. */
export const ADJUSTMENT_REASONS = ['damaged', 'theft', 'found', 'sample', 'other'] as const;
export type AdjustmentReason = (typeof ADJUSTMENT_REASONS)[number];

/** How staff call each reason. */
export const ADJUSTMENT_REASON_LABELS = {
  damaged: 'Damaged',
  theft: 'Theft or loss',
  found: 'Found',
  sample: 'Sample or display',
  other: 'Other (say what)',
} as const satisfies Record<AdjustmentReason, string>;

/**
 * The id of one entry, made by the form when it opens (`newEntryId`), so sending it twice (a double click, a
 * retry after a lost answer) captures it once: the second is answered `duplicate`.
 */
export const entryIdSchema = z
  .string()
  .min(8, 'must be 8 to 128 characters')
  .max(128, 'must be 8 to 128 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'must be letters, digits, ".", "_", ":" and "-" only');

const sku = z.string().trim().min(1, 'Enter a SKU or scan a barcode').max(255, 'At most 255 characters');
const location = z.string().trim().min(1, 'Choose a location').max(64);
const reference = z.string().trim().max(255, 'At most 255 characters');
const positiveQty = z
  .number({ error: 'Enter a quantity' })
  .int('Enter a whole number')
  .min(1, 'Enter a quantity of 1 or more')
  .max(MAX_QTY, `At most ${MAX_QTY}`);
const signedQty = z
  .number({ error: 'Enter a quantity' })
  .int('Enter a whole number')
  .min(-MAX_QTY, `At least -${MAX_QTY}`)
  .max(MAX_QTY, `At most ${MAX_QTY}`)
  .refine((qty) => qty !== 0, 'An adjustment must not be zero');
const lines = <T extends z.ZodType>(line: T) =>
  z.array(line).min(1, 'Add at least one line').max(MAX_LINES, `At most ${MAX_LINES} lines`);

export const receiveInputSchema = z.strictObject({
  id: entryIdSchema,
  location,
  /** A delivery note or purchase order number. */
  reference: reference.optional(),
  lines: lines(z.strictObject({ sku, qty: positiveQty })),
});
export type ReceiveInput = z.output<typeof receiveInputSchema>;

export const adjustInputSchema = z
  .strictObject({
    id: entryIdSchema,
    location,
    reason: z.enum(ADJUSTMENT_REASONS, { error: 'Choose a reason' }),
    note: z.string().trim().max(1000).optional(),
    lines: lines(z.strictObject({ sku, qty: signedQty })),
  })
  .refine((a) => a.reason !== 'other' || (a.note ?? '') !== '', {
    path: ['note'],
    message: 'Say what the adjustment is for',
  });
export type AdjustInput = z.output<typeof adjustInputSchema>;

export const transferOutInputSchema = z
  .strictObject({
    id: entryIdSchema,
    from: location,
    to: location,
    reference: reference.optional(),
    lines: lines(z.strictObject({ sku, qty: positiveQty })),
  })
  .refine((t) => t.from !== t.to, {
    path: ['to'],
    message: 'Choose another location than the one it leaves',
  });
export type TransferOutInput = z.output<typeof transferOutInputSchema>;

/** Receiving an expected transfer: the lines default to what was sent; a difference is kept and shown. */
export const transferInInputSchema = z.strictObject({
  id: entryIdSchema,
  /** The transfer's reference (the id its `transfer_out` was captured under, when it had no reference). */
  transfer: z.string().min(1).max(255),
  location,
  /** What arrived; a SKU that was sent and is missing here arrived as 0. Zero lines are allowed (nothing came). */
  lines: z
    .array(z.strictObject({ sku, qty: z.number().int('Enter a whole number').min(0).max(MAX_QTY) }))
    .min(1, 'Add at least one line')
    .max(MAX_LINES),
});
export type TransferInInput = z.output<typeof transferInInputSchema>;

/** How a count session picks its items. */
export const countStartInputSchema = z.strictObject({
  location,
  /** SKUs to count; with `negativeOnly` or `shelfCsv` may be empty. */
  skus: z.array(sku).max(MAX_LINES).default([]),
  /** Add every item whose level at the location is below zero. */
  negativeOnly: z.boolean().default(false),
  /** A shelf list: a CSV with a `sku` column (or one SKU or barcode per line). */
  shelfCsv: z.string().max(2_000_000).optional(),
  label: z.string().trim().max(200).optional(),
});
export type CountStartInput = z.output<typeof countStartInputSchema>;

export const countRecordInputSchema = z.strictObject({
  session: z.number().int().positive(),
  sku,
  /** `set`: the counted level is `qty`; `add`: one more scan adds `qty` to what was counted so far. */
  mode: z.enum(['set', 'add']).default('set'),
  qty: z.number({ error: 'Enter the counted quantity' }).int('Enter a whole number').min(0).max(MAX_QTY),
});

/** A SKU or barcode as scanned or typed, looked up in the catalog. */
export const itemLookupInputSchema = z.strictObject({
  code: z.string().trim().min(1, 'Enter a SKU or scan a barcode').max(255),
  location: z.string().min(1).max(64).optional(),
});

/** Sort keys and filters of the Stock page's table. */
export const STOCK_SORTS = ['sku', 'name', 'onHand', 'reserved', 'available', 'lastMovement'] as const;
export const STOCK_FILTERS = ['all', 'negative', 'zero', 'below', 'changed_today'] as const;

export const stockListInputSchema = z
  .strictObject({
    location: z.string().min(1).max(64).optional(),
    /** Part of a SKU, name or barcode. */
    q: z.string().trim().max(255).optional(),
    filter: z.enum(STOCK_FILTERS).default('all'),
    /** With `below`: levels strictly under this many units. */
    threshold: z.coerce.number().int().min(-MAX_QTY).max(MAX_QTY).optional(),
    sort: z.enum(STOCK_SORTS).default('sku'),
    dir: z.enum(['asc', 'desc']).default('asc'),
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .refine((i) => i.filter !== 'below' || i.threshold !== undefined, {
    path: ['threshold'],
    message: 'Filtering below a level needs a threshold',
  });
export type StockListInput = z.output<typeof stockListInputSchema>;
