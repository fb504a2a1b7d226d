import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ApiName } from '../../shared/agent-api.js';
import { WORKBENCH_SOURCE } from '../../shared/stock-entry.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import { callRoute } from '../support/rpc-client.js';

const CLERK = { name: 'Cleo', token: 'clerk-token-0123456789' };

type Answer = { status: number; body: Record<string, unknown> };

/** An agent with a catalog (SKU-1 with a barcode, SKU-2, SKU-3), a clerk and a ledger destination that waits. */
async function setUp(t: TestContext) {
  const dir = tempDir();
  t.after(dir.cleanup);
  const catalog = join(dir.path, 'items.csv');
  writeFileSync(
    catalog,
    'sku,name,barcode\nSKU-1,Blue shirt,4006381333931\nSKU-2,Red hat,\nSKU-3,Green scarf,\n',
  );
  const agent = await startAgent(
    testConfig(join(dir.path, 'data'), {
      catalog: { path: catalog },
      operators: [{ name: CLERK.name, token: CLERK.token, role: 'clerk' }],
      // Nothing listens there: what is queued for it stays in the outbox, where the test can see it.
      destinations: [{ id: 'erp', type: 'webhook', url: 'http://127.0.0.1:9/events', secret: 's' }],
    }),
  );
  t.after(() => agent.stop());
  const call = async (name: ApiName, input: Record<string, unknown>): Promise<Answer> => {
    return callRoute(agent.url, name, input, CLERK.token);
  };
  return { agent, call };
}

function onHand(agent: TestAgent, sku: string, location = 'S1'): number {
  const row = agent.agent.db.sqlite
    .prepare('SELECT on_hand FROM stock_levels WHERE sku = ? AND location = ?')
    .get(sku, location) as { on_hand: number } | undefined;
  return row?.on_hand ?? 0;
}

function eventsOf(agent: TestAgent): { seq: number; event_id: string; type: string; body: string }[] {
  return agent.agent.db.sqlite
    .prepare('SELECT seq, event_id, type, body FROM events WHERE source = ? ORDER BY seq')
    .all(WORKBENCH_SOURCE) as { seq: number; event_id: string; type: string; body: string }[];
}

