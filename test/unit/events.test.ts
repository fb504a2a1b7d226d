import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  canonicalEventBody,
  EVENT_TYPES,
  MAX_LINES,
  MAX_QTY,
  parseEvent,
  type EventType,
  type FieldError,
  type ParsedEvent,
  type PosEvent,
} from '../../shared/events.js';

/** A valid sale; each test changes one thing. */
function baseEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'pos-1:receipt:000123',
    type: 'sale',
    location: 'S042',
    occurredAt: '2026-11-24T10:15:00+01:00',
    lines: [{ sku: 'SKU-1', qty: 2, unitPrice: '9.99', currency: 'EUR' }],
    reference: 'R-000123',
    ...overrides,
  };
}

function withLine(line: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return baseEvent({ lines: [{ sku: 'SKU-1', qty: 1, ...line }], ...overrides });
}

function accepted(input: unknown): PosEvent {
  const result = parseEvent(input);
  assert.ok(result.ok, `expected the event to pass, got ${JSON.stringify(result)}`);
  return result.event;
}

function errorsOf(input: unknown): FieldError[] {
  const result = parseEvent(input);
  assert.ok(!result.ok, `expected the event to be rejected, got ${JSON.stringify(result)}`);
  assert.ok(result.errors.length > 0, 'a rejection carries at least one error');
  return result.errors;
}

/** Asserts the event is rejected and that every error is at `path` (and there is one). */
function assertRejectedAt(input: unknown, path: string): FieldError[] {
  const errors = errorsOf(input);
  assert.deepEqual(
    errors.map((e) => e.path),
    errors.map(() => path),
    `expected every error at "${path}", got ${JSON.stringify(errors)}`,
  );
  for (const e of errors) assert.ok(e.message.length > 0, 'each error has a message');
  return errors;
}

const NON_COUNT_POSITIVE: readonly EventType[] = ['sale', 'return', 'receipt', 'transfer_out', 'transfer_in'];

describe('quantity rules per event type', () => {
  for (const type of NON_COUNT_POSITIVE) {
    test(`a ${type} accepts a positive quantity`, () => {
      assert.equal(accepted(withLine({ qty: 3 }, { type })).lines[0]!.qty, 3);
    });
    test(`a ${type} rejects a zero quantity at lines.0.qty`, () => {
      assertRejectedAt(withLine({ qty: 0 }, { type }), 'lines.0.qty');
    });
    test(`a ${type} rejects a negative quantity at lines.0.qty`, () => {
      assertRejectedAt(withLine({ qty: -1 }, { type }), 'lines.0.qty');
    });
  }

  test('an adjustment accepts a positive and a negative quantity', () => {
    assert.equal(accepted(withLine({ qty: 4 }, { type: 'adjustment' })).lines[0]!.qty, 4);
    assert.equal(accepted(withLine({ qty: -4 }, { type: 'adjustment' })).lines[0]!.qty, -4);
  });

  test('an adjustment rejects zero at lines.0.qty', () => {
    assertRejectedAt(withLine({ qty: 0 }, { type: 'adjustment' }), 'lines.0.qty');
  });

  test('a count accepts zero (an empty shelf) and a positive level', () => {
    assert.equal(accepted(withLine({ qty: 0 }, { type: 'count' })).lines[0]!.qty, 0);
    assert.equal(accepted(withLine({ qty: 17 }, { type: 'count' })).lines[0]!.qty, 17);
  });

  test('a count rejects a negative level at lines.0.qty', () => {
    assertRejectedAt(withLine({ qty: -1 }, { type: 'count' }), 'lines.0.qty');
  });

  test('a quantity of exactly 1,000,000 in magnitude is accepted, one more is rejected', () => {
    accepted(withLine({ qty: MAX_QTY }));
    accepted(withLine({ qty: -MAX_QTY }, { type: 'adjustment' }));
    assertRejectedAt(withLine({ qty: MAX_QTY + 1 }), 'lines.0.qty');
    assertRejectedAt(withLine({ qty: -MAX_QTY - 1 }, { type: 'adjustment' }), 'lines.0.qty');
    assertRejectedAt(withLine({ qty: MAX_QTY + 1 }, { type: 'count' }), 'lines.0.qty');
  });

  test('a fractional quantity is rejected at its path', () => {
    assertRejectedAt(withLine({ qty: 1.5 }), 'lines.0.qty');
  });

  test('a quantity given as a string is rejected, not coerced', () => {
    assertRejectedAt(withLine({ qty: '2' }), 'lines.0.qty');
  });

  test('the error path names the line that is wrong, not the first one', () => {
    const event = baseEvent({
      lines: [
        { sku: 'A', qty: 1 },
        { sku: 'B', qty: 2 },
        { sku: 'C', qty: 0 },
      ],
    });
    assertRejectedAt(event, 'lines.2.qty');
  });

  test('several bad lines are each reported at their own path', () => {
    const errors = errorsOf(
      baseEvent({
        lines: [
          { sku: 'A', qty: 0 },
          { sku: '', qty: 1 },
        ],
      }),
    );
    assert.deepEqual(errors.map((e) => e.path).sort(), ['lines.0.qty', 'lines.1.sku']);
  });
});

