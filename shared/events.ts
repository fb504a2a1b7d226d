import { z } from 'zod';

/**
 * Event types a POS or stock system may send through the ingest API (CONTRACT.md). `reserve`, `release` and
 * `ship` are marketplace orders (pulled by Backroom, or sent by a web shop): `reserve` holds stock for an order
 * (reserved rises, on hand stays), `release` lets it go (a cancellation), `ship` sends it (on hand falls and the
 * shipped lines' reservations close). Their `reference` names the order (the event id when absent). A `ship` may
 * carry `carrier`, `trackingNumber` and `trackingUrl` (CONTRACT.md, "Additions in v1").
 */
export const EVENT_TYPES = [
  'sale',
  'return',
  'receipt',
  'adjustment',
  'count',
  'transfer_out',
  'transfer_in',
  'reserve',
  'release',
  'ship',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Largest magnitude of a line quantity. */
export const MAX_QTY = 1_000_000;
/** Most lines one event may carry. */
export const MAX_LINES = 1000;
/** Most events one ingest request may carry. */
export const MAX_BATCH_EVENTS = 1000;
/** Deepest nesting of objects and lists inside `meta`; deeper would overflow the stack when hashing the body. */
export const MAX_META_DEPTH = 32;

/** How deeply `value` nests objects and lists (0 for a scalar), walked without recursion; stops past `limit`. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;
const DECIMAL = /^\d{1,15}(\.\d{1,10})?$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Checks an RFC 3339 date-time that carries an offset (`Z` or `±hh:mm`) and names a real calendar date.
 * Returns a reason when it is not one, or `undefined` when it is.
 */
export function rfc3339Problem(value: string): string | undefined {
  const m = RFC3339.exec(value);
  if (!m) return 'must be an RFC 3339 date-time with an offset, like 2026-11-24T10:15:00+01:00';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) return `has no month ${month}`;
  if (day < 1 || day > daysInMonth(year, month))
    return `names a day that does not exist (${m[1]}-${m[2]}-${m[3]})`;
  if (hour > 23 || minute > 59 || second > 59) return 'has a time of day out of range';
  if (m[10] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return 'has an offset out of range';
  return undefined;
}

const decimal = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      ctx.addIssue({ code: 'custom', message: 'must be a decimal of zero or more' });
      return z.NEVER;
    }
    // Numbers are kept as their shortest round-trip text, so 9.99 stays "9.99".
    value = String(value);
    if (value.includes('e')) {
      ctx.addIssue({ code: 'custom', message: 'must be a plain decimal, not exponent notation' });
      return z.NEVER;
    }
  }
  if (!DECIMAL.test(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be a decimal string of zero or more, like "9.99"' });
    return z.NEVER;
  }
  return value;
});

/** A carrier's name as a ship event carries it (CONTRACT.md: 1 to 64 characters). */
export const carrierSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters');

/** A tracking number: 1 to 64 letters, digits and `-`, no spaces (CONTRACT.md). */
export const trackingNumberSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9-]+$/, 'must be letters, digits and "-" only, without spaces');

/** A tracking page: an absolute http or https URL. */
export const trackingUrlSchema = z
  .string({ error: 'must be a string' })
  .max(2048, 'must be at most 2048 characters')
  .refine(isHttpUrl, 'must be an http or https URL');

/** Whether `value` is an absolute http or https URL with a host. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The fields only a `ship` event carries. */
export const SHIPMENT_FIELDS = ['carrier', 'trackingNumber', 'trackingUrl'] as const;

export const eventLineSchema = z.object({
  sku: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters'),
  qty: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(-MAX_QTY, `must be at least -${MAX_QTY}`)
    .max(MAX_QTY, `must be at most ${MAX_QTY}`),
  unitPrice: decimal.optional(),
  currency: z
    .string({ error: 'must be a string' })
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of three capital letters, like EUR')
    .optional(),
});

/**
 * One event as a POS or stock system sends it. Unknown keys are dropped, except inside `meta`, which is kept as
 * it is. Quantity rules depend on the type: positive for most, signed non-zero for `adjustment`, zero or more
 * for `count` (the counted level).
 */
export const eventSchema = z
  .object({
    id: z
      .string({ error: 'must be a string' })
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters'),
    type: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }),
    location: z
      .string({ error: 'must be a string' })
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters'),
    occurredAt: z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
      const problem = rfc3339Problem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    lines: z
      .array(eventLineSchema, { error: 'must be a list of lines' })
      .min(1, 'must have at least one line')
      .max(MAX_LINES, `must have at most ${MAX_LINES} lines`),
    reference: z.string({ error: 'must be a string' }).max(255, 'must be at most 255 characters').optional(),
    carrier: carrierSchema.optional(),
    trackingNumber: trackingNumberSchema.optional(),
    trackingUrl: trackingUrlSchema.optional(),
    meta: z
      .record(z.string(), z.unknown(), { error: 'must be an object' })
      .refine((meta) => nestingDepth(meta, MAX_META_DEPTH) <= MAX_META_DEPTH, {
        message: `must nest objects and lists at most ${MAX_META_DEPTH} levels deep`,
      })
      .optional(),
  })
  .superRefine((event, ctx) => {
    if (event.type !== 'ship')
      for (const key of SHIPMENT_FIELDS)
        if (event[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `only a ship event carries a ${key}` });
    event.lines.forEach((line, i) => {
      const path = ['lines', i, 'qty'];
      if (event.type === 'adjustment') {
        if (line.qty === 0) ctx.addIssue({ code: 'custom', path, message: 'an adjustment must not be zero' });
      } else if (event.type === 'count') {
        if (line.qty < 0)
          ctx.addIssue({ code: 'custom', path, message: 'a counted level must be zero or more' });
      } else if (line.qty <= 0) {
        ctx.addIssue({ code: 'custom', path, message: `a ${event.type} quantity must be positive` });
      }
    });
  });