function ok(answer: Answer, what: string): Record<string, unknown> {
  assert.equal(answer.status, 200, `${what}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

test('a receipt moves on hand once, is queued for the ledger destination, and its resend is answered duplicate', async (t) => {
  const { agent, call } = await setUp(t);
  const input = {
    id: 'entry-receive-0001',
    location: 'S1',
    reference: 'DN-778',
    lines: [
      { sku: 'SKU-1', qty: 5 },
      { sku: '4006381333931', qty: 1 },
    ],
  };
  const first = ok(await call('entry.receive', input), 'receive');
  assert.equal(first['status'], 'accepted');
  assert.deepEqual(first['unknownSkus'], []);
  assert.equal(onHand(agent, 'SKU-1'), 6, 'the barcode line is received as its SKU');

  const [event] = eventsOf(agent);
  assert.equal(event!.type, 'receipt');
  const body = JSON.parse(event!.body) as Record<string, unknown>;
  assert.equal(body['reference'], 'DN-778');
  assert.match(String(body['occurredAt']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  assert.deepEqual(body['meta'], { operator: 'Cleo', role: 'clerk' });
  const outbox = agent.agent.db.sqlite
    .prepare('SELECT destination_id, idempotency_key FROM outbox WHERE event_seq = ?')
    .all(event!.seq);
  assert.deepEqual(outbox, [
    { destination_id: 'erp', idempotency_key: 'store-test:workbench:entry-receive-0001' },
  ]);

  const again = ok(await call('entry.receive', input), 'resend');
  assert.equal(again['status'], 'duplicate');
  assert.equal(again['seq'], first['seq']);
  assert.equal(onHand(agent, 'SKU-1'), 6, 'not moved twice');
  assert.equal(eventsOf(agent).length, 1);

  const changed = await call('entry.receive', { ...input, lines: [{ sku: 'SKU-1', qty: 7 }] });
  assert.equal(changed.status, 400, 'another content under the same id is a conflict');
  assert.deepEqual(
    (changed.body['errors'] as { path: string }[]).map((e) => e.path),
    ['id'],
  );

  const audit = agent.agent.audit.list({ subject: 'entry:entry-receive-0001' });
  assert.equal(audit.length, 1, 'audited once');
  assert.equal(audit[0]!.operator, 'Cleo');
  assert.equal(audit[0]!.role, 'clerk');
  assert.equal(audit[0]!.action, 'entry.receive');
});

test('the same entry sent twice at once (a double click) is captured once: one accepted, one duplicate', async (t) => {
  const { agent, call } = await setUp(t);
  const input = { id: 'entry-receive-0002', location: 'S1', lines: [{ sku: 'SKU-2', qty: 4 }] };
  const answers = await Promise.all([call('entry.receive', input), call('entry.receive', input)]);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200],
    JSON.stringify(answers.map((a) => a.body)),
  );
  assert.deepEqual(answers.map((a) => a.body['status']).sort(), ['accepted', 'duplicate']);
  assert.equal(onHand(agent, 'SKU-2'), 4);
  assert.equal(eventsOf(agent).length, 1);
});

test('a bad line is answered 400 naming lines.1.qty and nothing is captured', async (t) => {
  const { agent, call } = await setUp(t);
  const answer = await call('entry.receive', {
    id: 'entry-receive-bad1',
    location: 'S1',
    lines: [
      { sku: 'SKU-1', qty: 2 },
      { sku: 'SKU-2', qty: 0 },
    ],
  });
  assert.equal(answer.status, 400);
  assert.equal(answer.body['reason'], 'bad_shape');
  assert.deepEqual(
    (answer.body['errors'] as { path: string }[]).map((e) => e.path),
    ['lines.1.qty'],
  );
  assert.equal(eventsOf(agent).length, 0);
  assert.equal(onHand(agent, 'SKU-1'), 0, 'the good line did not post either');
});

test('an adjustment carries its reason and note; the reason "other" needs a note', async (t) => {
  const { agent, call } = await setUp(t);
  const refused = await call('entry.adjust', {
    id: 'entry-adjust-0001',
    location: 'S1',
    reason: 'other',
    lines: [{ sku: 'SKU-1', qty: -1 }],
  });
  assert.equal(refused.status, 400);
  assert.deepEqual(
    (refused.body['errors'] as { path: string }[]).map((e) => e.path),
    ['note'],
  );
  assert.equal(eventsOf(agent).length, 0);

  ok(
    await call('entry.adjust', {
      id: 'entry-adjust-0001',
      location: 'S1',
      reason: 'damaged',
      note: 'dropped in the back',
      lines: [{ sku: 'SKU-1', qty: -2 }],
    }),
    'adjust',
  );
  assert.equal(onHand(agent, 'SKU-1'), -2);
  const [event] = eventsOf(agent);
  assert.equal(event!.type, 'adjustment');
  assert.deepEqual((JSON.parse(event!.body) as { meta: unknown }).meta, {
    operator: 'Cleo',
    role: 'clerk',
    reason: 'damaged',
    note: 'dropped in the back',
  });
});

test('an unknown SKU is captured anyway, listed in unknownSkus, and raises unknown_sku', async (t) => {
  const { agent, call } = await setUp(t);
  const answer = ok(
    await call('entry.receive', {
      id: 'entry-receive-ghost',
      location: 'S1',
      lines: [
        { sku: 'GHOST-9', qty: 3 },
        { sku: 'SKU-2', qty: 1 },
      ],
    }),
    'receive',
  );
  assert.equal(answer['status'], 'accepted');
  assert.deepEqual(answer['unknownSkus'], ['GHOST-9']);
  assert.equal(onHand(agent, 'GHOST-9'), 3);
  const raised = agent.agent.db.sqlite
    .prepare("SELECT sku FROM exceptions WHERE kind = 'unknown_sku'")
    .all() as { sku: string }[];
  assert.deepEqual(
    raised.map((r) => r.sku),
    ['GHOST-9'],
  );

  const lookup = ok(await call('items.lookup', { code: 'GHOST-9', location: 'S1' }), 'lookup');
  assert.deepEqual(lookup, { found: false, sku: 'GHOST-9', name: null, barcode: null, onHand: 3 });
  const byBarcode = ok(await call('items.lookup', { code: '4006381333931' }), 'lookup by barcode');
  assert.deepEqual(byBarcode, {
    found: true,
    sku: 'SKU-1',
    name: 'Blue shirt',
    barcode: '4006381333931',
    onHand: null,
  });
});

test('a transfer out is expected at the other location until received there; a difference is answered', async (t) => {
  const { agent, call } = await setUp(t);
  ok(
    await call('entry.receive', {
      id: 'entry-receive-0010',
      location: 'S1',
      lines: [
        { sku: 'SKU-1', qty: 10 },
        { sku: 'SKU-2', qty: 10 },
      ],
    }),
    'receive',
  );
  const out = ok(
    await call('entry.transferOut', {
      id: 'entry-transfer-0001',
      from: 'S1',
      to: 'S2',
      lines: [
        { sku: 'SKU-1', qty: 4 },
        { sku: 'SKU-2', qty: 2 },
      ],
    }),
    'transfer out',
  );
  assert.equal(onHand(agent, 'SKU-1', 'S1'), 6);
  const outEvent = eventsOf(agent).at(-1)!;
  const outBody = JSON.parse(outEvent.body) as { reference: string; meta: Record<string, unknown> };
  assert.equal(outEvent.type, 'transfer_out');
  assert.equal(outBody.reference, 'entry-transfer-0001', 'named by the entry id without a reference');
  assert.equal(outBody.meta['to'], 'S2');

  const resent = ok(
    await call('entry.transferOut', {
      id: 'entry-transfer-0001',
      from: 'S1',
      to: 'S2',
      lines: [
        { sku: 'SKU-1', qty: 4 },
        { sku: 'SKU-2', qty: 2 },
      ],
    }),
    'transfer out resent',
  );
  assert.equal(resent['status'], 'duplicate');
  const sameName = await call('entry.transferOut', {
    id: 'entry-transfer-0002',
    from: 'S1',
    to: 'S2',
    reference: 'entry-transfer-0001',
    lines: [{ sku: 'SKU-1', qty: 1 }],
  });
  assert.equal(sameName.status, 400, 'a transfer is received by its name: a second one needs another');
  assert.deepEqual(
    (sameName.body['errors'] as { path: string }[]).map((e) => e.path),
    ['reference'],
  );

  assert.deepEqual(ok(await call('entry.expectedTransfers', { location: 'S1' }), 'at S1'), {
    transfers: [],
  });
  const expected = ok(await call('entry.expectedTransfers', { location: 'S2' }), 'at S2')['transfers'] as {
    transfer: string;
    sentAt: number;
  }[];
  assert.equal(expected.length, 1);
  assert.deepEqual(expected[0], {
    transfer: 'entry-transfer-0001',
    from: 'S1',
    to: 'S2',
    seq: out['seq'],
    sentAt: expected[0]!.sentAt,
    sentBy: 'Cleo',
    lines: [
      { sku: 'SKU-1', name: 'Blue shirt', qty: 4 },
      { sku: 'SKU-2', name: 'Red hat', qty: 2 },
    ],
  });

  const unknown = await call('entry.transferIn', {
    id: 'entry-transfer-in-0000',
    transfer: 'NO-SUCH',
    location: 'S2',
    lines: [{ sku: 'SKU-1', qty: 1 }],
  });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body['reason'], 'not_found');
  assert.match(String(unknown.body['message']), /NO-SUCH/);

  const nothing = await call('entry.transferIn', {
    id: 'entry-transfer-in-0001',
    transfer: 'entry-transfer-0001',
    location: 'S2',
    lines: [
      { sku: 'SKU-1', qty: 0 },
      { sku: 'SKU-2', qty: 0 },
    ],
  });
  assert.equal(nothing.status, 400, 'an event needs a line that arrived');
  assert.deepEqual(
    (nothing.body['errors'] as { path: string }[]).map((e) => e.path),
    ['lines'],
  );

  const received = ok(
    await call('entry.transferIn', {
      id: 'entry-transfer-in-0001',
      transfer: 'entry-transfer-0001',
      location: 'S2',
      lines: [
        { sku: 'SKU-1', qty: 3 },
        { sku: 'SKU-2', qty: 0 },
      ],
    }),
    'transfer in',
  );
  assert.equal(received['status'], 'accepted');
  assert.deepEqual(received['differences'], [
    { sku: 'SKU-1', sent: 4, received: 3 },
    { sku: 'SKU-2', sent: 2, received: 0 },
  ]);
  assert.equal(onHand(agent, 'SKU-1', 'S2'), 3);
  assert.equal(onHand(agent, 'SKU-2', 'S2'), 0);
  const inEvent = eventsOf(agent).at(-1)!;
  const inBody = JSON.parse(inEvent.body) as {
    reference: string;
    lines: unknown;
    meta: Record<string, unknown>;
  };
  assert.equal(inEvent.type, 'transfer_in');
  assert.equal(inBody.reference, 'entry-transfer-0001');
  assert.deepEqual(inBody.lines, [{ sku: 'SKU-1', qty: 3 }], 'a SKU that did not arrive is no line');
  assert.deepEqual(inBody.meta['sent'], [
    { sku: 'SKU-1', qty: 4 },
    { sku: 'SKU-2', qty: 2 },
  ]);
  assert.deepEqual(ok(await call('entry.expectedTransfers', { location: 'S2' }), 'after'), {
    transfers: [],
  });

  const twice = await call('entry.transferIn', {
    id: 'entry-transfer-in-0002',
    transfer: 'entry-transfer-0001',
    location: 'S2',
    lines: [{ sku: 'SKU-1', qty: 1 }],
  });
  assert.equal(twice.status, 400, 'a transfer is received once');
});

test('a count keeps a sale that arrived between counting and posting; the review shows it moved', async (t) => {
  const { agent, call } = await setUp(t);
  // SKU-1 at 10; SKU-2 below zero (sold without being received); SKU-3 at 5, not counted.
  assert.equal(
    (
      await agent.post({
        events: [
          makeEvent({
            id: 'r1',
            type: 'receipt',
            lines: [
              { sku: 'SKU-1', qty: 10 },
              { sku: 'SKU-3', qty: 5 },
            ],
          }),
          makeEvent({ id: 's0', lines: [{ sku: 'SKU-2', qty: 3, unitPrice: '4.50', currency: 'EUR' }] }),
        ],
      })
    ).status,
    200,
  );
  assert.equal(onHand(agent, 'SKU-2'), -3);

  const started = ok(
    await call('counts.start', {
      location: 'S1',
      skus: ['SKU-1', 'SKU-3'],
      negativeOnly: true,
      label: 'Aisle 4',
    }),
    'start',
  );
  const id = started['id'] as number;
  assert.deepEqual(
    (started['lines'] as { sku: string }[]).map((l) => l.sku),
    ['SKU-1', 'SKU-3', 'SKU-2'],
    'the listed SKUs and every item below zero, each once',
  );

  ok(await call('counts.record', { session: id, sku: 'SKU-1', mode: 'set', qty: 8 }), 'record SKU-1');
  ok(await call('counts.record', { session: id, sku: 'SKU-2', mode: 'add', qty: 1 }), 'scan SKU-2');
  ok(await call('counts.record', { session: id, sku: 'SKU-2', mode: 'add', qty: 1 }), 'scan SKU-2 again');

  // The till sells 2 of SKU-1 and 1 of SKU-2 after they were counted, before the count is posted.
  const sale = await agent.post(
    makeEvent({
      id: 's1',
      lines: [
        { sku: 'SKU-1', qty: 2, unitPrice: '9.99', currency: 'EUR' },
        { sku: 'SKU-2', qty: 1 },
      ],
    }),
  );
  assert.equal(sale.status, 200);

  const review = ok(await call('counts.get', { id }), 'review');
  const line = (sku: string) => (review['lines'] as Record<string, unknown>[]).find((l) => l['sku'] === sku)!;
  assert.equal(line('SKU-1')['counted'], 8);
  assert.equal(line('SKU-1')['ledgerAtCount'], 10);
  assert.equal(line('SKU-1')['levelNow'], 8);
  assert.equal(line('SKU-1')['movedSinceCount'], -2);
  assert.equal(line('SKU-1')['difference'], -2);
  assert.equal(line('SKU-1')['unitPrice'], '9.99');
  assert.equal(line('SKU-1')['value'], '-19.98');
  assert.equal(line('SKU-1')['countedBy'], 'Cleo');
  assert.equal(line('SKU-2')['counted'], 2);
  assert.equal(line('SKU-2')['ledgerAtCount'], -3);
  assert.equal(line('SKU-2')['difference'], 5);
  assert.equal(line('SKU-2')['value'], '22.50');
  assert.equal(line('SKU-3')['counted'], null);

  const posted = ok(await call('counts.post', { session: id }), 'post');
  assert.equal(posted['status'], 'posted');
  const result = posted['result'] as { status: string; seq: number; eventId: string };
  assert.equal(result.status, 'accepted');
  assert.equal(posted['postedSeq'], result.seq);
  assert.equal(onHand(agent, 'SKU-1'), 6, 'counted 8, sold 2 after counting');
  assert.equal(onHand(agent, 'SKU-2'), 1, 'counted 2, sold 1 after counting');
  assert.equal(onHand(agent, 'SKU-3'), 5, 'an uncounted line is not posted');

  const countEvent = eventsOf(agent).at(-1)!;
  assert.equal(countEvent.type, 'count');
  const body = JSON.parse(countEvent.body) as { lines: unknown; meta: Record<string, unknown> };
  assert.deepEqual(body.lines, [
    { sku: 'SKU-1', qty: 8 },
    { sku: 'SKU-2', qty: 2 },
  ]);
  assert.equal(body.meta['operator'], 'Cleo');
  assert.equal(body.meta['role'], 'clerk');
  assert.equal(body.meta['countSession'], id);
  assert.deepEqual(Object.keys(body.meta['countedAt'] as object).sort(), ['SKU-1', 'SKU-2']);

  const again = ok(await call('counts.post', { session: id }), 'post again');
  assert.equal((again['result'] as { status: string; seq: number }).status, 'duplicate');
  assert.equal((again['result'] as { seq: number }).seq, result.seq);
  assert.equal(onHand(agent, 'SKU-1'), 6, 'posting twice moves nothing');
  assert.equal((await call('counts.record', { session: id, sku: 'SKU-1', qty: 1 })).status, 400);

  const audit = agent.agent.audit.list({ subject: `count:${id}` });
  assert.deepEqual(
    audit.map((a) => [a.action, a.operator, a.role]),
    [
      ['counts.post', 'Cleo', 'clerk'],
      ['counts.start', 'Cleo', 'clerk'],
    ],
  );
});

test('count sessions: a shelf list by barcode, scanning an unlisted item adds it, cancel is audited and cannot be posted', async (t) => {
  const { agent, call } = await setUp(t);
  const bad = await call('counts.start', { location: 'S1', shelfCsv: 'SKU-1\nSKU-2;3\n' });
  assert.equal(bad.status, 400);
  assert.match(String(bad.body['message']), /line 2/);
  const empty = await call('counts.start', { location: 'S1', negativeOnly: true });
  assert.equal(empty.status, 400, 'a session of no items');

  const started = ok(
    await call('counts.start', {
      location: 'S1',
      shelfCsv: 'sku,shelf\n4006381333931,A1\nSKU-2,A1\nSKU-1,A2\n',
    }),
    'start',
  );
  const id = started['id'] as number;
  assert.deepEqual(
    (started['lines'] as { sku: string }[]).map((l) => l.sku),
    ['SKU-1', 'SKU-2'],
  );
  const scanned = ok(await call('counts.record', { session: id, sku: 'SKU-3', qty: 4 }), 'scan');
  assert.deepEqual(
    (scanned['lines'] as { sku: string }[]).map((l) => l.sku),
    ['SKU-1', 'SKU-2', 'SKU-3'],
  );
  const listed = ok(await call('counts.list', { status: 'open' }), 'list')['sessions'] as { id: number }[];
  assert.deepEqual(
    listed.map((s) => s.id),
    [id],
  );

  const cancelled = ok(await call('counts.cancel', { session: id, reason: 'wrong aisle' }), 'cancel');
  assert.equal(cancelled['status'], 'cancelled');
  const [entry] = agent.agent.audit.list({ subject: `count:${id}` });
  assert.equal(entry!.action, 'counts.cancel');
  assert.equal(entry!.reason, 'wrong aisle');
  const post = await call('counts.post', { session: id });
  assert.equal(post.status, 400);
  assert.equal(eventsOf(agent).length, 0);
  assert.equal((await call('counts.get', { id: 999 })).status, 404);
});

test('a POS count without countedAt still sets the absolute level; a malformed countedAt is ignored', async (t) => {
  const { agent } = await setUp(t);
  await agent.post({
    events: [
      makeEvent({
        id: 'r1',
        type: 'receipt',
        lines: [
          { sku: 'SKU-1', qty: 10 },
          { sku: 'SKU-2', qty: 10 },
        ],
      }),
      makeEvent({ id: 's1', lines: [{ sku: 'SKU-1', qty: 3 }] }),
    ],
  });
  const counted = await agent.post({
    events: [
      makeEvent({ id: 'c1', type: 'count', lines: [{ sku: 'SKU-1', qty: 4 }] }),
      makeEvent({
        id: 'c2',
        type: 'count',
        lines: [{ sku: 'SKU-2', qty: 6 }],
        meta: { countedAt: { 'SKU-2': 'one' } },
      }),
    ],
  });
  assert.deepEqual(
    counted.body.results.map((r) => r.status),
    ['accepted', 'accepted'],
  );
  assert.equal(onHand(agent, 'SKU-1'), 4);
  assert.equal(onHand(agent, 'SKU-2'), 6);
});

test('a transfer received by two entries at once is captured once: the second is refused naming transfer; two transfers sent under one name at once: one is refused', async (t) => {
  const { agent, call } = await setUp(t);
  ok(
    await call('entry.receive', {
      id: 'entry-receive-0100',
      location: 'S1',
      lines: [{ sku: 'SKU-1', qty: 10 }],
    }),
    'receive',
  );
  const sends = await Promise.all(
    ['entry-transfer-0100', 'entry-transfer-0101'].map((id) =>
      call('entry.transferOut', {
        id,
        from: 'S1',
        to: 'S2',
        reference: 'TR-RACE',
        lines: [{ sku: 'SKU-1', qty: 3 }],
      }),
    ),
  );
  assert.deepEqual(sends.map((a) => a.status).sort(), [200, 400], JSON.stringify(sends.map((a) => a.body)));
  assert.equal(onHand(agent, 'SKU-1', 'S1'), 7, 'one transfer left S1');

  const receipts = await Promise.all(
    ['entry-receive-0101', 'entry-receive-0102'].map((id) =>
      call('entry.transferIn', {
        id,
        location: 'S2',
        transfer: 'TR-RACE',
        lines: [{ sku: 'SKU-1', qty: 3 }],
      }),
    ),
  );
  assert.deepEqual(
    receipts.map((a) => a.status).sort(),
    [200, 400],
    JSON.stringify(receipts.map((a) => a.body)),
  );
  const refused = receipts.find((a) => a.status === 400)!;
  assert.deepEqual(
    (refused.body['errors'] as { path: string; message: string }[]).map((e) => e.path),
    ['transfer'],
  );
  assert.match((refused.body['errors'] as { message: string }[])[0]!.message, /already received at S2/);
  assert.equal(onHand(agent, 'SKU-1', 'S2'), 3, 'received once');
  assert.equal(eventsOf(agent).filter((e) => e.type === 'transfer_in').length, 1);
});
