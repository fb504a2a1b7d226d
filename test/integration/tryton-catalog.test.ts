import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { z } from 'zod';
import type { ConfigInput } from '../../shared/config.js';
import type { ItemsPage, ItemView } from '../../shared/items.js';
import { trytonDecimal } from '../../src-main/connectors/tryton/tryton-rpc.js';
import {
  makeEvent,
  spawnServe,
  startAgent,
  tempDir,
  testConfig,
  writeConfig,
  type TestAgent,
} from '../support/harness.js';
import { missingBinary } from '../support/require-binary.js';
import { startTrytonServer, TRYTON_GOODS, type TrytonServer } from '../support/tryton-server.js';

/*
 * The item master pulled from a real trytond 6.0 (issue 12, part 2): products, barcodes (product.identifier) and
 * list prices, changes only, checkpointed page by page.
 */

const skip = missingBinary('trytond');
const ERP = 'erp';

type Catalog = Readonly<{ pollSeconds?: number; overlapSeconds?: number; pageSize?: number; list?: string }>;

function agentConfig(dataDir: string, server: TrytonServer, catalog: Catalog): ConfigInput {
  return testConfig(dataDir, {
    destinations: [
      {
        id: ERP,
        type: 'tryton',
        url: server.url,
        database: server.database,
        username: server.username,
        password: server.password,
        catalog: { pollSeconds: 3600, ...catalog },
      },
    ] as ConfigInput['destinations'],
  });
}

const write = (signal = AbortSignal.timeout(120_000)) => ({ signal, isWrite: true });
const read = () => ({ signal: AbortSignal.timeout(60_000), isWrite: false });