describe('occurredAt', () => {
  const valid = [
    '2026-11-24T10:15:00+01:00',
    '2026-11-24T10:15:00Z',
    '2026-11-24t10:15:00z',
    '2026-11-24T10:15:00.5-05:30',
    '2026-11-24T10:15:00.123456789+14:00',
    '2026-01-31T23:59:59-00:00',
    '2026-04-30T00:00:00Z',
  ];
  for (const occurredAt of valid) {
    test(`accepts ${occurredAt}`, () => {
      assert.equal(accepted(baseEvent({ occurredAt })).occurredAt, occurredAt);
    });
  }

  test('accepts 29 February in leap years, including a year divisible by 400', () => {
    for (const year of [2024, 2028, 2000, 1600])
      accepted(baseEvent({ occurredAt: `${year}-02-29T12:00:00Z` }));
  });

  test('rejects 29 February in common years, including century years not divisible by 400', () => {
    for (const year of [2026, 2025, 1900, 2100]) {
      assertRejectedAt(baseEvent({ occurredAt: `${year}-02-29T12:00:00Z` }), 'occurredAt');
    }
  });

  const invalid: [string, string][] = [
    ['without an offset', '2026-11-24T10:15:00'],
    ['a date only', '2026-11-24'],
    ['a space instead of T', '2026-11-24 10:15:00Z'],
    ['day 31 in a 30-day month', '2026-04-31T10:15:00Z'],
    ['30 February', '2024-02-30T10:15:00Z'],
    ['day 0', '2026-11-00T10:15:00Z'],
    ['month 13', '2026-13-01T10:15:00Z'],
    ['month 0', '2026-00-01T10:15:00Z'],
    ['hour 24', '2026-11-24T24:00:00Z'],
    ['minute 60', '2026-11-24T10:60:00Z'],
    ['an offset of 24 hours', '2026-11-24T10:15:00+24:00'],
    ['an offset without a colon', '2026-11-24T10:15:00+0100'],
    ['a two-digit year', '26-11-24T10:15:00Z'],
    ['ten fraction digits', '2026-11-24T10:15:00.1234567890Z'],
    ['trailing text', '2026-11-24T10:15:00Z '],
    ['an empty string', ''],
  ];
  for (const [what, occurredAt] of invalid) {
    test(`rejects ${what} at occurredAt`, () => {
      assertRejectedAt(baseEvent({ occurredAt }), 'occurredAt');
    });
  }

  test('rejects epoch milliseconds at occurredAt', () => {
    assertRejectedAt(baseEvent({ occurredAt: 1_764_000_000_000 }), 'occurredAt');
  });

  test('the message for an impossible date names the date', () => {
    const [error] = assertRejectedAt(baseEvent({ occurredAt: '2026-02-29T12:00:00Z' }), 'occurredAt');
    assert.match(error!.message, /2026-02-29/);
  });
});

