// Every exception kind has a way out (issue 11, part 3): close with a reason, acknowledge, add the unknown item or
// location, correct an unknown SKU or location with new events, fix a bad import row, re-import a bad file, and
// map an order's unmapped item (the order is read again). Each is called as staff call it: over HTTP with an
// operator's token, on a real agent.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ApiName } from '../../shared/agent-api.js';
import type { ConfigInput } from '../../shared/config.js';
import { ShopifyFake } from '../simulators/shopify-fake.js';
import { contractsMissing } from '../support/contracts.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import { callRoute } from '../support/rpc-client.js';

const TOKENS = {
  clerk: 'clerk-token-0123456789',
  manager: 'manager-token-0123456789',
  admin: 'admin-token-0123',
};

type Answer = { status: number; body: Record<string, unknown> };
type ExceptionRow = {
  id: number;
  kind: string;
  status: string;
  sku: string | null;
  location: string | null;
  resolution: string | null;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  acknowledgedNote: string | null;
};

export type FixSetup = {
  a: TestAgent;
  dir: string;
  call: (name: ApiName, input: Record<string, unknown>, who?: keyof typeof TOKENS) => Promise<Answer>;
  open: (kind?: string) => Promise<ExceptionRow[]>;
  exception: (id: number) => Promise<ExceptionRow & { details: Record<string, unknown> }>;
};

/** An agent with a catalog of SKU-1 and SKU-2, locations S1 and S2, and a clerk, a manager and an admin. */
export async function fixAgent(t: TestContext, overrides: Partial<ConfigInput> = {}): Promise<FixSetup> {
  const tmp = tempDir('backroom-fixes-');
  t.after(tmp.cleanup);
  const catalog = join(tmp.path, 'catalog.csv');
  writeFileSync(catalog, 'sku,name,barcode\nSKU-1,Blue mug,4006381333931\nSKU-2,Red mug,\n');
  const a = await startAgent(
    testConfig(join(tmp.path, 'data'), {
      catalog: { path: catalog },
      operators: [
        { name: 'Cleo', token: TOKENS.clerk, role: 'clerk' },
        { name: 'Maria', token: TOKENS.manager, role: 'manager' },
        { name: 'Ada', token: TOKENS.admin, role: 'admin' },
      ],
      ...overrides,
    }),
  );
  t.after(() => a.stop());
  const call: FixSetup['call'] = async (name, input, who = 'manager') => {
    return callRoute(a.url, name, input, TOKENS[who]);
  };
  const open: FixSetup['open'] = async (kind) => {
    const answer = await call('exceptions.page', { status: 'open', ...(kind ? { kind } : {}) }, 'clerk');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body['rows'] as ExceptionRow[];
  };
  const exception: FixSetup['exception'] = async (id) => {
    const answer = await call('exceptions.detail', { id }, 'clerk');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body['exception'] as ExceptionRow & { details: Record<string, unknown> };
  };
  return { a, dir: tmp.path, call, open, exception };
}

async function capture(s: FixSetup, events: Record<string, unknown>[]): Promise<number[]> {
  const answer = await s.a.post({ events });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.results.map((r) => {
    assert.ok(r.status === 'accepted' || r.status === 'duplicate', JSON.stringify(r));
    return r.seq;
  });
}

function onHand(s: FixSetup, sku: string, location: string): number {
  const row = s.a.agent.db.sqlite
    .prepare('SELECT on_hand FROM stock_levels WHERE sku = ? AND location = ?')
    .get(sku, location) as { on_hand: number } | undefined;
  return row?.on_hand ?? 0;
}

function eventRow(s: FixSetup, seq: number): { body: string; hash: string } {
  return s.a.agent.db.sqlite.prepare('SELECT body, hash FROM events WHERE seq = ?').get(seq) as {
    body: string;
    hash: string;
  };
}