/** A valid EAN-13 for `n` (the check digit computed), so Tryton's identifier check accepts it. */
function ean13(n: number): string {
  const body = `400${String(n).padStart(9, '0')}`;
  const sum = [...body].reduce((s, d, i) => s + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

async function unitId(server: TrytonServer): Promise<number> {
  const [row] = await server.rpc.call(
    z.array(z.object({ default_uom: z.number() })),
    'product.template',
    'search_read',
    [[['products.code', '=', 'SKU-1']], 0, 1, null, ['default_uom']],
    read(),
  );
  return row!.default_uom;
}

/** Creates products in Tryton (one template each), with an EAN each when `barcode` says; returns their ids. */
async function createProducts(
  server: TrytonServer,
  products: readonly Readonly<{ sku: string; name: string; price: string; barcode?: string }>[],
): Promise<number[]> {
  const unit = await unitId(server);
  const templates = await server.rpc.call(
    z.array(z.number()),
    'product.template',
    'create',
    [
      products.map((p) => ({
        name: p.name,
        type: 'goods',
        default_uom: unit,
        list_price: trytonDecimal(p.price),
        products: [
          [
            'create',
            [
              {
                suffix_code: p.sku,
                ...(p.barcode ? { identifiers: [['create', [{ type: 'ean', code: p.barcode }]]] } : {}),
              },
            ],
          ],
        ],
      })),
    ],
    write(),
  );
  return templates;
}

async function templateOf(server: TrytonServer, sku: string): Promise<number> {
  const [row] = await server.rpc.call(
    z.array(z.object({ template: z.number() })),
    'product.product',
    'search_read',
    [[['code', '=', sku]], 0, 1, null, ['template']],
    read(),
  );
  return row!.template;
}

async function items(agent: TestAgent, since = ''): Promise<ItemsPage> {
  const { status, body } = await agent.get(`/api/v1/items?limit=1000${since ? `&since=${since}` : ''}`);
  assert.equal(status, 200);
  return body as unknown as ItemsPage;
}

const withoutTime = (i: ItemView) => ({ ...i, updatedAt: '' });

describe('the item master pulled from Tryton', { skip }, () => {
  test('a first pull stores every product; then only created, changed, deactivated and repriced ones come', async (t) => {
    const server = await startTrytonServer();
    t.after(() => server.stop());
    const dir = tempDir('backroom-tryton-catalog-');
    t.after(dir.cleanup);
    const agent = await startAgent(agentConfig(dir.path, server, { overlapSeconds: 5, pageSize: 2 }));
    t.after(() => agent.stop());
    const puller = agent.agent.catalogPullers[0]!;
    await puller.pullNow();
    // The whole catalog is read: from now on a SKU Tryton does not have raises unknown_sku, one it has does not.
    await agent.post({
      events: [
        makeEvent({ id: 'after-pull-1', lines: [{ sku: 'SKU-1', qty: 1 }] }),
        makeEvent({ id: 'after-pull-2', lines: [{ sku: 'GHOST', qty: 1 }] }),
      ],
    });
    assert.deepEqual(
      agent.agent.exceptions.openOfKind('unknown_sku').map((e) => e.sku),
      ['GHOST'],
    );
    const first = await items(agent);
    assert.deepEqual(first.items.map((i) => i.sku).sort(), [...TRYTON_GOODS, 'SKU-SVC'].sort());
    assert.deepEqual(withoutTime(first.items.find((i) => i.sku === 'SKU-1')!), {
      sku: 'SKU-1',
      name: 'Product SKU-1',
      barcodes: [],
      unit: 'u',
      active: true,
      prices: [{ list: 'retail', amount: '10', currency: 'EUR' }],
      updatedAt: '',
    });
    assert.equal(agent.agent.catalog.record('SKU-1')?.origins.name?.source, ERP);
    // Pulled again with nothing changed in Tryton: nothing new for the tills.
    await puller.pullNow();
    assert.deepEqual((await items(agent, first.next)).items, []);

    // Changes in Tryton: a new product with a barcode, a renamed one, a deactivated one, a price change.
    await createProducts(server, [{ sku: 'NEW-1', name: 'New one', price: '4.20', barcode: ean13(1) }]);
    await server.rpc.call(
      z.null(),
      'product.template',
      'write',
      [[await templateOf(server, 'SKU-2')], { name: 'Renamed two' }],
      write(),
    );
    await server.rpc.call(
      z.null(),
      'product.product',
      'write',
      [[server.seed.products['SKU-3']!], { active: false }],
      write(),
    );
    await server.rpc.call(
      z.null(),
      'product.template',
      'write',
      [[await templateOf(server, 'SKU-4')], { list_price: trytonDecimal('12.50') }],
      write(),
    );
    const report = await puller.pullNow();
    assert.equal(report.refused, 0);
    const changed = await items(agent, first.next);
    const bySku = new Map(changed.items.map((i) => [i.sku, i]));
    assert.deepEqual([...bySku.keys()].sort(), ['NEW-1', 'SKU-2', 'SKU-3', 'SKU-4']);
    assert.deepEqual(withoutTime(bySku.get('NEW-1')!), {
      sku: 'NEW-1',
      name: 'New one',
      barcodes: [ean13(1)],
      unit: 'u',
      active: true,
      prices: [{ list: 'retail', amount: '4.20', currency: 'EUR' }],
      updatedAt: '',
    });
    assert.equal(bySku.get('SKU-2')!.name, 'Renamed two');
    assert.equal(bySku.get('SKU-3')!.active, false, 'deactivated in Tryton: inactive here, never deleted');
    assert.deepEqual(bySku.get('SKU-4')!.prices, [{ list: 'retail', amount: '12.50', currency: 'EUR' }]);
    assert.equal(agent.agent.catalog.find(ean13(1))?.sku, 'NEW-1');
    const history = agent.agent.db.sqlite
      .prepare("SELECT changes FROM item_history WHERE sku = 'SKU-3' ORDER BY id")
      .all() as { changes: string }[];
    assert.equal(history.length, 2, 'its history stays');
    assert.deepEqual(JSON.parse(history[1]!.changes), { active: [true, false] });
  });

  test('a product whose barcode another item has is refused naming item and field, and stored once fixed', async (t) => {
    const server = await startTrytonServer();
    t.after(() => server.stop());
    const dir = tempDir('backroom-tryton-catalog-');
    t.after(dir.cleanup);
    const agent = await startAgent(agentConfig(dir.path, server, { overlapSeconds: 5 }));
    t.after(() => agent.stop());
    const puller = agent.agent.catalogPullers[0]!;
    await createProducts(server, [{ sku: 'NEW-1', name: 'New one', price: '4.20', barcode: ean13(7) }]);
    await puller.pullNow();
    await createProducts(server, [{ sku: 'NEW-2', name: 'Copy', price: '1.00', barcode: ean13(7) }]);
    const report = await puller.pullNow();
    assert.equal(report.refused, 1);
    assert.equal(agent.agent.catalog.record('NEW-2'), null, 'nothing of the refused product is stored');
    const [open] = agent.agent.exceptions.openOfKind('catalog_item_refused');
    assert.ok(open);
    assert.equal(open.sku, 'NEW-2');
    assert.match(
      open.message,
      new RegExp(
        `erp sent item NEW-2 with a bad barcode: item NEW-2: barcode ${ean13(7)} (is already the barcode of|is also given to) item NEW-1`,
      ),
    );
    // Fixed in Tryton: the identifier gets its own code; the next pull stores the item and resolves the exception.
    const [identifier] = await server.rpc.call(
      z.array(z.number()),
      'product.identifier',
      'search',
      [[['product.code', '=', 'NEW-2']]],
      read(),
    );
    await server.rpc.call(
      z.null(),
      'product.identifier',
      'write',
      [[identifier!], { code: ean13(8) }],
      write(),
    );
    await puller.pullNow();
    assert.deepEqual(agent.agent.catalog.record('NEW-2')?.barcodes, [ean13(8)]);
    assert.equal(agent.agent.exceptions.openOfKind('catalog_item_refused').length, 0);
  });

  test('10,000 products: a pull cut by SIGKILL resumes from its checkpoint and stores nothing twice', async (t) => {
    const server = await startTrytonServer();
    t.after(() => server.stop());
    const COUNT = 10_000;
    for (let from = 0; from < COUNT; from += 1000)
      await createProducts(
        server,
        Array.from({ length: 1000 }, (_, i) => ({
          sku: `BULK-${from + i}`,
          name: `Bulk ${from + i}`,
          price: `${(from + i) % 100}.${String((from + i) % 97).padStart(2, '0')}`,
          barcode: ean13(100_000 + from + i),
        })),
      );
    const dir = tempDir('backroom-tryton-catalog-');
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const configFile = writeConfig(
      dir.path,
      agentConfig(dataDir, server, { overlapSeconds: 0, pageSize: 250 }),
    );
    const dbFile = join(dataDir, 'backroom.db');
    const probe = () => {
      const db = new BetterSqlite3(dbFile, { readonly: true, timeout: 5000 });
      try {
        const at = db.prepare('SELECT * FROM catalog_checkpoints WHERE source_id = ?').get(ERP) as
          | { after_id: number; since: string | null; pull_mark: string | null; items_seen: number }
          | undefined;
        const n = (db.prepare('SELECT COUNT(*) AS n FROM items').get() as { n: number }).n;
        const history = (db.prepare('SELECT COUNT(*) AS n FROM item_history').get() as { n: number }).n;
        return { at, items: n, history };
      } catch {
        return { at: undefined, items: 0, history: 0 };
      } finally {
        db.close();
      }
    };

    const first = await spawnServe(configFile);
    t.after(() => {
      if (first.proc.exitCode === null) first.proc.kill('SIGKILL');
    });
    let cut = probe();
    for (let i = 0; i < 3000 && !(cut.items >= 1000 && cut.at !== undefined); i += 1) {
      await sleep(20);
      cut = probe();
    }
    first.proc.kill('SIGKILL');
    await first.exited;
    cut = probe();
    assert.ok(cut.items > 0 && cut.items < COUNT, `cut mid-pull (${cut.items} of ${COUNT} stored)`);
    assert.equal(cut.at?.items_seen, cut.items, 'the checkpoint moved with the pages stored, no further');
    assert.equal(cut.at?.since, null, 'the first pull was not done');

    const second = await spawnServe(configFile);
    t.after(() => {
      if (second.proc.exitCode === null) second.proc.kill('SIGKILL');
    });
    let done = probe();
    for (let i = 0; i < 6000 && done.at?.since == null; i += 1) {
      await sleep(50);
      done = probe();
    }
    second.proc.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
    done = probe();
    const seeded = TRYTON_GOODS.length + 1;
    assert.equal(done.items, COUNT + seeded);
    assert.equal(done.history, COUNT + seeded, 'each product stored once: one history row each');
    assert.equal(
      done.at?.items_seen,
      COUNT + seeded,
      'the resumed pull read on from its checkpoint, not from the start',
    );
    assert.notEqual(done.at?.since, null);
    const db = new BetterSqlite3(dbFile, { readonly: true });
    try {
      assert.deepEqual(
        db
          .prepare(
            "SELECT i.sku, i.name, p.amount, b.barcode FROM items i JOIN item_prices p USING (sku) JOIN item_barcodes b USING (sku) WHERE i.sku = 'BULK-9876'",
          )
          .get(),
        { sku: 'BULK-9876', name: 'Bulk 9876', amount: '76.79', barcode: ean13(109_876) },
      );
    } finally {
      db.close();
    }
  });
});

test('a pull that cannot reach Tryton raises catalog_pull_failed and leaves the checkpoint where it was', async (t) => {
  const dir = tempDir('backroom-tryton-catalog-');
  t.after(dir.cleanup);
  const agent = await startAgent(
    testConfig(join(dir.path, 'data'), {
      destinations: [
        {
          id: ERP,
          type: 'tryton',
          url: 'http://127.0.0.1:9/',
          database: 'backroom',
          username: 'admin',
          password: 'x',
          catalog: { pollSeconds: 3600 },
        },
      ] as ConfigInput['destinations'],
    }),
  );
  t.after(() => agent.stop());
  const puller = agent.agent.catalogPullers[0]!;
  await assert.rejects(puller.pullNow());
  // Before a first pull is done every SKU counts as known: the catalog has not been read yet.
  await agent.post({ events: [makeEvent({ id: 'before-pull', lines: [{ sku: 'ANY-SKU', qty: 1 }] })] });
  assert.equal(agent.agent.exceptions.openOfKind('unknown_sku').length, 0);
  const [open] = agent.agent.exceptions.openOfKind('catalog_pull_failed');
  assert.ok(open, 'one catalog_pull_failed is open');
  assert.match(open.message, /The item master could not be read from erp/);
  const at = puller.checkpoint();
  assert.deepEqual([at.since, at.mark, at.afterId], [null, null, 0]);
  assert.notEqual(at.lastError, null);
});
