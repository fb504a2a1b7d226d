import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bookingDate,
  nextStep,
  PlanError,
  planDocuments,
  shipmentModelOf,
  stateAfter,
  type TrytonLine,
  type TrytonPlaces,
} from '../../src-main/connectors/tryton/tryton-documents.js';

const places: TrytonPlaces = {
  company: 1,
  currency: 7,
  warehouse: 12,
  storage: 9,
  input: 10,
  output: 11,
  lostFound: 4,
};
const line = (product: number, qty: number, price: Partial<TrytonLine> = {}): TrytonLine => ({
  product,
  uom: 1,
  qty,
  unitPrice: null,
  currency: null,
  ...price,
});
type Moves = [string, Record<string, unknown>[]][];
const movesOf = (doc: Readonly<Record<string, unknown>>, field = 'moves') => (doc[field] as Moves)[0]![1];

test('reservations go nowhere in Tryton; a marketplace shipment is a customer shipment like a sale', () => {
  assert.equal(shipmentModelOf('reserve'), null);
  assert.equal(shipmentModelOf('release'), null);
  assert.equal(shipmentModelOf('ship'), shipmentModelOf('sale'));
  assert.equal(shipmentModelOf('sale'), 'stock.shipment.out');
  assert.equal(shipmentModelOf('count'), 'stock.shipment.internal');
});

test('a count moves the difference with Tryton’s level, in and out of lost and found, the last line of a SKU counting', () => {
  const docs = planDocuments({
    type: 'count',
    reference: 'k',
    places,
    lines: [line(1, 9), line(2, 4), line(3, 5), line(1, 2)],
    current: new Map([
      [1, 5],
      [2, 1],
      [3, 5],
    ]),
  });
  assert.equal(docs.length, 2, 'one shipment per direction, both with the key');
  assert.deepEqual(
    docs.map((d) => [d.reference, d.from_location, d.to_location]),
    [
      ['k', 4, 9],
      ['k', 9, 4],
    ],
  );
  assert.deepEqual(
    movesOf(docs[0]!).map((m) => [m.product, m.quantity]),
    [[2, 3]],
  );
  assert.deepEqual(
    movesOf(docs[1]!).map((m) => [m.product, m.quantity]),
    [[1, 3]],
  );
  assert.deepEqual(
    planDocuments({ type: 'count', reference: 'k', places, lines: [line(3, 5)], current: new Map([[3, 5]]) }),
    [],
  );
});

test('a sale prices its moves from the event, or at 0 in the company currency when Tryton lacks the currency', () => {
  const [doc] = planDocuments({
    type: 'sale',
    reference: 'k',
    places,
    customer: { id: 2, address: 5, location: 70 },
    lines: [line(1, 2, { unitPrice: '9.99', currency: 3 }), line(2, 1)],
  });
  assert.equal(doc!.delivery_address, 5);
  const moves = movesOf(doc!, 'outgoing_moves');
  assert.deepEqual(
    moves.map((m) => [m.from_location, m.to_location, m.quantity, m.unit_price, m.currency]),
    [
      [11, 70, 2, { __class__: 'Decimal', decimal: '9.99' }, 3],
      [11, 70, 1, { __class__: 'Decimal', decimal: '0' }, 7],
    ],
  );
  assert.throws(
    () =>
      planDocuments({
        type: 'sale',
        reference: 'k',
        places,
        customer: { id: 2, address: null, location: 70 },
        lines: [line(1, 1)],
      }),
    PlanError,
  );
});

test('an adjustment splits into in and out; transfers go through transit', () => {
  const docs = planDocuments({
    type: 'adjustment',
    reference: 'k',
    places,
    lines: [line(1, -2), line(2, 3)],
  });
  assert.deepEqual(
    docs.map((d) => [d.from_location, d.to_location, movesOf(d)[0]!.quantity]),
    [
      [4, 9, 3],
      [9, 4, 2],
    ],
  );
  const [out] = planDocuments({
    type: 'transfer_out',
    reference: 'k',
    places,
    transit: 8,
    lines: [line(1, 2)],
  });
  const [into] = planDocuments({
    type: 'transfer_in',
    reference: 'k',
    places,
    transit: 8,
    lines: [line(1, 2)],
  });
  assert.deepEqual(
    [out!.from_location, out!.to_location, into!.from_location, into!.to_location],
    [9, 8, 8, 9],
  );
});

