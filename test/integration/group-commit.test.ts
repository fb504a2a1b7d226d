import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { DestinationConfig } from '../../shared/config.js';
import type { PosEvent } from '../../shared/events.js';
import { DeliveryRepo } from '../../src-main/outbox/delivery-repo.js';
import { prepareEvent } from '../../src-main/capture/capture-service.js';
import {
  CaptureWriter,
  type CaptureItem,
  type PreparedEvent,
} from '../../src-main/capture/capture-writer.js';
import { GroupCommitter, type GroupCommitOptions } from '../../src-main/capture/group-commit.js';
import type { DurableSync } from '../../src-main/db/wal-sync.js';
import { WalSync } from '../../src-main/db/wal-sync.js';
import { verifyChain } from '../../src-main/capture/hash-chain.js';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { ExceptionsRepo } from '../../src-main/exceptions/exceptions-repo.js';
import { Catalog } from '../../src-main/ledger/catalog.js';
import { StockRepo } from '../../src-main/ledger/stock-repo.js';
import { OutboxRepo } from '../../src-main/outbox/outbox-repo.js';
import { Routing } from '../../src-main/outbox/routing.js';
import { makeEvent, tempDir } from '../support/harness.js';

/** A committer over a real database file, wired as the agent wires it (no destinations). */
function open(
  t: TestContext,
  options: GroupCommitOptions | ((file: string) => GroupCommitOptions) = {},
): { db: AgentDatabase; committer: GroupCommitter; file: string } {
  const dir = tempDir();
  const file = join(dir.path, 'backroom.db');
  const db = AgentDatabase.open(file);
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
    routing: new Routing([
      { id: 'erp', type: 'webhook', url: 'http://127.0.0.1:9/events', secret: 'x'.repeat(32) },
    ] as unknown as DestinationConfig[]),
    catalog: new Catalog(db, false),
    locations: new Set(['S1']),
  });
  const committer = new GroupCommitter(db, writer, typeof options === 'function' ? options(file) : options);
  return { db, committer, file };
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

/** A sync the test finishes by hand: each `sync()` waits until `finish` (or `fail`) is called for it. */
function manualSync(): DurableSync & { pending: number; finish: () => void; fail: (error: Error) => void } {
  const waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  return {
    sync: () => new Promise<void>((resolve, reject) => waiting.push({ resolve, reject })),
    get pending() {
      return waiting.length;
    },
    finish: () => waiting.shift()!.resolve(),
    fail: (error) => waiting.shift()!.reject(error),
  };
}

function settledState(promise: Promise<unknown>): Promise<'pending' | 'settled'> {
  return Promise.race([
    promise.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 20)),
  ]);
}