test('a manager closes open exceptions with a reason (kept, as discarded, and audited); a clerk may not', async (t) => {
  const s = await fixAgent(t);
  await capture(s, [makeEvent({ lines: [{ sku: 'NOPE-1', qty: 1 }] })]);
  const [row] = await s.open('unknown_sku');
  assert.ok(row);

  const clerk = await s.call('exceptions.close', { ids: [row.id], reason: 'test' }, 'clerk');
  assert.equal(clerk.status, 403);
  const noReason = await s.call('exceptions.close', { ids: [row.id], reason: ' ' });
  assert.equal(noReason.status, 400);

  const closed = await s.call('exceptions.close', { ids: [row.id, 999_999], reason: 'a sample, never sold' });
  assert.equal(closed.status, 200, JSON.stringify(closed.body));
  assert.deepEqual(closed.body['changed'], [row.id]);
  assert.deepEqual(closed.body['skipped'], [{ id: 999_999, why: 'not found' }]);
  const after = await s.exception(row.id);
  assert.equal(after.status, 'discarded');
  assert.equal(after.resolution, 'closed by Maria: a sample, never sold');
  const again = await s.call('exceptions.close', { ids: [row.id], reason: 'again' });
  assert.deepEqual(again.body['skipped'], [{ id: row.id, why: 'not open (discarded)' }]);

  const audit = await s.call('audit.list', {}, 'clerk');
  const entry = (
    audit.body['entries'] as {
      action: string;
      subject: string;
      operator: string;
      role: string;
      reason: string;
    }[]
  ).find((e) => e.action === 'exceptions.close');
  assert.deepEqual(
    entry && { subject: entry.subject, operator: entry.operator, role: entry.role, reason: entry.reason },
    { subject: `exception:${row.id}`, operator: 'Maria', role: 'manager', reason: 'a sample, never sold' },
  );
});

