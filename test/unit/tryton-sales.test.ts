import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEvent } from '../../shared/events.js';
import { PlanError, type TrytonPlaces } from '../../src-main/connectors/tryton/tryton-documents.js';
import { nextSaleStep, planSale, salePricesOf } from '../../src-main/connectors/tryton/tryton-sales.js';

const places: TrytonPlaces = {
  company: 1,
  currency: 7,
  warehouse: 12,
  storage: 9,
  input: 10,
  output: 11,
  lostFound: 4,
};
const date = { __class__: 'date', year: 2026, month: 12, day: 5 } as const;

function event(type: string, lines: Record<string, unknown>[]) {
  return parseEvent({
    id: 'e-1',
    type,
    location: 'S1',
    occurredAt: '2026-12-05T10:00:00+01:00',
    lines,
  });
}

test('a return is a sale whose lines have negative quantities, at their unit prices, in the named currency', () => {
  const values = planSale({
    reference: 'store:pos:e-1',
    description: 'R-1',
    places,
    customer: { id: 5, address: 6, location: 3 },
    currency: 7,
    date,
    paymentTerm: 2,
    isReturn: true,
    lines: [{ product: 21, uom: 1, qty: 2, unitPrice: '9.99' }],
  });
  assert.deepEqual(values, {
    company: 1,
    reference: 'store:pos:e-1',
    description: 'R-1',
    party: 5,
    invoice_address: 6,
    shipment_address: 6,
    warehouse: 12,
    currency: 7,
    sale_date: date,
    payment_term: 2,
    lines: [
      [
        'create',
        [
          {
            type: 'line',
            product: 21,
            unit: 1,
            quantity: -2,
            unit_price: { __class__: 'Decimal', decimal: '9.99' },
          },
        ],
      ],
    ],
  });
});

test('a customer party without an address cannot make a sale, and says so', () => {
  assert.throws(
    () =>
      planSale({
        reference: 'k',
        description: null,
        places,
        customer: { id: 5, address: null, location: 3 },
        currency: 7,
        date,
        paymentTerm: null,
        isReturn: false,
        lines: [],
      }),
    (error: unknown) => error instanceof PlanError && /has no address/.test(error.message),
  );
});

test('the prices of a sale: the named currency, and a line without a price or in another currency named', () => {
  const parsed = (lines: Record<string, unknown>[]) => {
    const result = event('sale', lines);
    assert.ok(result.ok);
    return result.event;
  };
  assert.deepEqual(
    salePricesOf(
      parsed([
        { sku: 'A', qty: 1, unitPrice: '2.50' },
        { sku: 'B', qty: 1, unitPrice: 3, currency: 'EUR' },
      ]),
    ),
    { currency: 'EUR', unitPrices: ['2.50', '3'] },
  );
  assert.deepEqual(salePricesOf(parsed([{ sku: 'A', qty: 1, unitPrice: '0' }])), {
    currency: null,
    unitPrices: ['0'],
  });
  assert.throws(
    () =>
      salePricesOf(
        parsed([
          { sku: 'A', qty: 1, unitPrice: '1' },
          { sku: 'B', qty: 1 },
        ]),
      ),
    /line 2 \(SKU B\) has no unit price/,
  );
  assert.throws(
    () =>
      salePricesOf(
        parsed([
          { sku: 'A', qty: 1, unitPrice: '1', currency: 'EUR' },
          { sku: 'B', qty: 1, unitPrice: '1', currency: 'USD' },
        ]),
      ),
    /line 2 \(SKU B\) is in USD while an earlier line is in EUR/,
  );
});

test('a sale is moved on by the button of its state, until processing', () => {
  assert.equal(nextSaleStep('draft'), 'quote');
  assert.equal(nextSaleStep('quotation'), 'confirm');
  assert.equal(nextSaleStep('confirmed'), 'process');
  assert.equal(nextSaleStep('processing'), 'processed');
  assert.equal(nextSaleStep('done'), 'processed');
  assert.equal(nextSaleStep('cancelled'), 'cancelled');
  assert.throws(() => nextSaleStep('exploded'), PlanError);
});
