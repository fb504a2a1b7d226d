import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { ISO_4217_CODES } from '../../shared/currencies.js';
import type { ItemsPage } from '../../shared/items.js';
import type { StockItemView } from '../../shared/rpc-views.js';
import { AgentError } from '../../src-main/platform/errors.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

/*
 * The item master (issue 12, parts 1 and 3): the catalog CSV as one source of the catalog in the database, its
 * checks (errors by line and column, nothing stored changes), and GET /api/v1/items for the tills.
 */

const GOOD_CSV = [
  'sku,name,barcode,unit,active,price,currency,price_list',
  'MUG,Mug,4006381333931|4006381333948,Unit,true,9.99,EUR,',
  'TEE,Tee,5012345678900,Unit,yes,19.90,EUR,retail',
  'OLD,Old thing,,,false,,,',
].join('\n');

type Fixture = { dir: string; csv: string; cleanup: () => void };

function fixture(csv: string): Fixture {
  const dir = tempDir();
  const file = join(dir.path, 'items.csv');
  writeFileSync(file, csv);
  return { dir: dir.path, csv: file, cleanup: dir.cleanup };
}

function config(f: Fixture) {
  return testConfig(join(f.dir, 'data'), { catalog: { path: f.csv } });
}

/** Every stored row of the catalog's tables, to show that a refused input changed none of them. */
function catalogRows(dataDir: string): string {
  const db = new BetterSqlite3(join(dataDir, 'backroom.db'), { readonly: true });
  try {
    return JSON.stringify(
      ['items', 'item_barcodes', 'item_prices', 'item_history'].map((t) =>
        db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all(),
      ),
    );
  } finally {
    db.close();
  }
}

async function items(agent: TestAgent, query = ''): Promise<{ status: number; body: ItemsPage }> {
  const { status, body } = await agent.get(`/api/v1/items${query}`);
  return { status, body: body as unknown as ItemsPage };
}

