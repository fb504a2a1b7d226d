import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXCEPTION_KIND_FACTS, EXCEPTION_KINDS } from '../../shared/exception-kinds.js';
import { EXCEPTION_CATALOG, unmappedException } from '../../src-main/exceptions/exception-catalog.js';

test('every dedupe key is the string databases already hold, so open exceptions keep counting up', () => {
  const C = EXCEPTION_CATALOG;
  assert.deepEqual(
    [
      C.unknown_sku.key('SKU-1'),
      C.unknown_location.key('S9'),
      C.negative_stock.key('SKU-1', 'S1'),
      C.bad_import_row.key('abc123', 7, 'qty'),
      C.bad_import_file.key('abc123'),
      C.delivery_rejected.key(42),
      C.delivery_rejected.levelKey('shop', 'SKU-1', 'S1'),
      C.delivery_dead_letter.key(42),
      C.destination_auth_failed.key('erp'),
      C.destination_misconfigured.key('erp'),
      C.unmapped_sku.key('erp', 'SKU-1'),
      C.unmapped_location.key('erp', 'S1'),
      C.order_pull_failed.key('shop'),
      C.order_unmapped_item.key('shop', 'gid://shopify/ProductVariant/1'),
      C.order_rejected.key('shop', '1007'),
      C.reconcile_drift.key('shop'),
    ],
    [
      'unknown_sku:SKU-1',
      'unknown_location:S9',
      'negative_stock:SKU-1:S1',
      'bad_import_row:abc123:7:qty',
      'bad_import_file:abc123',
      'delivery_rejected:42',
      'delivery_rejected:shop:SKU-1:S1',
      'delivery_dead_letter:42',
      'destination_auth_failed:erp',
      'destination_misconfigured:erp',
      'unmapped_sku:erp:SKU-1',
      'unmapped_location:erp:S1',
      'order_pull_failed:shop',
      'order_unmapped_item:shop:gid://shopify/ProductVariant/1',
      'order_rejected:shop:1007',
      'reconcile_drift:shop',
    ],
  );
  assert.deepEqual(unmappedException('erp', 'item', 'SKU-1'), {
    kind: 'unmapped_sku',
    dedupeKey: 'unmapped_sku:erp:SKU-1',
  });
  assert.deepEqual(unmappedException('erp', 'location', 'S1'), {
    kind: 'unmapped_location',
    dedupeKey: 'unmapped_location:erp:S1',
  });
});

test('the catalog covers exactly the kinds the UI lists, and says what resolves each kind that resolves itself', () => {
  assert.deepEqual(Object.keys(EXCEPTION_CATALOG).sort(), [...EXCEPTION_KINDS].sort());
  for (const kind of EXCEPTION_KINDS)
    assert.equal(
      EXCEPTION_CATALOG[kind].automatically !== null,
      EXCEPTION_KIND_FACTS[kind].resolvesItself,
      `${kind}: "automatically" is set exactly when the kind resolves itself`,
    );
});
