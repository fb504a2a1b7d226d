import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import type { StockListView } from '../../shared/rpc-views.js';
import { DATABASE_FILE } from '../../src-main/agent/agent.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

/*
 * Issue 11, part 2: the Stock page's table (`stock.list`). A real agent; stock moves through the ingest API:
 *
 *   TEE-M   S1  received 10, an order holds 2      on hand 10, reserved 2
 *   TEE-M   S2  received 4                         on hand 4
 *   MUG-ONE S1  received 5                         on hand 5
 *   MUG-ONE S2  sold 2, never received             on hand -2
 *   CAP-RED S1  received 3, sold 3                 on hand 0
 *   SOCK-X      in the catalog, never moved        not a row
 *
 * Safety stock 1 (CAP-RED: 0); channels `web` (buffer 2) and `shop` (buffer 0).
 */

const MARIA = 'operator-token-maria-0123456789abcdef';
const CATALOG =
  'sku,name,barcode\nTEE-M,T-shirt M,4006381333931\nMUG-ONE,Mug,4006381333948\nCAP-RED,Cap red,\nSOCK-X,Sock,\n';

let agent: TestAgent;
let cleanup: () => void;
let dataDir: string;

async function list(
  query: Record<string, string | number> = {},
): Promise<{ status: number; body: StockListView & { message?: string } }> {
  const params = new URLSearchParams(
    Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  const response = await fetch(`${agent.url}/api/v1/stock/list?${params}`, {
    headers: { authorization: `Bearer ${MARIA}` },
  });
  return { status: response.status, body: (await response.json()) as StockListView & { message?: string } };
}

const keys = (view: StockListView) => view.rows.map((r) => `${r.sku}@${r.location}`);

before(async () => {
  const dir = tempDir();
  cleanup = dir.cleanup;
  dataDir = join(dir.path, 'data');
  writeFileSync(join(dir.path, 'items.csv'), CATALOG);
  agent = await startAgent(
    testConfig(dataDir, {
      operators: [{ name: 'Maria', token: MARIA }],
      catalog: { path: join(dir.path, 'items.csv') },
      stock: { safetyStock: 1, safetyStockBySku: { 'CAP-RED': 0 } },
      channels: [
        { id: 'web', buffer: 2 },
        { id: 'shop', buffer: 0 },
      ],
    }),
    dir.path,
  );
  const receipt = (id: string, location: string, lines: { sku: string; qty: number }[]) =>
    makeEvent({ id, type: 'receipt', location, lines });
  const { status, body } = await agent.post({
    events: [
      receipt('GR-1', 'S1', [
        { sku: 'TEE-M', qty: 10 },
        { sku: 'MUG-ONE', qty: 5 },
        { sku: 'CAP-RED', qty: 3 },
      ]),
      receipt('GR-2', 'S2', [{ sku: 'TEE-M', qty: 4 }]),
      makeEvent({ id: 'R-1', type: 'sale', location: 'S1', lines: [{ sku: 'CAP-RED', qty: 3 }] }),
      makeEvent({ id: 'R-2', type: 'sale', location: 'S2', lines: [{ sku: 'MUG-ONE', qty: 2 }] }),
      makeEvent({ id: 'W-1', type: 'reserve', location: 'S1', lines: [{ sku: 'TEE-M', qty: 2 }] }),
    ],
  });
  assert.equal(status, 200);
  assert.deepEqual(
    body.results.filter((r) => r.status !== 'accepted'),
    [],
  );
});

after(async () => {
  await agent.stop();
  cleanup();
});

test('every level is a row, sorted by SKU then location, with the configured locations and channels', async () => {
  const { status, body } = await list();
  assert.equal(status, 200);
  assert.equal(body.total, 5);
  assert.deepEqual(keys(body), ['CAP-RED@S1', 'MUG-ONE@S1', 'MUG-ONE@S2', 'TEE-M@S1', 'TEE-M@S2']);
  assert.deepEqual(body.locations, [
    { id: 'S1', name: 'Store one' },
    { id: 'S2', name: 'Store two' },
  ]);
  assert.deepEqual(body.channels, ['web', 'shop']);
  const tee = body.rows.find((r) => r.sku === 'TEE-M' && r.location === 'S1')!;
  assert.equal(tee.name, 'T-shirt M');
  assert.equal(tee.barcode, '4006381333931');
  assert.equal(typeof tee.lastMovementAt, 'number');
  assert.ok(Math.abs(Date.now() - tee.lastMovementAt!) < 60_000, 'the last movement was just received');
});

test("each channel's available is what is published: on hand − reserved − safety stock − buffer, never below 0", async () => {
  const { body } = await list();
  const row = (key: string) => body.rows.find((r) => `${r.sku}@${r.location}` === key)!;
  assert.deepEqual(
    { ...row('TEE-M@S1'), lastMovementAt: null },
    {
      sku: 'TEE-M',
      name: 'T-shirt M',
      barcode: '4006381333931',
      location: 'S1',
      onHand: 10,
      reserved: 2,
      safetyStock: 1,
      // 10 − 2 − 1 − 2 on web; 10 − 2 − 1 on shop.
      channels: [
        { channel: 'web', available: 5 },
        { channel: 'shop', available: 7 },
      ],
      lastMovementAt: null,
    },
  );
  assert.deepEqual(row('MUG-ONE@S2').channels, [
    { channel: 'web', available: 0 },
    { channel: 'shop', available: 0 },
  ]);
  // CAP-RED has its own safety stock of 0.
  assert.equal(row('CAP-RED@S1').safetyStock, 0);
  assert.equal(row('TEE-M@S2').channels[1]!.available, 3);
});

test('the filters: negative, zero, below a threshold, a location', async () => {
  assert.deepEqual(keys((await list({ filter: 'negative' })).body), ['MUG-ONE@S2']);
  assert.deepEqual(keys((await list({ filter: 'zero' })).body), ['CAP-RED@S1']);
  const below = (await list({ filter: 'below', threshold: 5 })).body;
  assert.deepEqual(keys(below), ['CAP-RED@S1', 'MUG-ONE@S2', 'TEE-M@S2']);
  assert.equal(below.total, 3);
  const s2 = (await list({ location: 'S2' })).body;
  assert.deepEqual(keys(s2), ['MUG-ONE@S2', 'TEE-M@S2']);
  assert.equal(s2.total, 2);
  assert.deepEqual(keys((await list({ location: 'S2', filter: 'negative' })).body), ['MUG-ONE@S2']);
});

test('below without a threshold is refused with 400 naming threshold', async () => {
  const { status, body } = await list({ filter: 'below' });
  assert.equal(status, 400);
  assert.match(body.message ?? '', /threshold/);
});

test('search by part of a barcode, a name (any case) or a SKU', async () => {
  assert.deepEqual(keys((await list({ q: '4006381333931' })).body), ['TEE-M@S1', 'TEE-M@S2']);
  assert.deepEqual(keys((await list({ q: '33394' })).body), ['MUG-ONE@S1', 'MUG-ONE@S2']);
  assert.deepEqual(keys((await list({ q: 'mUg' })).body), ['MUG-ONE@S1', 'MUG-ONE@S2']);
  assert.deepEqual(keys((await list({ q: 'shirt' })).body), ['TEE-M@S1', 'TEE-M@S2']);
  assert.deepEqual(keys((await list({ q: 'cap-r' })).body), ['CAP-RED@S1']);
  // A wildcard is a character like any other.
  assert.equal((await list({ q: '%' })).body.total, 0);
  // In the catalog but never moved: no row.
  assert.equal((await list({ q: 'sock' })).body.total, 0);
});

test('sorting both ways, ties broken by SKU then location in the same direction', async () => {
  assert.deepEqual(keys((await list({ sort: 'onHand' })).body), [
    'MUG-ONE@S2',
    'CAP-RED@S1',
    'TEE-M@S2',
    'MUG-ONE@S1',
    'TEE-M@S1',
  ]);
  assert.deepEqual(keys((await list({ sort: 'onHand', dir: 'desc' })).body), [
    'TEE-M@S1',
    'MUG-ONE@S1',
    'TEE-M@S2',
    'CAP-RED@S1',
    'MUG-ONE@S2',
  ]);
  assert.deepEqual(keys((await list({ sort: 'name' })).body), [
    'CAP-RED@S1',
    'MUG-ONE@S1',
    'MUG-ONE@S2',
    'TEE-M@S1',
    'TEE-M@S2',
  ]);
  assert.deepEqual(keys((await list({ sort: 'name', dir: 'desc' })).body), [
    'TEE-M@S2',
    'TEE-M@S1',
    'MUG-ONE@S2',
    'MUG-ONE@S1',
    'CAP-RED@S1',
  ]);
  assert.deepEqual(keys((await list({ sort: 'reserved', dir: 'desc' })).body)[0], 'TEE-M@S1');
  // Available before buffers: TEE-M@S1 10−2−1 = 7, MUG-ONE@S1 4, TEE-M@S2 3, CAP-RED@S1 0 (its safety stock is
  // 0), MUG-ONE@S2 −3.
  assert.deepEqual(keys((await list({ sort: 'available', dir: 'desc' })).body), [
    'TEE-M@S1',
    'MUG-ONE@S1',
    'TEE-M@S2',
    'CAP-RED@S1',
    'MUG-ONE@S2',
  ]);
  // The reserve was received last: TEE-M@S1 moved last.
  assert.equal(keys((await list({ sort: 'lastMovement', dir: 'desc' })).body)[0], 'TEE-M@S1');
  assert.deepEqual(keys((await list({ sort: 'sku', dir: 'desc' })).body), [
    'TEE-M@S2',
    'TEE-M@S1',
    'MUG-ONE@S2',
    'MUG-ONE@S1',
    'CAP-RED@S1',
  ]);
});

test('pages follow each other without overlap, each with the total', async () => {
  const all = keys((await list({ sort: 'onHand', dir: 'desc' })).body);
  const pages = await Promise.all(
    [0, 2, 4].map((offset) => list({ sort: 'onHand', dir: 'desc', offset, limit: 2 })),
  );
  assert.deepEqual(
    pages.map((p) => p.body.total),
    [5, 5, 5],
  );
  assert.deepEqual(
    pages.map((p) => p.body.offset),
    [0, 2, 4],
  );
  assert.deepEqual(
    pages.flatMap((p) => keys(p.body)),
    all,
  );
  assert.deepEqual((await list({ offset: 10 })).body.rows, []);
});

test('changed today: only levels whose last movement was received since local midnight', async () => {
  assert.equal((await list({ filter: 'changed_today' })).body.total, 5);
  // As if the first receipt (MUG-ONE@S1's last movement) had been received two days ago: events are numbered in
  // the order they are received, so only the oldest may be moved back.
  const db = new Database(join(dataDir, DATABASE_FILE));
  try {
    db.prepare(`UPDATE events SET received_at = received_at - 2 * 86400000 WHERE event_id = 'GR-1'`).run();
  } finally {
    db.close();
  }
  const today = (await list({ filter: 'changed_today' })).body;
  assert.deepEqual(keys(today), ['CAP-RED@S1', 'MUG-ONE@S2', 'TEE-M@S1', 'TEE-M@S2']);
  const mug = (await list({ q: 'MUG-ONE', location: 'S1' })).body.rows[0]!;
  assert.ok(Date.now() - mug.lastMovementAt! > 86_400_000);
});