describe('unitPrice and currency', () => {
  test('a number price is normalized to the same decimal text as the string', () => {
    assert.equal(accepted(withLine({ unitPrice: 9.99 })).lines[0]!.unitPrice, '9.99');
    assert.equal(accepted(withLine({ unitPrice: '9.99' })).lines[0]!.unitPrice, '9.99');
    assert.equal(accepted(withLine({ unitPrice: 10 })).lines[0]!.unitPrice, '10');
    assert.equal(accepted(withLine({ unitPrice: 0 })).lines[0]!.unitPrice, '0');
  });

  test('a price string keeps its text as sent (no rounding)', () => {
    assert.equal(accepted(withLine({ unitPrice: '9.990' })).lines[0]!.unitPrice, '9.990');
    assert.equal(accepted(withLine({ unitPrice: '0.0000000001' })).lines[0]!.unitPrice, '0.0000000001');
  });

  test('a line without a price or currency is valid and has none', () => {
    const line = accepted(baseEvent({ lines: [{ sku: 'A', qty: 1 }] })).lines[0]!;
    assert.equal(line.unitPrice, undefined);
    assert.equal(line.currency, undefined);
  });

  const badPrices: [string, unknown][] = [
    ['a negative number', -1],
    ['a negative string', '-1.00'],
    ['text', 'abc'],
    ['an empty string', ''],
    ['a comma decimal', '1,50'],
    ['exponent notation in a string', '1e5'],
    ['a number that prints in exponent notation', 1e21],
    ['a tiny number that prints in exponent notation', 1e-7],
    ['null', null],
    ['a boolean', true],
    ['an object', { amount: 1 }],
  ];
  for (const [what, unitPrice] of badPrices) {
    test(`rejects ${what} as unitPrice at lines.0.unitPrice`, () => {
      assertRejectedAt(withLine({ unitPrice }), 'lines.0.unitPrice');
    });
  }

  test('accepts an ISO 4217 currency of three capital letters', () => {
    assert.equal(accepted(withLine({ currency: 'CHF' })).lines[0]!.currency, 'CHF');
  });

  for (const currency of ['eur', 'EURO', 'EU', '', 'E1R', 978]) {
    test(`rejects currency ${JSON.stringify(currency)} at lines.0.currency`, () => {
      assertRejectedAt(withLine({ currency }), 'lines.0.currency');
    });
  }
});