export type PosEvent = z.output<typeof eventSchema>;
export type EventLine = z.output<typeof eventLineSchema>;

/** A field-level problem with an input, `path` in dotted form (`lines.0.qty`). */
export type FieldError = { path: string; message: string };

/** Flattens zod issues into dotted paths, the form every API answer and exception uses. */
export function toFieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return { path, message: issue.message };
  });
}

export type ParsedEvent = { ok: true; event: PosEvent } | { ok: false; id?: string; errors: FieldError[] };

/** Validates one event; on failure keeps its `id` when one can be read, so the answer can name it. */
export function parseEvent(input: unknown): ParsedEvent {
  const result = eventSchema.safeParse(input);
  if (result.success) return { ok: true, event: result.data };
  const id =
    typeof input === 'object' && input !== null && typeof (input as { id?: unknown }).id === 'string'
      ? (input as { id: string }).id
      : undefined;
  return id === undefined
    ? { ok: false, errors: toFieldErrors(result.error) }
    : { ok: false, id, errors: toFieldErrors(result.error) };
}

/**
 * Version of the stored event payload (`canonicalEventBody`). Outbox rows record it, so a later Backroom that
 * changes the payload can still read what an earlier one queued; bump it with a reader for the old version.
 */
export const EVENT_PAYLOAD_VERSION = 1;

/** JSON with object keys sorted, so equal values always give equal text (used for hashing). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The canonical body of an event: what is stored, hashed and compared for duplicates. Key order is fixed here
 * rather than sorted at run time because this is on the capture hot path.
 */
export function canonicalEventBody(event: PosEvent): string {
  const lines = event.lines.map((l) => {
    let s = `{"sku":${JSON.stringify(l.sku)},"qty":${l.qty}`;
    if (l.unitPrice !== undefined) s += `,"unitPrice":${JSON.stringify(l.unitPrice)}`;
    if (l.currency !== undefined) s += `,"currency":"${l.currency}"`;
    return `${s}}`;
  });
  let s = `{"id":${JSON.stringify(event.id)},"type":"${event.type}","location":${JSON.stringify(event.location)},"occurredAt":${JSON.stringify(event.occurredAt)},"lines":[${lines.join(',')}]`;
  if (event.reference !== undefined) s += `,"reference":${JSON.stringify(event.reference)}`;
  // Appended only when present, so every body captured before these fields existed stays byte for byte the same.
  if (event.carrier !== undefined) s += `,"carrier":${JSON.stringify(event.carrier)}`;
  if (event.trackingNumber !== undefined) s += `,"trackingNumber":${JSON.stringify(event.trackingNumber)}`;
  if (event.trackingUrl !== undefined) s += `,"trackingUrl":${JSON.stringify(event.trackingUrl)}`;
  if (event.meta !== undefined) s += `,"meta":${canonicalJson(event.meta)}`;
  return `${s}}`;
}

/** Event types that move reservations rather than (only) on hand. */
export const RESERVATION_TYPES = ['reserve', 'release', 'ship'] as const satisfies readonly EventType[];

/** The order a reservation event is about: its reference, or its id when it has none. */
export function orderKeyOf(event: Pick<PosEvent, 'id' | 'reference'>): string {
  return event.reference !== undefined && event.reference !== '' ? event.reference : event.id;
}

/**
 * Signed effect of one line on the on-hand level; `count` is handled apart (it sets an absolute level).
 * `reserve` and `release` do not move on hand (they move `reserved`).
 */
export function lineDelta(type: Exclude<EventType, 'count'>, qty: number): number {
  switch (type) {
    case 'sale':
    case 'transfer_out':
    case 'ship':
      return -qty;
    case 'reserve':
    case 'release':
      return 0;
    case 'return':
    case 'receipt':
    case 'transfer_in':
    case 'adjustment':
      return qty;
    default:
      return assertNever(type);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}

/** How staff call each event type, for messages and the UI. */
export const EVENT_LABELS = {
  sale: 'Sale',
  return: 'Return',
  receipt: 'Goods receipt',
  adjustment: 'Adjustment',
  count: 'Stock count',
  transfer_out: 'Transfer out',
  transfer_in: 'Transfer in',
  reserve: 'Order reservation',
  release: 'Order cancellation',
  ship: 'Order shipment',
} as const satisfies Record<EventType, string>;

/** "Sale R-000123": the event as staff would name it. */
export function describeEvent(event: Pick<PosEvent, 'type' | 'id' | 'reference'>): string {
  return `${EVENT_LABELS[event.type]} ${event.reference ?? event.id}`;
}