describe('the catalog CSV as a source', () => {
  test('loads items with several barcodes, unit, active flag and a price per list, served to tills', async (t) => {
    const f = fixture(GOOD_CSV);
    t.after(f.cleanup);
    const agent = await startAgent(config(f));
    t.after(() => agent.stop());
    const { status, body } = await items(agent);
    assert.equal(status, 200);
    assert.equal(body.more, false);
    const bySku = new Map(body.items.map((i) => [i.sku, i]));
    assert.deepEqual(
      { ...bySku.get('MUG')!, updatedAt: '' },
      {
        sku: 'MUG',
        name: 'Mug',
        barcodes: ['4006381333931', '4006381333948'],
        unit: 'Unit',
        active: true,
        prices: [{ list: 'retail', amount: '9.99', currency: 'EUR' }],
        updatedAt: '',
      },
    );
    assert.equal(bySku.get('OLD')!.active, false);
    assert.deepEqual(bySku.get('OLD')!.prices, []);
    assert.ok(!Number.isNaN(Date.parse(bySku.get('TEE')!.updatedAt)));
    // A sale scanned by its second barcode's item is known; an unknown SKU still raises unknown_sku.
    await agent.post({ events: [makeEvent({ id: 's1', lines: [{ sku: 'GHOST', qty: 1 }] })] });
    assert.equal(agent.agent.exceptions.openOfKind('unknown_sku').length, 1);
    assert.equal(agent.agent.catalog.find('4006381333948')?.sku, 'MUG');
    const record = agent.agent.catalog.record('MUG')!;
    assert.equal(record.source, 'csv');
    assert.equal(record.origins.name?.source, 'csv');
    assert.deepEqual(
      record.priceSources.map((p) => p.source),
      ['csv'],
    );
  });

  test('loading the same file again stores nothing new; a changed price is one change of that item', async (t) => {
    const f = fixture(GOOD_CSV);
    t.after(f.cleanup);
    const first = await startAgent(config(f));
    const before = await items(first);
    await first.stop();
    const again = await startAgent(config(f));
    assert.deepEqual((await items(again, `?since=${before.body.next}`)).body.items, []);
    await again.stop();
    writeFileSync(f.csv, GOOD_CSV.replace('19.90', '18.50'));
    const changed = await startAgent(config(f));
    t.after(() => changed.stop());
    const page = await items(changed, `?since=${before.body.next}`);
    assert.deepEqual(
      page.body.items.map((i) => [i.sku, i.prices]),
      [['TEE', [{ list: 'retail', amount: '18.50', currency: 'EUR' }]]],
    );
    const history = changed.agent.db.sqlite
      .prepare("SELECT source, changes FROM item_history WHERE sku = 'TEE' ORDER BY id")
      .all() as { source: string; changes: string }[];
    assert.equal(history.length, 2, 'created, then the price change: history is kept');
    assert.deepEqual(JSON.parse(history[1]!.changes), { 'price:retail': ['19.90 EUR', '18.50 EUR'] });
  });

  test('where an ERP feeds the catalog too, reading the file again at start leaves what the ERP set', async (t) => {
    const f = fixture(GOOD_CSV);
    t.after(f.cleanup);
    const withErp = {
      ...config(f),
      destinations: [
        {
          id: 'erp',
          type: 'tryton' as const,
          url: 'http://127.0.0.1:9/',
          database: 'tryton',
          username: 'backroom',
          password: 'unused',
          catalog: { pollSeconds: 3600 },
        },
      ],
    };
    const first = await startAgent(withErp);
    first.agent.catalog.apply(
      [{ sku: 'TEE', name: 'Tee (ERP)', prices: [{ list: 'retail', amount: '21.00', currency: 'EUR' }] }],
      'erp',
    );
    await first.stop();
    // The file changes TEE's unit (which the ERP never set) and MUG's name; it still says TEE's old name and price.
    writeFileSync(
      f.csv,
      GOOD_CSV.replace('TEE,Tee,5012345678900,Unit', 'TEE,Tee,5012345678900,Pack').replace(
        'Mug,',
        'Big mug,',
      ),
    );
    const again = await startAgent(withErp);
    t.after(() => again.stop());
    const tee = again.agent.catalog.record('TEE')!;
    assert.equal(tee.name, 'Tee (ERP)');
    assert.deepEqual(tee.prices, [{ list: 'retail', amount: '21.00', currency: 'EUR' }]);
    assert.equal(tee.unit, 'Pack');
    assert.equal(tee.origins.unit?.source, 'csv');
    assert.equal(again.agent.catalog.record('MUG')!.name, 'Big mug');
  });

  const BAD_ROWS: readonly (readonly [string, string, string, RegExp])[] = [
    ['a price that is not a decimal', 'NEW,New,,,,9;99,EUR,', 'price', /item NEW: price must be a decimal/],
    ['a price with a comma', 'NEW,New,,,,"9,99",EUR,', 'price', /item NEW: price must be a decimal/],
    ['a negative price', 'NEW,New,,,,-1.00,EUR,', 'price', /item NEW: price must not be negative/],
    [
      'an unknown currency',
      'NEW,New,,,,1.00,EUE,',
      'currency',
      /item NEW: currency "EUE" is not an ISO 4217/,
    ],
    [
      'a barcode another item has',
      'NEW,New,5012345678900,,,1.00,EUR,',
      'barcode',
      /item NEW: barcode 5012345678900 is also given to item TEE/,
    ],
    [
      'an active flag that is no flag',
      'NEW,New,,,maybe,,,',
      'active',
      /item NEW: active must be true or false/,
    ],
  ];
  for (const [what, row, column, message] of BAD_ROWS)
    test(`${what} refuses the file by line and column, and nothing already stored changes`, async (t) => {
      const f = fixture(GOOD_CSV);
      t.after(f.cleanup);
      const agent = await startAgent(config(f));
      await agent.stop();
      const dataDir = join(f.dir, 'data');
      const stored = catalogRows(dataDir);
      // The bad row is line 5; a good change to MUG on line 2 must not be stored either.
      writeFileSync(f.csv, `${GOOD_CSV.replace('Mug,', 'Mug renamed,')}\n${row}`);
      await assert.rejects(startAgent(config(f)), (error: unknown) => {
        assert.ok(error instanceof AgentError);
        assert.equal(error.reason, 'invalid_config');
        assert.match(error.message, new RegExp(`line 5, column ${column}: `));
        assert.match(error.message, message);
        assert.match(error.message, /nothing of it was stored/);
        return true;
      });
      assert.equal(catalogRows(dataDir), stored);
      assert.ok(readFileSync(f.csv, 'utf8').includes(row));
    });

  test('a barcode given to two items of the same file names both lines', async (t) => {
    const f = fixture('sku,name,barcode\nA,One,111\nB,Two,111\n');
    t.after(f.cleanup);
    await assert.rejects(
      startAgent(config(f)),
      /line 3, column barcode: item B: barcode 111 is also given to item A/,
    );
  });
});