describe('lengths of id, location, sku and reference', () => {
  test('an id of 128 characters is accepted, 129 is rejected at id', () => {
    accepted(baseEvent({ id: 'i'.repeat(128) }));
    assertRejectedAt(baseEvent({ id: 'i'.repeat(129) }), 'id');
  });

  test('an empty or missing id is rejected at id', () => {
    assertRejectedAt(baseEvent({ id: '' }), 'id');
    const withoutId = baseEvent();
    delete withoutId.id;
    assertRejectedAt(withoutId, 'id');
  });

  test('a location of 64 characters is accepted, 65 is rejected at location', () => {
    accepted(baseEvent({ location: 'L'.repeat(64) }));
    assertRejectedAt(baseEvent({ location: 'L'.repeat(65) }), 'location');
    assertRejectedAt(baseEvent({ location: '' }), 'location');
  });

  test('a sku of 255 characters is accepted, 256 or none is rejected at lines.0.sku', () => {
    accepted(withLine({ sku: 's'.repeat(255) }));
    assertRejectedAt(withLine({ sku: 's'.repeat(256) }), 'lines.0.sku');
    assertRejectedAt(withLine({ sku: '' }), 'lines.0.sku');
  });

  test('a reference of 255 characters is accepted, 256 is rejected at reference', () => {
    accepted(baseEvent({ reference: 'r'.repeat(255) }));
    assertRejectedAt(baseEvent({ reference: 'r'.repeat(256) }), 'reference');
  });

  test('an event without lines or with an empty list is rejected at lines', () => {
    assertRejectedAt(baseEvent({ lines: [] }), 'lines');
    const withoutLines = baseEvent();
    delete withoutLines.lines;
    assertRejectedAt(withoutLines, 'lines');
  });

  test('1000 lines are accepted, 1001 are rejected at lines', () => {
    const line = { sku: 'A', qty: 1 };
    assert.equal(
      accepted(baseEvent({ lines: Array.from({ length: MAX_LINES }, () => line) })).lines.length,
      1000,
    );
    assertRejectedAt(baseEvent({ lines: Array.from({ length: MAX_LINES + 1 }, () => line) }), 'lines');
  });

  test('an unknown type is rejected at type with the list of types', () => {
    const [error] = assertRejectedAt(baseEvent({ type: 'refund' }), 'type');
    for (const type of EVENT_TYPES) assert.ok(error!.message.includes(type), `message names ${type}`);
  });
});

describe('unknown keys and meta', () => {
  test('unknown keys at the top and in lines are dropped', () => {
    const event = accepted(
      baseEvent({ cashier: 'Ann', lines: [{ sku: 'A', qty: 1, discount: '0.5' }], till: { no: 3 } }),
    );
    assert.ok(!('cashier' in event));
    assert.ok(!('till' in event));
    assert.ok(!('discount' in event.lines[0]!));
  });

  test('meta is kept as it is, nested values and all', () => {
    const meta = { till: 3, cashier: { name: 'Ann', shifts: [1, 2] }, note: null, isTraining: false };
    assert.deepEqual(accepted(baseEvent({ meta })).meta, meta);
  });

  for (const meta of ['till 3', 3, [1, 2], null, true]) {
    test(`meta ${JSON.stringify(meta)} that is not an object is rejected at meta`, () => {
      assertRejectedAt(baseEvent({ meta }), 'meta');
    });
  }

  test('a "__proto__" key at the top of meta is dropped and never becomes the prototype of meta', () => {
    const input = JSON.parse(
      JSON.stringify(baseEvent()).replace(/}$/, ',"meta":{"__proto__":{"isAdmin":true},"till":3}}'),
    ) as unknown;
    const event = accepted(input);
    assert.deepEqual(event.meta, { till: 3 });
    assert.equal(Object.getPrototypeOf(event.meta), Object.prototype);
    assert.equal((event.meta as Record<string, unknown>).isAdmin, undefined);
  });

  test('a rejection keeps the id it could read, so the answer can name the event', () => {
    const result = parseEvent(baseEvent({ id: 'keep-me', lines: [] }));
    assert.deepEqual(result, {
      ok: false,
      id: 'keep-me',
      errors: [{ path: 'lines', message: 'must have at least one line' }],
    } satisfies ParsedEvent);
  });

  test('a value that is not an object is rejected with the top-level path', () => {
    for (const input of [null, [], 'sale', 42]) assertRejectedAt(input, '');
  });
});