test('with a WAL sync, a request is answered only once the sync after its commit is done; requests arriving meanwhile are gathered into the next commit', async (t) => {
  const sync = manualSync();
  const { db, committer } = open(t, { durable: sync });
  const first = committer.submit('pos-1', [prepared('d-1')]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sync.pending, 1, 'the first commit asked for its sync');
  assert.deepEqual(storedIds(db), ['d-1'], 'committed (visible) before it is synced');
  assert.equal(await settledState(first), 'pending', 'not answered before its sync');
  assert.equal(committer.durableSeq, 0, 'not yet durable, so not yet deliverable');

  // Two requests arrive in different turns of the loop while the sync runs: both wait for one commit.
  const second = committer.submit('pos-1', [prepared('d-2')]);
  await new Promise((resolve) => setImmediate(resolve));
  const third = committer.submit('pos-2', [prepared('d-3')]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(storedIds(db), ['d-1'], 'gathered, not yet committed');
  assert.equal(sync.pending, 1);

  sync.finish();
  assert.deepEqual(
    (await first).map((r) => [r.id, r.status]),
    [['d-1', 'accepted']],
  );
  assert.equal(committer.durableSeq, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(storedIds(db), ['d-1', 'd-2', 'd-3'], 'the gathered group, in one commit');
  assert.equal(sync.pending, 1, 'and one sync for it');
  assert.equal(await settledState(second), 'pending', 'the second waits for its own sync');
  let isIdle = false;
  void committer.whenIdle().then(() => (isIdle = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(isIdle, false, 'not idle while a sync is outstanding');
  sync.finish();
  assert.deepEqual(
    [...(await second), ...(await third)].map((r) => [r.id, r.status, 'seq' in r ? r.seq : null]),
    [
      ['d-2', 'accepted', 2],
      ['d-3', 'accepted', 3],
    ],
  );
  assert.equal(committer.durableSeq, 3);
  await committer.whenIdle();
  assert.equal(db.sqlite.pragma('synchronous', { simple: true }), 2, 'other writes keep synchronous = FULL');
});

test('a failed WAL sync answers no request of its commit; sent again, the events are duplicates of what is stored', async (t) => {
  const sync = manualSync();
  const { db, committer } = open(t, { durable: sync });
  const first = committer.submit('pos-1', [prepared('e-1'), prepared('e-2')]);
  await new Promise((resolve) => setImmediate(resolve));
  sync.fail(new Error('EIO: i/o error, fdatasync'));
  await assert.rejects(first, (error: Error & { reason?: string }) => {
    assert.equal(error.reason, 'unavailable');
    assert.match(
      error.message,
      /could not be synced to disk \(EIO: i\/o error, fdatasync\); send them again/,
    );
    return true;
  });
  assert.equal(committer.durableSeq, 0);
  const again = committer.submit('pos-1', [prepared('e-1'), prepared('e-2')]);
  await new Promise((resolve) => setImmediate(resolve));
  sync.finish();
  assert.deepEqual(
    (await again).map((r) => [r.id, r.status, 'seq' in r ? r.seq : null]),
    [
      ['e-1', 'duplicate', 1],
      ['e-2', 'duplicate', 2],
    ],
  );
  assert.equal(committer.durableSeq, 2, 'a later sync covers the earlier commit');
  assert.deepEqual(storedIds(db), ['e-1', 'e-2']);
});

test('WalSync: syncs asked for while one runs share the next one, which starts after it', async (t) => {
  const { committer, file } = open(t);
  await committer.submit('pos-1', [prepared('f-1')]);
  const wal = new WalSync(file);
  t.after(() => wal.close());
  const calls = Array.from({ length: 10 }, () => wal.sync());
  await Promise.all(calls);
  assert.equal(wal.syncs, 2, 'one running, one after it for the nine that came during it');
  await wal.sync();
  assert.equal(wal.syncs, 3);
});

test('WalSync over the real WAL: many concurrent requests are each answered once their commit is synced', async (t) => {
  let wal: WalSync | undefined;
  const { committer } = open(t, (file) => ({ durable: (wal = new WalSync(file)) }));
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) => committer.submit('pos-1', [prepared(`g-${i}`)])),
  );
  assert.equal(answers.flat().filter((r) => r.status === 'accepted').length, 50);
  assert.equal(committer.durableSeq, 50);
  assert.ok(wal !== undefined && wal.syncs >= 1 && wal.syncs < 50, `${wal?.syncs} syncs for 50 requests`);
  await committer.close();
});

test('the dispatcher claims no event whose commit is not yet synced', async (t) => {
  const sync = manualSync();
  const { db, committer } = open(t, { durable: sync });
  const delivery = new DeliveryRepo(db, { durableSeq: () => committer.durableSeq });
  const claim = () => delivery.claimLane('erp', 'S1', 10, Date.now() + 60_000);
  const first = committer.submit('pos-1', [prepared('h-1')]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(claim(), [], 'committed but not on disk: nothing leaves for it');
  sync.finish();
  await first;
  const second = committer.submit('pos-1', [prepared('h-2')]);
  await new Promise((resolve) => setImmediate(resolve));
  const claimed = claim();
  assert.deepEqual(
    claimed.map((item) => item.event.id),
    ['h-1'],
    'the synced event goes; the one still syncing waits behind it',
  );
  delivery.markDelivered(claimed[0]!.outboxId, Date.now());
  assert.deepEqual(claim(), [], 'h-2 still waits for its sync');
  sync.finish();
  await second;
  assert.deepEqual(
    claim().map((item) => item.event.id),
    ['h-2'],
  );
});