describe('the catalog refuses bad changes from any source, naming the item and field', () => {
  test('a page of changes stores the good items and refuses each bad one with its field', async (t) => {
    const f = fixture(GOOD_CSV);
    t.after(f.cleanup);
    const agent = await startAgent(config(f));
    t.after(() => agent.stop());
    const catalog = agent.agent.catalog;
    const before = catalog.record('TEE');
    const report = catalog.apply(
      [
        { sku: 'TEE', name: 'Tee renamed', prices: [{ list: 'retail', amount: '1e3', currency: 'EUR' }] },
        { sku: 'MUG', barcodes: ['5012345678900'] },
        { sku: 'CAP', name: 'Cap', prices: [{ list: 'retail', amount: '12.00', currency: 'usd' }] },
        {
          sku: 'HAT',
          name: 'Hat',
          barcodes: ['7777'],
          prices: [{ list: 'web', amount: '5', currency: 'GBP' }],
        },
      ],
      'erp',
    );
    assert.deepEqual(
      report.refused.map((r) => [r.sku, r.field]),
      [
        ['TEE', 'price'],
        ['MUG', 'barcode'],
        ['CAP', 'currency'],
      ],
    );
    assert.match(
      report.refused[1]!.message,
      /item MUG: barcode 5012345678900 is already the barcode of item TEE/,
    );
    assert.equal(report.stored, 1);
    assert.deepEqual(catalog.record('TEE'), before, 'the refused change of TEE stored nothing');
    assert.deepEqual(catalog.barcodesOf('MUG'), ['4006381333931', '4006381333948']);
    assert.equal(catalog.record('CAP'), null);
    assert.equal(catalog.record('HAT')?.origins.name?.source, 'erp');
  });

  test('a barcode moves between items when one change gives it up and another takes it', async (t) => {
    const f = fixture(GOOD_CSV);
    t.after(f.cleanup);
    const agent = await startAgent(config(f));
    t.after(() => agent.stop());
    const report = agent.agent.catalog.apply(
      [
        { sku: 'TEE', barcodes: ['4006381333948'] },
        { sku: 'MUG', barcodes: ['4006381333931'] },
      ],
      'erp',
    );
    assert.deepEqual(report.refused, []);
    assert.equal(agent.agent.catalog.skuOfBarcode('4006381333948'), 'TEE');
    assert.equal(agent.agent.catalog.skuOfBarcode('5012345678900'), null);
  });

  test('the currency list is ISO 4217 as the iso-codes package has it', (t) => {
    let text: string;
    try {
      text = readFileSync('/usr/share/iso-codes/json/iso_4217.json', 'utf8');
    } catch {
      // CI installs iso-codes (.ci/run) and must run this check; elsewhere it is skipped with the reason.
      if (process.env.CI === 'true') throw new Error('iso-codes is not installed, and CI must run this test');
      t.skip('iso-codes is not installed (/usr/share/iso-codes/json/iso_4217.json)');
      return;
    }
    const codes = (JSON.parse(text) as { '4217': { alpha_3: string }[] })['4217'].map((c) => c.alpha_3);
    assert.deepEqual([...ISO_4217_CODES].sort(), codes.sort());
  });
});