describe('canonicalEventBody', () => {
  test('the canonical body of a given event is exactly this text (stored hashes depend on it)', () => {
    const event = accepted(
      baseEvent({
        meta: { z: 1, a: { y: [2, { d: 1, c: 2 }], x: 'é' } },
        lines: [
          { sku: 'SKU-1', qty: 2, unitPrice: 9.99, currency: 'EUR' },
          { sku: 'SKU-"2"', qty: 1 },
        ],
      }),
    );
    assert.equal(
      canonicalEventBody(event),
      '{"id":"pos-1:receipt:000123","type":"sale","location":"S042","occurredAt":"2026-11-24T10:15:00+01:00",' +
        '"lines":[{"sku":"SKU-1","qty":2,"unitPrice":"9.99","currency":"EUR"},{"sku":"SKU-\\"2\\"","qty":1}],' +
        '"reference":"R-000123","meta":{"a":{"x":"é","y":[2,{"c":2,"d":1}]},"z":1}}',
    );
  });

  test('key order in the input does not change the body', () => {
    const a = accepted({
      id: 'e1',
      type: 'receipt',
      location: 'S1',
      occurredAt: '2026-11-24T10:15:00Z',
      lines: [{ sku: 'A', qty: 1, currency: 'EUR', unitPrice: '1.50' }],
      meta: { b: 1, a: 2 },
    });
    const b = accepted({
      meta: { a: 2, b: 1 },
      lines: [{ unitPrice: '1.50', currency: 'EUR', qty: 1, sku: 'A' }],
      occurredAt: '2026-11-24T10:15:00Z',
      location: 'S1',
      type: 'receipt',
      id: 'e1',
    });
    assert.equal(canonicalEventBody(a), canonicalEventBody(b));
  });

  test('a price sent as a number and as the same string give the same body', () => {
    assert.equal(
      canonicalEventBody(accepted(withLine({ unitPrice: 12.5 }))),
      canonicalEventBody(accepted(withLine({ unitPrice: '12.5' }))),
    );
  });

  test('unknown keys do not change the body', () => {
    assert.equal(
      canonicalEventBody(accepted(baseEvent({ till: 3 }))),
      canonicalEventBody(accepted(baseEvent())),
    );
  });

  test('a change to any field changes the body', () => {
    const body = canonicalEventBody(accepted(baseEvent()));
    const changes: Record<string, unknown>[] = [
      { id: 'other' },
      { type: 'return' },
      { location: 'S043' },
      { occurredAt: '2026-11-24T10:15:00+02:00' },
      { lines: [{ sku: 'SKU-1', qty: 3, unitPrice: '9.99', currency: 'EUR' }] },
      { lines: [{ sku: 'SKU-1', qty: 2, unitPrice: '9.98', currency: 'EUR' }] },
      { lines: [{ sku: 'SKU-1', qty: 2, unitPrice: '9.99', currency: 'USD' }] },
      { lines: [{ sku: 'SKU-1', qty: 2, unitPrice: '9.99' }] },
      { reference: 'R-000124' },
      { meta: { till: 1 } },
    ];
    for (const change of changes) {
      assert.notEqual(canonicalEventBody(accepted(baseEvent(change))), body, JSON.stringify(change));
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests

function isRealDate(year: number, month: number, day: number): boolean {
  // An oracle independent of the code under test: the JS calendar (proleptic Gregorian).
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

const offsetArb = fc.oneof(
  fc.constantFrom('Z', 'z'),
  fc
    .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([sign, h, m]) => `${sign}${pad(h)}:${pad(m)}`),
);

const fractionArb = fc.option(fc.stringMatching(/^\.\d{1,9}$/), { nil: '' });

/** A real calendar date-time, any year 0000 to 9999, leap days included. */
const occurredAtArb = fc
  .tuple(
    fc.date({
      min: new Date('0000-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    fractionArb,
    offsetArb,
  )
  .map(([d, fraction, offset]) => `${d.toISOString().slice(0, 19)}${fraction}${offset}`);

const qtyArb = (type: EventType) =>
  type === 'adjustment'
    ? fc.integer({ min: -MAX_QTY, max: MAX_QTY }).filter((q) => q !== 0)
    : type === 'count'
      ? fc.integer({ min: 0, max: MAX_QTY })
      : fc.integer({ min: 1, max: MAX_QTY });

const priceArb = fc.oneof(
  fc.stringMatching(/^\d{1,15}(\.\d{1,10})?$/),
  fc.integer({ min: 0, max: 100_000_000 }).map((cents) => cents / 100),
);

/** A string of `min` to `max` UTF-16 units, sometimes beyond ASCII. */
const textArb = (min: number, max: number) =>
  fc.oneof(
    fc.string({ minLength: min, maxLength: max }),
    fc
      .string({ unit: 'binary', minLength: min, maxLength: max })
      .filter((s) => s.length >= min && s.length <= max),
  );

const lineArb = (type: EventType) =>
  fc.record(
    {
      sku: textArb(1, 255),
      qty: qtyArb(type),
      unitPrice: priceArb,
      currency: fc.stringMatching(/^[A-Z]{3}$/),
    },
    { requiredKeys: ['sku', 'qty'] },
  );

const KNOWN_KEYS = new Set(['id', 'type', 'location', 'occurredAt', 'lines', 'reference', 'meta']);

/** A valid event as a POS might send it, sometimes with extra keys that must be ignored. */
const validEventArb = fc
  .constantFrom(...EVENT_TYPES)
  .chain((type) =>
    fc.record(
      {
        id: textArb(1, 128),
        type: fc.constant(type),
        location: textArb(1, 64),
        occurredAt: occurredAtArb,
        lines: fc.array(lineArb(type), { minLength: 1, maxLength: 5 }),
        reference: textArb(0, 255),
        // `__proto__` at the top of meta is dropped on purpose (see the test above); it is not generated here.
        meta: fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 4 },
        ),
        extra: fc.dictionary(
          fc.string().filter((k) => !KNOWN_KEYS.has(k) && k !== '__proto__'),
          fc.jsonValue({ maxDepth: 1 }),
          { maxKeys: 2 },
        ),
      },
      { requiredKeys: ['id', 'type', 'location', 'occurredAt', 'lines', 'extra'] },
    ),
  )
  // Through JSON, as a POS sends it: plain objects only, no -0 or undefined.
  .map(
    ({ extra, ...event }) => JSON.parse(JSON.stringify({ ...extra, ...event })) as Record<string, unknown>,
  );

type Mutation = { path: string; value: unknown };

const WRONG_TYPES: readonly unknown[] = [undefined, null, true, 42, {}, []];

const wrongString = (maxLength: number) =>
  fc.oneof(
    fc.constantFrom<unknown>('', ...WRONG_TYPES),
    fc.integer({ min: maxLength + 1, max: maxLength + 50 }).map((n) => 'x'.repeat(n)),
  );

/** Broken date-times: impossible days, out-of-range parts, no offset, wrong shapes. */
const badOccurredAtArb = fc.oneof(
  fc.constantFrom<unknown>(
    ...WRONG_TYPES,
    1_764_000_000_000,
    '',
    '2026-11-24',
    '2026-11-24 10:15:00Z',
    '2026-11-24T10:15Z',
    'yesterday',
  ),
  // an impossible calendar day (31 April, 30 February, 29 February of a common year, day 0 or 32)
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 0, max: 32 }),
    )
    .filter(([y, m, d]) => !isRealDate(y, m, d))
    .map(([y, m, d]) => `${pad(y, 4)}-${pad(m)}-${pad(d)}T12:00:00Z`),
  fc.integer({ min: 13, max: 99 }).map((m) => `2026-${pad(m)}-01T12:00:00Z`),
  fc.integer({ min: 24, max: 99 }).map((h) => `2026-11-24T${pad(h)}:00:00Z`),
  fc.integer({ min: 60, max: 99 }).map((mm) => `2026-11-24T10:${pad(mm)}:00Z`),
  fc.integer({ min: 60, max: 99 }).map((s) => `2026-11-24T10:15:${pad(s)}Z`),
  fc.integer({ min: 24, max: 99 }).map((h) => `2026-11-24T10:15:00+${pad(h)}:00`),
  // a valid date-time with its offset cut off
  occurredAtArb.map((s) => s.replace(/([Zz]|[+-]\d\d:\d\d)$/, '')),
);

function badQtyArb(type: EventType) {
  // The values just past each rule's edge, and any value beyond it.
  const ruleBreakers =
    type === 'adjustment'
      ? fc.constant(0)
      : type === 'count'
        ? fc.oneof(fc.constant(-1), fc.integer({ min: -MAX_QTY, max: -1 }))
        : fc.oneof(fc.constantFrom(0, -1), fc.integer({ min: -MAX_QTY, max: 0 }));
  return fc.oneof(
    ruleBreakers,
    fc.constantFrom(MAX_QTY + 1, -MAX_QTY - 1),
    fc.integer({ min: MAX_QTY + 1, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -MAX_QTY - 1 }),
    fc.double({ min: -MAX_QTY, max: MAX_QTY, noNaN: true }).filter((q) => !Number.isInteger(q)),
    fc.constantFrom<unknown>(undefined, null, true, {}, [], '1', '0'),
  );
}

const badPriceArb = fc.oneof(
  fc.constantFrom<unknown>(null, true, {}, [], '', 'abc', '1,50', '1e5', '.5', '5.', '+1', ' 1', 1e21, 1e-7),
  fc.double({ max: -Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true }),
  fc.stringMatching(/^-\d{1,6}(\.\d{1,2})?$/),
  fc.stringMatching(/^\d{1,3}\.\d{11,14}$/),
);

const badCurrencyArb = fc.oneof(
  fc.constantFrom<unknown>(null, true, 978, {}, '', 'eur', 'EURO', 'EU'),
  fc.string({ minLength: 3, maxLength: 3 }).filter((s) => !/^[A-Z]{3}$/.test(s)),
);

/** One field of `event` changed to a wrong type or a wrong value. */
function mutationArb(event: Record<string, unknown>): fc.Arbitrary<Mutation> {
  const type = event.type as EventType;
  const lines = event.lines as unknown[];
  const lineField = (field: string, bad: fc.Arbitrary<unknown>) =>
    fc
      .tuple(fc.integer({ min: 0, max: lines.length - 1 }), bad)
      .map(([i, value]): Mutation => ({ path: `lines.${i}.${field}`, value }));
  const at = (path: string, bad: fc.Arbitrary<unknown>) => bad.map((value): Mutation => ({ path, value }));
  return fc.oneof(
    at('id', wrongString(128)),
    at(
      'type',
      fc.oneof(
        fc.constantFrom<unknown>(...WRONG_TYPES, '', 'refund', 'SALE', 'Sale'),
        fc.string().filter((s) => !(EVENT_TYPES as readonly string[]).includes(s)),
      ),
    ),
    at('location', wrongString(64)),
    at('occurredAt', badOccurredAtArb),
    at(
      'lines',
      fc.oneof(
        fc.constantFrom<unknown>(undefined, null, 'SKU-1', 3, {}, []),
        fc.constant(Array.from({ length: MAX_LINES + 1 }, () => lines[0])),
      ),
    ),
    lineField('sku', wrongString(255)),
    lineField('qty', badQtyArb(type)),
    lineField('unitPrice', badPriceArb),
    lineField('currency', badCurrencyArb),
    at(
      'reference',
      fc.oneof(
        fc.constantFrom<unknown>(null, 42, true, {}, []),
        wrongString(255).filter((v) => typeof v === 'string' && v.length > 0),
      ),
    ),
    at('meta', fc.constantFrom<unknown>(null, 'note', 42, true, [], [1, 2])),
  );
}

/** A deep copy of `event` with the value at dotted `path` set (or removed when `undefined`). */
function mutate(event: Record<string, unknown>, { path, value }: Mutation): Record<string, unknown> {
  const copy = structuredClone(event);
  const keys = path.split('.');
  let target = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

describe('properties', () => {
  test('every valid event passes, keeps its fields and drops unknown keys', () => {
    fc.assert(
      fc.property(validEventArb, (input) => {
        const result = parseEvent(input);
        assert.ok(result.ok, `rejected a valid event: ${JSON.stringify(result)}\n${JSON.stringify(input)}`);
        const { event } = result;
        assert.deepEqual(
          Object.keys(event).filter((k) => !KNOWN_KEYS.has(k)),
          [],
        );
        assert.equal(event.id, input.id);
        assert.equal(event.occurredAt, input.occurredAt);
        assert.deepEqual(event.meta, input.meta);
        assert.deepEqual(
          event.lines.map((l) => l.qty),
          (input.lines as { qty: number }[]).map((l) => l.qty),
        );
      }),
      { numRuns: 300 },
    );
  });

  test('the canonical body of a valid event parses back to the same body (stable across a round trip)', () => {
    fc.assert(
      fc.property(validEventArb, (input) => {
        const body = canonicalEventBody(accepted(input));
        assert.equal(canonicalEventBody(accepted(JSON.parse(body))), body);
      }),
      { numRuns: 200 },
    );
  });

  test('a date-time is accepted exactly when it names a real calendar day (leap years included)', () => {
    const year = fc.oneof(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 99 }).map((c) => c * 100),
      fc.integer({ min: 0, max: 2499 }).map((q) => q * 4),
    );
    const month = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(2));
    const day = fc.oneof(fc.integer({ min: 0, max: 32 }), fc.constantFrom(28, 29, 30, 31));
    fc.assert(
      fc.property(year, month, day, offsetArb, (y, m, d, offset) => {
        const occurredAt = `${pad(y, 4)}-${pad(m)}-${pad(d)}T23:59:59${offset}`;
        const result = parseEvent(baseEvent({ occurredAt }));
        if (isRealDate(y, m, d)) {
          assert.ok(result.ok, `rejected ${occurredAt}: ${JSON.stringify(result)}`);
        } else {
          assert.ok(!result.ok, `accepted ${occurredAt}`);
          assert.deepEqual(
            result.errors.map((e) => e.path),
            ['occurredAt'],
          );
        }
      }),
      { numRuns: 1000 },
    );
  });

  test("a quantity is accepted exactly when it follows its event type's rule", () => {
    const allowed = (type: EventType, qty: number) =>
      Math.abs(qty) <= MAX_QTY && (type === 'adjustment' ? qty !== 0 : type === 'count' ? qty >= 0 : qty > 0);
    const qty = fc.oneof(
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom(MAX_QTY, MAX_QTY + 1, -MAX_QTY, -MAX_QTY - 1),
      fc.integer({ min: -MAX_QTY - 10, max: MAX_QTY + 10 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...EVENT_TYPES), qty, (type, q) => {
        const result = parseEvent(withLine({ qty: q }, { type }));
        if (allowed(type, q)) {
          assert.ok(result.ok, `rejected a ${type} of ${q}: ${JSON.stringify(result)}`);
        } else {
          assert.ok(!result.ok, `accepted a ${type} of ${q}`);
          assert.deepEqual([...new Set(result.errors.map((e) => e.path))], ['lines.0.qty']);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('an event with one field broken is always rejected, and every error names that field', () => {
    fc.assert(
      fc.property(
        validEventArb.chain((event) => fc.tuple(fc.constant(event), mutationArb(event))),
        ([event, mutation]) => {
          const result = parseEvent(mutate(event, mutation));
          assert.ok(
            !result.ok,
            `accepted an event with ${mutation.path} = ${JSON.stringify(mutation.value)}`,
          );
          assert.ok(result.errors.length > 0);
          for (const error of result.errors) {
            assert.equal(
              error.path,
              mutation.path,
              `${mutation.path} = ${JSON.stringify(mutation.value)} gave ${JSON.stringify(result.errors)}`,
            );
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