test('closeMatching closes every open exception the filter matches, and no other', async (t) => {
  const s = await fixAgent(t);
  await capture(s, [
    makeEvent({ lines: [{ sku: 'NOPE-1', qty: 1 }] }),
    makeEvent({ lines: [{ sku: 'NOPE-2', qty: 1 }] }),
    makeEvent({ location: 'S9' }),
  ]);
  const answer = await s.call('exceptions.closeMatching', {
    filter: { kind: 'unknown_sku' },
    reason: 'test data',
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.deepEqual(answer.body, { matched: 2, changed: 2 });
  assert.deepEqual(
    (await s.open()).map((r) => r.kind).filter((k) => k !== 'negative_stock'),
    ['unknown_location'],
  );
});

test('a clerk acknowledges an exception: it stays open and shows who, when and the note', async (t) => {
  const s = await fixAgent(t);
  await capture(s, [makeEvent({ lines: [{ sku: 'NOPE-1', qty: 1 }] })]);
  const [row] = await s.open('unknown_sku');
  const answer = await s.call('exceptions.acknowledge', { ids: [row!.id], note: 'asking HQ' }, 'clerk');
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const [after] = await s.open('unknown_sku');
  assert.equal(after!.status, 'open');
  assert.equal(after!.acknowledgedBy, 'Cleo');
  assert.equal(after!.acknowledgedNote, 'asking HQ');
  assert.ok(typeof after!.acknowledgedAt === 'number');
});

test('adding the unknown item resolves its unknown_sku, and a later sale of it raises nothing', async (t) => {
  const s = await fixAgent(t);
  await capture(s, [makeEvent({ lines: [{ sku: 'NEW-1', qty: 1 }] })]);
  assert.equal((await s.open('unknown_sku')).length, 1);

  const taken = await s.call('items.add', { sku: 'NEW-1', name: 'Green mug', barcode: '4006381333931' });
  assert.equal(taken.status, 400);
  assert.equal((taken.body['errors'] as { path: string }[])[0]!.path, 'barcode');
  const clerk = await s.call('items.add', { sku: 'NEW-1', name: 'Green mug' }, 'clerk');
  assert.equal(clerk.status, 403);

  const added = await s.call('items.add', { sku: 'NEW-1', name: 'Green mug', barcode: '123456' });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  assert.deepEqual(added.body, { sku: 'NEW-1', resolved: 1 });
  assert.equal((await s.open('unknown_sku')).length, 0);
  await capture(s, [makeEvent({ lines: [{ sku: 'NEW-1', qty: 1 }] })]);
  assert.equal((await s.open('unknown_sku')).length, 0);
});

test('correcting an unknown SKU moves its stock to the right SKU with new linked events; the original stays and a retry captures nothing twice', async (t) => {
  const s = await fixAgent(t);
  const [received] = await capture(s, [
    makeEvent({ id: 'rcv-1', type: 'receipt', lines: [{ sku: 'SKU1', qty: 5 }] }),
  ]);
  await capture(s, [makeEvent({ id: 'sale-1', lines: [{ sku: 'SKU1', qty: 1 }] })]);
  const before = eventRow(s, received!);
  const [row] = await s.open('unknown_sku');

  const wrong = await s.call('exceptions.correct', { id: row!.id, to: 'NOT-IN-CATALOG', reason: 'typo' });
  assert.equal(wrong.status, 400);
  assert.equal((wrong.body['errors'] as { path: string }[])[0]!.path, 'to');

  const fixed = await s.call('exceptions.correct', { id: row!.id, to: 'SKU-1', reason: 'typo at the till' });
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
  const seqs = fixed.body['seqs'] as number[];
  assert.equal(seqs.length, 1);
  assert.equal(onHand(s, 'SKU1', 'S1'), 0);
  assert.equal(onHand(s, 'SKU-1', 'S1'), 4);
  assert.deepEqual(eventRow(s, received!), before, 'the original event is unchanged');
  const correction = JSON.parse(eventRow(s, seqs[0]!).body) as { id: string; meta: Record<string, unknown> };
  assert.equal(correction.id, `correct-${row!.id}-1`);
  assert.deepEqual(
    (correction.meta['correctionOf'] as { eventId: string }[]).map((e) => e.eventId),
    ['rcv-1', 'sale-1'],
  );
  assert.equal(correction.meta['operator'], 'Maria');
  assert.equal((await s.exception(row!.id)).status, 'resolved');

  const retry = await s.call('exceptions.correct', { id: row!.id, to: 'SKU-1', reason: 'typo at the till' });
  assert.equal(retry.status, 400);
  assert.equal(onHand(s, 'SKU-1', 'S1'), 4);
  const count = s.a.agent.db.sqlite
    .prepare(`SELECT COUNT(*) AS n FROM events WHERE source = 'workbench'`)
    .get() as {
    n: number;
  };
  assert.equal(count.n, 1);
});

test('adding an unknown location resolves it, and later events there raise nothing; the settings show it as added', async (t) => {
  const s = await fixAgent(t);
  await capture(s, [makeEvent({ location: 'S3' })]);
  assert.equal((await s.open('unknown_location')).length, 1);
  const manager = await s.call('settings.addLocation', { id: 'S3', reason: 'new pop-up store' });
  assert.equal(manager.status, 403);
  const taken = await s.call('settings.addLocation', { id: 'S1', reason: 'again' }, 'admin');
  assert.equal(taken.status, 400);
  assert.equal((taken.body['errors'] as { path: string }[])[0]!.path, 'id');

  const added = await s.call(
    'settings.addLocation',
    { id: 'S3', name: 'Pop-up', reason: 'new pop-up store' },
    'admin',
  );
  assert.equal(added.status, 200, JSON.stringify(added.body));
  assert.deepEqual(added.body, { id: 'S3', resolved: 1 });
  await capture(s, [makeEvent({ location: 'S3' })]);
  assert.equal((await s.open('unknown_location')).length, 0);
  const settings = await s.call('settings.get', {}, 'admin');
  const s3 = (
    settings.body['locations'] as { id: string; name: string; added: { by: string } | null }[]
  ).find((l) => l.id === 'S3');
  assert.equal(s3?.name, 'Pop-up');
  assert.equal(s3?.added?.by, 'Ada');
});

test('correcting an unknown location moves its stock to the right location', async (t) => {
  const s = await fixAgent(t);
  await capture(s, [
    makeEvent({
      id: 'r-1',
      type: 'receipt',
      location: 'S-1',
      lines: [
        { sku: 'SKU-1', qty: 3 },
        { sku: 'SKU-2', qty: 2 },
      ],
    }),
  ]);
  const [row] = await s.open('unknown_location');
  const wrong = await s.call('exceptions.correct', { id: row!.id, to: 'S7', reason: 'typo' });
  assert.equal(wrong.status, 400);
  const fixed = await s.call('exceptions.correct', { id: row!.id, to: 'S1', reason: 'till set up with S-1' });
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
  assert.equal((fixed.body['seqs'] as number[]).length, 4);
  assert.deepEqual(
    [
      onHand(s, 'SKU-1', 'S-1'),
      onHand(s, 'SKU-2', 'S-1'),
      onHand(s, 'SKU-1', 'S1'),
      onHand(s, 'SKU-2', 'S1'),
    ],
    [0, 0, 3, 2],
  );
  assert.equal((await s.open('unknown_location')).length, 0);
});

const HEADER = 'event_id,type,location,occurred_at,sku,qty,unit_price,currency,reference';

test('a bad CSV row keeps the row; fixRow captures it once (a retry is a duplicate) and resolves the row', async (t) => {
  const s = await fixAgent(t);
  const file = join(s.dir, 'export.csv');
  writeFileSync(
    file,
    `${HEADER}\nA1,sale,S1,2026-11-24T10:00:00Z,SKU-1,1,,,\nA2,sale,S1,2026-11-24T10:01:00Z,SKU-2,zwei,,,\n`,
  );
  const report = await s.a.agent.importFile(file, 'pos-1');
  assert.equal(report.accepted, 1);
  const [row] = await s.open('bad_import_row');
  const detail = await s.exception(row!.id);
  assert.deepEqual(detail.details['row'], {
    event_id: 'A2',
    type: 'sale',
    location: 'S1',
    occurred_at: '2026-11-24T10:01:00Z',
    sku: 'SKU-2',
    qty: 'zwei',
    unit_price: '',
    currency: '',
    reference: '',
  });
  assert.deepEqual(detail.details['fileLines'], [3]);
  const event = detail.details['event'] as Record<string, unknown>;

  const still = await s.call('imports.fixRow', { id: row!.id, event });
  assert.equal(still.status, 400);
  assert.equal((still.body['errors'] as { path: string }[])[0]!.path, 'event.lines.0.qty');
  const stored = () =>
    (s.a.agent.db.sqlite.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  assert.equal(stored(), 1);

  const fixedEvent = { ...event, lines: [{ sku: 'SKU-2', qty: 2 }] };
  const fixed = await s.call('imports.fixRow', { id: row!.id, event: fixedEvent });
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
  assert.equal(fixed.body['status'], 'accepted');
  assert.equal(fixed.body['resolved'], 1);
  assert.match(String(fixed.body['eventId']), /^import-fix:[0-9a-f]{16}:3$/);
  assert.equal(onHand(s, 'SKU-2', 'S1'), -2);
  const retry = await s.call('imports.fixRow', { id: row!.id, event: fixedEvent });
  assert.equal(retry.status, 200, JSON.stringify(retry.body));
  assert.equal(retry.body['status'], 'duplicate');
  assert.equal(stored(), 2);
  assert.equal(onHand(s, 'SKU-2', 'S1'), -2);
  const body = JSON.parse(eventRow(s, fixed.body['seq'] as number).body) as { meta: Record<string, unknown> };
  assert.deepEqual(body.meta, { originalId: 'A2', fixedBy: 'Maria' });
  assert.equal((await s.open('bad_import_row')).length, 0);
});

test('a bad file re-imported with fixed content is resolved; content that fails again leaves it open', async (t) => {
  const s = await fixAgent(t);
  const file = join(s.dir, 'broken.csv');
  writeFileSync(file, 'event_id,type\nA1,sale\n');
  const report = await s.a.agent.importFile(file, 'pos-1');
  assert.equal(report.outcome, 'failed');
  const [row] = await s.open('bad_import_file');

  const again = await s.call('imports.reimport', {
    id: row!.id,
    fileName: 'broken-2.csv',
    content: 'nothing,here\n1,2\n',
  });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body['outcome'], 'failed');
  assert.equal((await s.exception(row!.id)).status, 'open');

  const fixed = await s.call('imports.reimport', {
    id: row!.id,
    fileName: 'fixed.csv',
    content: `${HEADER}\nA1,sale,S1,2026-11-24T10:00:00Z,SKU-1,1,,,\n`,
  });
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
  assert.equal(fixed.body['outcome'], 'processed');
  assert.equal(fixed.body['accepted'], 1);
  const after = await s.exception(row!.id);
  assert.equal(after.status, 'resolved');
  assert.equal(after.resolution, 're-imported as fixed.csv by Maria');
  const rows = await s.open('bad_import_file');
  assert.equal(rows.length, 1, 'the second failed content is raised as its own exception');
});

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function reserved(s: FixSetup, sku: string, location: string): number {
  const row = s.a.agent.db.sqlite
    .prepare('SELECT reserved FROM stock_levels WHERE sku = ? AND location = ?')
    .get(sku, location) as { reserved: number } | undefined;
  return row?.reserved ?? 0;
}

test(
  'mapping an order’s unmapped item reads the order again: its line is reserved, nothing twice, and the exception resolves itself',
  { skip: contractsMissing() },
  async (t) => {
    const fake = await ShopifyFake.start();
    t.after(() => fake.stop());
    const store = fake.addLocation('Store one');
    fake.addItem('SKU-1', { [store]: 10 });
    const unmappedItem = fake.addItem('', { [store]: 10 });
    const s = await fixAgent(t, {
      channels: [{ id: 'web', buffer: 0 }],
      destinations: [
        {
          id: 'shop',
          type: 'shopify',
          url: fake.url,
          accessToken: fake.accessToken,
          channel: 'web',
          locationNames: { S1: 'Store one' },
          // Pulled by hand in this test, and by the re-read: the timer would not come round.
          // No overlap: only the rewind reads the first order again once a later one moved the checkpoint.
          orders: { location: 'S1', pollSeconds: 3600, overlapSeconds: 0 },
        },
      ],
    });
    await capture(s, [
      makeEvent({
        type: 'receipt',
        lines: [
          { sku: 'SKU-1', qty: 10 },
          { sku: 'SKU-2', qty: 10 },
        ],
      }),
    ]);
    fake.placeOrder({
      location: store,
      lines: [
        { sku: 'SKU-1', quantity: 1 },
        { item: unmappedItem, quantity: 2 },
      ],
      at: new Date(Date.now() - 2 * 3600_000),
    });
    fake.placeOrder({
      location: store,
      lines: [{ sku: 'SKU-1', quantity: 3 }],
      at: new Date(Date.now() - 3600_000),
    });
    await s.a.agent.orders.pullNow('shop');
    assert.equal(reserved(s, 'SKU-1', 'S1'), 4);
    const [row] = await s.open('order_unmapped_item');
    assert.ok(row, 'the unmapped item is an exception');
    assert.equal(typeof (await s.exception(row.id)).details['updatedAt'], 'string');

    const mapped = await s.call('mappings.set', {
      destination: 'shop',
      kind: 'item',
      local: 'SKU-2',
      remote: unmappedItem,
    });
    assert.equal(mapped.status, 200, JSON.stringify(mapped.body));
    await waitFor('the order to be read again and reserve SKU-2', () =>
      reserved(s, 'SKU-2', 'S1') === 2 ? true : undefined,
    );
    assert.equal(
      reserved(s, 'SKU-1', 'S1'),
      4,
      'the re-read order replaces its reservation, never adds to it',
    );
    await waitFor('the exception to resolve itself', async () =>
      (await s.exception(row.id)).status === 'resolved' ? true : undefined,
    );
    // Pulling the same version again captures nothing.
    const events = () =>
      (s.a.agent.db.sqlite.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const before = events();
    await s.a.agent.orders.pullNow('shop');
    assert.equal(events(), before);
  },
);

test('after every fix, status.get counts no open exception', async (t) => {
  const s = await fixAgent(t);
  await capture(s, [
    makeEvent({ id: 'r1', type: 'receipt', location: 'S3', lines: [{ sku: 'SKU-1', qty: 5 }] }),
    makeEvent({ id: 'r2', type: 'receipt', lines: [{ sku: 'NEW-9', qty: 5 }] }),
    makeEvent({ id: 'r3', type: 'receipt', lines: [{ sku: 'SKU1', qty: 5 }] }),
  ]);
  const rowsFile = join(s.dir, 'rows.csv');
  writeFileSync(rowsFile, `${HEADER}\nB1,receipt,S1,2026-11-24T10:00:00Z,SKU-2,x,,,\n`);
  await s.a.agent.importFile(rowsFile, 'pos-1');
  const badFile = join(s.dir, 'bad.json');
  writeFileSync(badFile, '{ not json');
  await s.a.agent.importFile(badFile, 'pos-1');
  const status = async () => {
    const answer = await s.call('status.get', {}, 'clerk');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return (answer.body['openExceptions'] as { kind: string; count: number }[]).reduce(
      (n, k) => n + k.count,
      0,
    );
  };
  assert.equal(await status(), 5);

  const byKind = async (kind: string) => (await s.open(kind))[0]!.id;
  assert.equal(
    (await s.call('settings.addLocation', { id: 'S3', reason: 'new store' }, 'admin')).status,
    200,
  );
  assert.equal((await s.call('items.add', { sku: 'NEW-9', name: 'New thing' })).status, 200);
  const skuRow = await byKind('unknown_sku');
  assert.equal((await s.call('exceptions.correct', { id: skuRow, to: 'SKU-1', reason: 'typo' })).status, 200);
  const rowId = await byKind('bad_import_row');
  const event = (await s.exception(rowId)).details['event'] as Record<string, unknown>;
  const fixed = await s.call('imports.fixRow', {
    id: rowId,
    event: { ...event, lines: [{ sku: 'SKU-2', qty: 1 }] },
  });
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
  const fileId = await byKind('bad_import_file');
  const reimported = await s.call('imports.reimport', {
    id: fileId,
    fileName: 'bad-fixed.json',
    content: '[]',
  });
  assert.equal(reimported.status, 200, JSON.stringify(reimported.body));
  if (reimported.body['outcome'] !== 'processed')
    assert.equal((await s.call('exceptions.close', { ids: [fileId], reason: 'empty export' })).status, 200);
  assert.equal(await status(), 0);
});

test('a row already captured from the file dropped in again is not fixed a second time', async (t) => {
  const s = await fixAgent(t);
  const file = join(s.dir, 'export.csv');
  writeFileSync(file, `${HEADER}\nA2,sale,S1,2026-11-24T10:01:00Z,SKU-2,zwei,,,\n`);
  await s.a.agent.importFile(file, 'pos-1');
  const [row] = await s.open('bad_import_row');
  const event = (await s.exception(row!.id)).details['event'] as Record<string, unknown>;
  writeFileSync(file, `${HEADER}\nA2,sale,S1,2026-11-24T10:01:00Z,SKU-2,2,,,\n`);
  assert.equal((await s.a.agent.importFile(file, 'pos-1')).accepted, 1);

  const fixed = await s.call('imports.fixRow', {
    id: row!.id,
    event: { ...event, lines: [{ sku: 'SKU-2', qty: 2 }] },
  });
  assert.equal(fixed.status, 400, JSON.stringify(fixed.body));
  assert.equal((fixed.body['errors'] as { path: string }[])[0]!.path, 'event.id');
  assert.equal(onHand(s, 'SKU-2', 'S1'), -2);
});