describe('GET /api/v1/items', () => {
  async function withItems(t: { after: (fn: () => unknown) => void }, count: number): Promise<TestAgent> {
    const rows = Array.from(
      { length: count },
      (_, i) => `SKU-${String(i).padStart(4, '0')},Item ${i},,,,1.00,EUR,`,
    );
    const f = fixture(['sku,name,barcode,unit,active,price,currency,price_list', ...rows].join('\n'));
    t.after(f.cleanup);
    const agent = await startAgent(config(f));
    t.after(() => agent.stop());
    return agent;
  }

  test('pages through every item once, oldest change first, then answers an empty page to poll with', async (t) => {
    const agent = await withItems(t, 25);
    const seen: string[] = [];
    let since = '';
    for (let page = 0; page < 10; page += 1) {
      const { status, body } = await items(agent, `?limit=10${since ? `&since=${since}` : ''}`);
      assert.equal(status, 200);
      seen.push(...body.items.map((i) => i.sku));
      since = body.next;
      if (!body.more) break;
    }
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen).size, 25);
    const polled = await items(agent, `?since=${since}`);
    assert.deepEqual(polled.body, { items: [], next: since, more: false });
    // One item changes: the next poll serves that item only, and its new cursor.
    agent.agent.catalog.apply([{ sku: 'SKU-0003', name: 'Renamed' }], 'workbench');
    const changed = await items(agent, `?since=${since}`);
    assert.deepEqual(
      changed.body.items.map((i) => [i.sku, i.name]),
      [['SKU-0003', 'Renamed']],
    );
    assert.notEqual(changed.body.next, since);
    assert.deepEqual((await items(agent, `?since=${changed.body.next}`)).body.items, []);
  });

  test('an empty catalog answers an empty page with a cursor to poll with', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const agent = await startAgent(testConfig(join(dir.path, 'data')));
    t.after(() => agent.stop());
    const { status, body } = await items(agent);
    assert.equal(status, 200);
    assert.equal(body.more, false);
    assert.deepEqual(body.items, []);
    assert.deepEqual((await items(agent, `?since=${body.next}`)).body.items, []);
  });

  test('a cursor not of this agent is 400 naming since; a limit outside 1 to 1000 is 400 naming limit', async (t) => {
    const agent = await withItems(t, 3);
    for (const since of ['abc', 'i1-999', 'i1--1', 'i2-1', '']) {
      const { status, body } = await agent.get(`/api/v1/items?since=${encodeURIComponent(since)}`);
      assert.equal(status, 400, since);
      assert.deepEqual(
        (body.errors as { path: string }[]).map((e) => e.path),
        ['since'],
        since,
      );
    }
    for (const limit of ['0', '1001', 'ten', '2.5']) {
      const { status, body } = await agent.get(`/api/v1/items?limit=${limit}`);
      assert.equal(status, 400, limit);
      assert.deepEqual(
        (body.errors as { path: string }[]).map((e) => e.path),
        ['limit'],
        limit,
      );
    }
    assert.equal((await agent.get('/api/v1/items?limit=1000')).status, 200);
    assert.equal((await agent.get('/api/v1/items', 'not-a-token')).status, 401);
  });
});

describe("the item page's master data (stock.item)", () => {
  test('shows the fields with the source that set each, the prices per list, and the changes', async (t) => {
    const f = fixture(GOOD_CSV);
    t.after(f.cleanup);
    const CLERK = 'clerk-token-0123456789abcdef';
    const agent = await startAgent({
      ...config(f),
      operators: [{ name: 'Ola', token: CLERK, role: 'clerk' }],
    });
    t.after(() => agent.stop());
    agent.agent.catalog.apply(
      [{ sku: 'MUG', prices: [{ list: 'web', amount: '10.49', currency: 'EUR' }], unit: 'Piece' }],
      'erp',
    );
    // Found by its second barcode, as a scanner would.
    const { status, body } = await agent.get('/api/v1/stock/item?q=4006381333948', CLERK);
    assert.equal(status, 200);
    const view = body as unknown as StockItemView;
    assert.equal(view.sku, 'MUG');
    const master = view.master!;
    assert.deepEqual(master.barcodes, ['4006381333931', '4006381333948']);
    assert.equal(master.unit, 'Piece');
    assert.equal(master.source, 'erp');
    const origins = new Map(master.origins.map((o) => [o.field, o.source]));
    assert.equal(origins.get('name'), 'csv');
    assert.equal(origins.get('unit'), 'erp');
    assert.deepEqual(
      master.prices.map((p) => [p.list, p.amount, p.currency, p.source]),
      [
        ['retail', '9.99', 'EUR', 'csv'],
        ['web', '10.49', 'EUR', 'erp'],
      ],
    );
    assert.deepEqual(
      master.changes.map((c) => [c.source, c.fields.map((x) => x.field).sort()]),
      [
        ['erp', ['price:web', 'unit']],
        ['csv', ['active', 'barcodes', 'name', 'price:retail', 'sku', 'unit']],
      ],
    );
    const unknown = (await agent.get('/api/v1/stock/item?q=GHOST', CLERK)).body as unknown as StockItemView;
    assert.equal(unknown.master, null);
  });
});
