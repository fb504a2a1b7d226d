import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { PosEvent } from '../../shared/events.js';
import { prepareEvent } from '../../src-main/capture/capture-service.js';
import {
  CaptureWriter,
  type CaptureItem,
  type PreparedEvent,
} from '../../src-main/capture/capture-writer.js';
import { GroupCommitter } from '../../src-main/capture/group-commit.js';
import { verifyChain } from '../../src-main/capture/hash-chain.js';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { ExceptionsRepo } from '../../src-main/exceptions/exceptions-repo.js';
import { Catalog } from '../../src-main/ledger/catalog.js';
import { StockRepo } from '../../src-main/ledger/stock-repo.js';
import { OutboxRepo } from '../../src-main/outbox/outbox-repo.js';
import { Routing } from '../../src-main/outbox/routing.js';
import { makeEvent, tempDir } from '../support/harness.js';

/** A committer over a real database file, wired as the agent wires it (no destinations). */
function open(t: TestContext): { db: AgentDatabase; committer: GroupCommitter } {
  const dir = tempDir();
  const db = AgentDatabase.open(join(dir.path, 'backroom.db'));
  t.after(() => {
    db.close();
    dir.cleanup();
  });
  const writer = new CaptureWriter({
    db,
    agentId: 'store-test',
    stock: new StockRepo(db),
    outbox: new OutboxRepo(db),
    exceptions: new ExceptionsRepo(db),
    routing: new Routing([]),
    catalog: new Catalog(db, false),
    locations: new Set(['S1']),
  });
  return { db, committer: new GroupCommitter(db, writer) };
}

function prepared(id: string): PreparedEvent {
  const item = prepareEvent(makeEvent({ id, type: 'receipt', lines: [{ sku: 'SKU-1', qty: 2 }] }));
  assert.ok(!('rejected' in item));
  return item;
}

/**
 * An event that passed validation but makes the write throw after its event row was inserted (its lines are
 * not a list): stands in for an unexpected failure such as a bug or an I/O error in the middle of a request.
 */
function poisoned(id: string): CaptureItem {
  const good = prepared(id);
  return { ...good, event: { ...good.event, lines: null as unknown as PosEvent['lines'] } };
}

function storedIds(db: AgentDatabase): string[] {
  return (db.sqlite.prepare('SELECT event_id FROM events ORDER BY seq').all() as { event_id: string }[]).map(
    (r) => r.event_id,
  );
}

test('a request that fails inside a group commit is answered with its error; the others of the commit are stored', async (t) => {
  const { db, committer } = open(t);
  // Submitted in the same turn of the event loop, so the three share one commit.
  const first = committer.submit('pos-1', [prepared('a-1'), prepared('a-2')]);
  const failing = committer.submit('pos-1', [prepared('b-1'), poisoned('b-2')]);
  const last = committer.submit('pos-2', [prepared('c-1')]);
  const [a, b, c] = await Promise.allSettled([first, failing, last]);

  assert.equal(a.status, 'fulfilled');
  assert.deepEqual(
    a.value.map((r) => [r.id, r.status, 'seq' in r ? r.seq : null]),
    [
      ['a-1', 'accepted', 1],
      ['a-2', 'accepted', 2],
    ],
  );
  assert.equal(b.status, 'rejected');
  assert.equal(c.status, 'fulfilled');
  assert.deepEqual(
    c.value.map((r) => [r.id, r.status, 'seq' in r ? r.seq : null]),
    [['c-1', 'accepted', 3]],
    'the request after the failed one takes the next seq',
  );
  assert.deepEqual(storedIds(db), ['a-1', 'a-2', 'c-1'], 'nothing of the failed request is stored');
  const level = db.sqlite
    .prepare(`SELECT on_hand FROM stock_levels WHERE sku = 'SKU-1' AND location = 'S1'`)
    .get();
  assert.deepEqual(level, { on_hand: 6 });
  const report = verifyChain(db);
  assert.ok(report.isOk, JSON.stringify(report.problems));
  assert.equal(report.lastSeq, 3);
});

test('a lone request that fails stores nothing, and the next commit continues the chain', async (t) => {
  const { db, committer } = open(t);
  await assert.rejects(committer.submit('pos-1', [prepared('x-1'), poisoned('x-2')]));
  assert.deepEqual(storedIds(db), []);
  const results = await committer.submit('pos-1', [prepared('y-1')]);
  assert.deepEqual(
    results.map((r) => [r.id, r.status, 'seq' in r ? r.seq : null]),
    [['y-1', 'accepted', 1]],
  );
  const report = verifyChain(db);
  assert.ok(report.isOk, JSON.stringify(report.problems));
});
