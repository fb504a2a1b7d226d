import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src-main/platform/logger.js';
import { IdMappingRepo } from '../../src-main/mappings/id-mapping-repo.js';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { ExceptionsRepo } from '../../src-main/exceptions/exceptions-repo.js';
import type { Connector, DeliveryResult, LedgerItem } from '../../src-main/connectors/port/connector.js';
import { DeliveryRepo } from '../../src-main/outbox/delivery-repo.js';
import { Dispatcher } from '../../src-main/outbox/dispatcher.js';
import { TokenBucket } from '../../src-main/outbox/token-bucket.js';
import { makeEvent, runBackroom, startAgent, tempDir, testConfig, writeConfig } from '../support/harness.js';

/*
 * Issue 4, build 1: an item whose SKU has no mapping for a destination raises an `unmapped_sku` exception that
 * holds only that item; once mapped (UI, CSV or discovery) it flows without anyone touching the queue.
 */

/**
 * An ERP that knows items only by its own ids: what a connector does with the mappings (the Tryton, Shopify and
 * Vendure connectors answer `unmapped` the same way). It records what it applied, in order.
 */
function erp(mappings: IdMappingRepo): { connector: Connector; applied: string[] } {
  const applied: string[] = [];
  const lookup = mappings.forDestination('erp');
  return {
    applied,
    connector: {
      mode: 'ledger',
      maxBatch: 10,
      send: async (items: readonly LedgerItem[]) => ({
        results: items.map((item): DeliveryResult => {
          const missing = item.event.lines.find((l) => lookup.item(l.sku) === null);
          if (missing)
            return {
              kind: 'unmapped',
              mapping: 'item',
              localId: missing.sku,
              detail: `no product for ${missing.sku}`,
            };
          applied.push(`${item.event.id}:${item.event.lines.map((l) => lookup.item(l.sku)).join(',')}`);
          return { kind: 'delivered' };
        }),
      }),
    },
  };
}

test('an unmapped SKU holds only its own items, with one exception, and they flow in order once it is mapped', async () => {
  const dir = tempDir();
  try {
    // Capture with the agent (its own dispatcher cannot reach the ERP), then drive the queue with ours.
    const config = testConfig(dir.path, {
      destinations: [{ id: 'erp', type: 'webhook', url: 'http://127.0.0.1:9/none', secret: 's' }],
    });
    const agent = await startAgent(config);
    for (const [id, sku] of [
      ['e1', 'A'],
      ['e2', 'B'],
      ['e3', 'A'],
      ['e4', 'C'],
    ] as const)
      await agent.post(makeEvent({ id, lines: [{ sku, qty: 1 }] }));
    await agent.stop();

    const db = AgentDatabase.open(join(dir.path, 'backroom.db'));
    const exceptions = new ExceptionsRepo(db);
    let dispatcher: Dispatcher | null = null;
    const mappings = new IdMappingRepo(db, exceptions, ['erp'], () => dispatcher?.wake());
    mappings.set({ destinationId: 'erp', kind: 'item', localId: 'B', remoteId: 'P-B', origin: 'test' });
    mappings.set({ destinationId: 'erp', kind: 'item', localId: 'C', remoteId: 'P-C', origin: 'test' });
    const repo = new DeliveryRepo(db);
    repo.resetLeases();
    db.sqlite.prepare(`UPDATE outbox SET next_attempt_at = 0, attempts = 0`).run();
    const remote = erp(mappings);
    dispatcher = new Dispatcher({
      destinationId: 'erp',
      connector: remote.connector,
      db,
      repo,
      exceptions,
      policy: { baseDelayMs: 10, maxDelayMs: 100, maxAttempts: 5, maxAgeMs: 3600_000 },
      bucket: new TokenBucket(1000, 1000),
      logger: createLogger({ level: 'silent' }),
      tickMs: 50,
    });
    dispatcher.start();
    try {
      await dispatcher.waitForIdle();
      assert.deepEqual(remote.applied, ['e2:P-B', 'e4:P-C'], 'the rest of the lane flowed');
      const states = db.sqlite
        .prepare(`SELECT state, COUNT(*) AS n FROM outbox GROUP BY state ORDER BY state`)
        .all();
      assert.deepEqual(states, [
        { state: 'delivered', n: 2 },
        { state: 'held', n: 2 },
      ]);
      const open = exceptions.list({ status: 'open', kind: 'unmapped_sku' });
      assert.equal(open.length, 1, 'one exception for the SKU');
      assert.equal(open[0]!.occurrences, 2, 'counting both items it holds');
      assert.equal(open[0]!.sku, 'A');
      assert.match(open[0]!.message, /erp has no item mapped to SKU A/);
      const attempts = db.sqlite.prepare(`SELECT attempts FROM outbox WHERE state = 'held'`).all();
      assert.deepEqual(attempts, [{ attempts: 0 }, { attempts: 0 }], 'a hold is not a failed attempt');

      // Mapping it is all it takes.
      mappings.set({
        destinationId: 'erp',
        kind: 'item',
        localId: 'A',
        remoteId: 'P-A',
        origin: 'Store manager',
      });
      await new Promise((r) => setTimeout(r, 20));
      await dispatcher.waitForIdle();
      assert.deepEqual(
        remote.applied,
        ['e2:P-B', 'e4:P-C', 'e1:P-A', 'e3:P-A'],
        'held items went in capture order',
      );
      assert.equal(exceptions.list({ status: 'open', kind: 'unmapped_sku' }).length, 0);
      const resolved = exceptions.list({ status: 'resolved', kind: 'unmapped_sku' });
      assert.match(resolved[0]!.resolution ?? '', /mapped to P-A \(Store manager\)/);
    } finally {
      await dispatcher.stop();
      db.close();
    }
  } finally {
    dir.cleanup();
  }
});

test('a mapping CSV is imported by the CLI: good rows set, each bad row named by line and column', async () => {
  const dir = tempDir();
  try {
    const file = writeConfig(
      dir.path,
      testConfig(dir.path, {
        destinations: [{ id: 'shop', type: 'level_webhook', url: 'http://127.0.0.1:9/levels', secret: 's' }],
      }),
    );
    const csv = join(dir.path, 'map.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      csv,
      [
        'destination,kind,local,remote',
        'shop,item,SKU-1,gid://shopify/InventoryItem/1',
        'shop,location,S1,gid://shopify/Location/7',
        'nowhere,item,SKU-2,x',
        'shop,colour,SKU-3,y',
        'shop,item,,z',
        'shop,item,SKU-4,',
      ].join('\n'),
    );
    const run = await runBackroom(['mappings', 'import', '--config', file, '--json', csv]);
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as {
      imported: number;
      errors: { line: number; field: string; message: string }[];
    };
    assert.equal(report.imported, 2);
    assert.deepEqual(
      report.errors.map((e) => [e.line, e.field]),
      [
        [4, 'destination'],
        [5, 'kind'],
        [6, 'local'],
        [7, 'remote'],
      ],
    );
    assert.match(report.errors[0]!.message, /names no configured destination \("nowhere"\)/);
    const again = await runBackroom(['mappings', 'import', '--config', file, csv]);
    assert.match(again.stdout, /0 mapping\(s\) set, 2 unchanged, 4 bad row\(s\)/);
  } finally {
    dir.cleanup();
  }
});