test('shipments are driven to done from any state; a one-step warehouse skips picking and the put-away', () => {
  const walk = (model: Parameters<typeof nextStep>[0], layout: Parameters<typeof nextStep>[2]) => {
    const steps: string[] = [];
    let state = 'draft';
    for (let i = 0; i < 10; i += 1) {
      const step = nextStep(model, state, layout);
      if (step === 'finished' || step === 'cancelled') break;
      steps.push(step);
      state = stateAfter(model, step, layout);
    }
    return steps;
  };
  const twoStep = { isOneStepIn: false, isOneStepOut: false };
  const oneStep = { isOneStepIn: true, isOneStepOut: true };
  assert.deepEqual(walk('stock.shipment.out', twoStep), ['wait', 'pick', 'pack', 'done']);
  assert.deepEqual(walk('stock.shipment.out', oneStep), ['wait', 'pack', 'done']);
  assert.deepEqual(walk('stock.shipment.in', twoStep), ['receive', 'done']);
  assert.deepEqual(walk('stock.shipment.in', oneStep), ['receive']);
  assert.deepEqual(walk('stock.shipment.internal', oneStep), ['wait', 'assign_force', 'done']);
  assert.equal(nextStep('stock.shipment.out', 'packed', twoStep), 'done');
  assert.equal(nextStep('stock.shipment.internal', 'cancelled', twoStep), 'cancelled');
  assert.throws(() => nextStep('stock.shipment.in', 'shipped', twoStep), PlanError);
});

test('goods are booked on the day they moved where they moved; a day after Tryton’s today or in a closed period is booked today', () => {
  const date = (year: number, month: number, day: number) => ({
    __class__: 'date' as const,
    year,
    month,
    day,
  });
  const today = date(2026, 11, 24);
  // The calendar day the POS wrote, in its own offset (late evening in New York is the 23rd there).
  assert.deepEqual(bookingDate('2026-11-23T23:30:00-05:00', today, null), {
    date: date(2026, 11, 23),
    isMoved: false,
  });
  assert.deepEqual(bookingDate('2026-11-24T00:10:00+01:00', today, null).date, today);
  assert.deepEqual(bookingDate('2026-11-25T08:00:00+01:00', today, null), { date: today, isMoved: true });
  assert.deepEqual(bookingDate('2027-01-02T08:00:00Z', today, null), { date: today, isMoved: true });
  // The last closed stock period ends on the 31st of October: nothing may be dated on or before it.
  const closed = date(2026, 10, 31);
  assert.deepEqual(bookingDate('2026-10-31T18:00:00+01:00', today, closed), { date: today, isMoved: true });
  assert.deepEqual(bookingDate('2026-11-01T09:00:00+01:00', today, closed).date, date(2026, 11, 1));
});

test('a dated plan puts the day on every shipment as its planned and effective date (and start date, internal ones)', () => {
  const day = { __class__: 'date' as const, year: 2026, month: 11, day: 21 };
  const shipments = planDocuments({
    type: 'adjustment',
    reference: 'k',
    lines: [line(1, 2), line(2, -1)],
    places,
    date: day,
  });
  assert.equal(shipments.length, 2);
  for (const s of shipments)
    assert.deepEqual(
      [s.planned_date, s.effective_date, s.planned_start_date, s.effective_start_date],
      [day, day, day, day],
    );
  const sale = planDocuments({
    type: 'sale',
    reference: 'k',
    lines: [line(1, 2)],
    places,
    customer: { id: 5, address: 6, location: 3 },
    date: day,
  });
  assert.deepEqual([sale[0]!.effective_date, 'planned_start_date' in sale[0]!], [day, false]);
  const undated = planDocuments({ type: 'adjustment', reference: 'k', lines: [line(1, 2)], places });
  assert.equal('effective_date' in undated[0]!, false);
});
