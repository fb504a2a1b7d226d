import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseEvent, type PosEvent } from '../../shared/events.js';
import type {
  OutgoingStatement,
  StatementOutcome,
  StatementTarget,
} from '../../src-main/connectors/port/connector-bundle.js';
import { businessDayOf, DayStatements } from '../../src-main/outbox/day-statements.js';
import {
  businessDayAndTime,
  localDayAndTime,
  StatementSender,
} from '../../src-main/outbox/statement-sender.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { connectorContext } from '../support/connector-context.js';
import { makeEvent, startAgent, tempDir, testConfig } from '../support/harness.js';

/*
 * Business days and statements on a real SQLite database, with an ERP that records what it is sent and answers
 * as told (the Tryton side is tested against a real trytond in tryton-statements.test.ts).
 */

function event(id: string, type: 'sale' | 'return', occurredAt: string, lines: PosEvent['lines']): PosEvent {
  const parsed = parseEvent({ id, type, location: 'S1', occurredAt, lines });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.event;
}

function setUp(answers: StatementOutcome[], dayEndsAt?: string) {
  const t = connectorContext('erp', 'store-test');
  const statements = new DayStatements(
    t.db,
    'store-test',
    t.exceptions,
    new Map(dayEndsAt === undefined ? [] : [['erp', dayEndsAt]]),
  );
  const sent: OutgoingStatement[] = [];
  const target: StatementTarget = {
    post: (statement) => {
      sent.push(statement);
      return Promise.resolve(
        answers.shift() ?? { kind: 'posted', remoteId: String(sent.length), refused: [] },
      );
    },
    read: () => Promise.resolve([]),
  };
  let seq = 0;
  const capture = (e: PosEvent) => {
    seq += 1;
    t.db.sqlite
      .prepare(
        `INSERT INTO events (seq, source, event_id, type, location, occurred_at, received_at, body, content_hash, prev_hash, hash)
         VALUES (?, 'pos-1', ?, ?, ?, ?, 0, ?, '', '', '')`,
      )
      .run(seq, e.id, e.type, e.location, e.occurredAt, JSON.stringify(e));
    statements.record('erp', seq, e);
  };
  return { t, statements, sent, target, capture };
}

test('localDayAndTime gives the calendar day and time of day in a time zone', () => {
  const at = Date.parse('2026-12-05T23:30:00Z');
  assert.deepEqual(localDayAndTime(at, 'Europe/Paris'), { day: '2026-12-06', time: '00:30' });
  assert.deepEqual(localDayAndTime(at, 'America/New_York'), { day: '2026-12-05', time: '18:30' });
});

test("a business day ending at 04:00 takes the sales rung up after midnight, by the till's own clock whatever its offset", () => {
  assert.equal(businessDayOf({ occurredAt: '2026-12-06T01:30:00+01:00' }), '2026-12-06');
  assert.equal(businessDayOf({ occurredAt: '2026-12-06T01:30:00+01:00' }, '04:00'), '2026-12-05');
  assert.equal(businessDayOf({ occurredAt: '2026-12-06T03:59:59.999-05:00' }, '04:00'), '2026-12-05');
  assert.equal(businessDayOf({ occurredAt: '2026-12-06T04:00:00+09:00' }, '04:00'), '2026-12-06');
  assert.equal(businessDayOf({ occurredAt: '2026-03-01T02:00:00Z' }, '04:00'), '2026-02-28');
  // At 01:30 Paris time on the 6th, the business day under way is the 5th, 21:30 into it.
  assert.deepEqual(businessDayAndTime(Date.parse('2026-12-06T00:30:00Z'), '04:00', 'Europe/Paris'), {
    day: '2026-12-05',
    time: '21:30',
  });
});

test('a store open past midnight: its day ending at 04:00 closes at 02:30 the next morning with the sales rung up after midnight, and a sale after 04:00 starts the next day', async (t) => {
  const { t: ctx, statements, sent, target, capture } = setUp([], '04:00');
  t.after(ctx.cleanup);
  capture(event('s-1', 'sale', '2026-12-05T20:00:00+01:00', [{ sku: 'SKU-1', qty: 1, unitPrice: '5.00' }]));
  capture(event('s-2', 'sale', '2026-12-06T01:45:00+01:00', [{ sku: 'SKU-1', qty: 2, unitPrice: '5.00' }]));
  capture(event('s-3', 'sale', '2026-12-06T04:10:00+01:00', [{ sku: 'SKU-2', qty: 1, unitPrice: '1.00' }]));
  let now = Date.parse('2026-12-05T23:30:00Z'); // 00:30 in Paris: past midnight, the day goes on
  const sender = new StatementSender({
    destinationId: 'erp',
    target,
    statements,
    logger: createLogger({ level: 'silent' }),
    dayClose: { at: '02:30', dayEndsAt: '04:00', timeZone: 'Europe/Paris' },
    now: () => now,
  });
  await sender.runDue();
  assert.equal(sent.length, 0, 'not closed at midnight');
  now = Date.parse('2026-12-06T01:29:00Z'); // 02:29 in Paris
  await sender.runDue();
  assert.equal(sent.length, 0, 'not closed before 02:30');
  now = Date.parse('2026-12-06T01:30:00Z'); // 02:30 in Paris
  await sender.runDue();
  assert.deepEqual(sent, [
    {
      reference: 'store-test:S1:2026-12-05',
      location: 'S1',
      day: '2026-12-05',
      lines: [{ sku: 'SKU-1', unitPrice: '5.00', currency: null, qty: 3 }],
    },
  ]);
  assert.equal(statements.day('erp', 'S1', '2026-12-05').sales, 2);
  assert.equal(statements.day('erp', 'S1', '2026-12-06').state, 'open');
  assert.equal(statements.day('erp', 'S1', '2026-12-06').sales, 1);
});

test('a close time at the end of the day (00:00) closes the day as the next begins, not as it begins', async (t) => {
  const { t: ctx, statements, sent, target, capture } = setUp([]);
  t.after(ctx.cleanup);
  capture(event('s-1', 'sale', '2026-12-05T00:10:00+01:00', [{ sku: 'SKU-1', qty: 1, unitPrice: '5.00' }]));
  let now = Date.parse('2026-12-04T23:20:00Z'); // 00:20 on the 5th in Paris
  const sender = new StatementSender({
    destinationId: 'erp',
    target,
    statements,
    logger: createLogger({ level: 'silent' }),
    dayClose: { at: '00:00', timeZone: 'Europe/Paris' },
    now: () => now,
  });
  await sender.runDue();
  now = Date.parse('2026-12-05T22:59:00Z'); // 23:59 in Paris
  await sender.runDue();
  assert.equal(sent.length, 0, 'open all day');
  now = Date.parse('2026-12-05T23:00:00Z'); // midnight in Paris
  await sender.runDue();
  assert.deepEqual(
    sent.map((s) => s.reference),
    ['store-test:S1:2026-12-05'],
  );
});

test('a day closes by itself at its close time in its time zone, not before, and its statement has a line per (SKU, unit price) with the units sold less returned', async (t) => {
  const { t: ctx, statements, sent, target, capture } = setUp([]);
  t.after(ctx.cleanup);
  capture(event('s-1', 'sale', '2026-12-05T10:00:00+01:00', [{ sku: 'SKU-1', qty: 2, unitPrice: '2.5' }]));
  capture(event('s-2', 'sale', '2026-12-05T11:00:00+01:00', [{ sku: 'SKU-1', qty: 1, unitPrice: '2.50' }]));
  capture(event('r-1', 'return', '2026-12-05T12:00:00+01:00', [{ sku: 'SKU-1', qty: 1, unitPrice: '2.50' }]));
  capture(
    event('s-3', 'sale', '2026-12-05T13:00:00+01:00', [
      { sku: 'SKU-1', qty: 1, unitPrice: '3.00' },
      { sku: 'SKU-2', qty: 4, unitPrice: '1.00', currency: 'EUR' },
    ]),
  );
  let now = Date.parse('2026-12-05T20:59:00Z'); // 21:59 in Paris
  const sender = new StatementSender({
    destinationId: 'erp',
    target,
    statements,
    logger: createLogger({ level: 'silent' }),
    dayClose: { at: '22:00', timeZone: 'Europe/Paris' },
    now: () => now,
  });
  await sender.runDue();
  assert.equal(sent.length, 0, 'not closed before 22:00 Paris time');
  assert.equal(statements.day('erp', 'S1', '2026-12-05').state, 'open');
  now = Date.parse('2026-12-05T21:00:00Z');
  await sender.runDue();
  assert.deepEqual(sent, [
    {
      reference: 'store-test:S1:2026-12-05',
      location: 'S1',
      day: '2026-12-05',
      lines: [
        { sku: 'SKU-1', unitPrice: '2.50', currency: null, qty: 2 },
        { sku: 'SKU-1', unitPrice: '3.00', currency: null, qty: 1 },
        { sku: 'SKU-2', unitPrice: '1.00', currency: 'EUR', qty: 4 },
      ],
    },
  ]);
  const day = statements.day('erp', 'S1', '2026-12-05');
  assert.equal(day.state, 'posted');
  assert.equal(day.closedBy, 'schedule');
  assert.deepEqual([day.sales, day.returns, day.unitsSold, day.unitsReturned], [3, 1, 8, 1]);
  assert.deepEqual(day.value, [
    { currency: '', amount: '8.00' },
    { currency: 'EUR', amount: '4.00' },
  ]);
});

test('a statement the ERP cannot take now is retried later; one it rejects is an exception naming it until posted again', async (t) => {
  const {
    t: ctx,
    statements,
    sent,
    target,
    capture,
  } = setUp([
    { kind: 'retry', detail: 'Tryton is unreachable' },
    { kind: 'rejected', detail: 'no Tryton storage location or warehouse has the code "S1"' },
  ]);
  t.after(ctx.cleanup);
  capture(event('s-1', 'sale', '2026-12-04T10:00:00+00:00', [{ sku: 'SKU-1', qty: 1, unitPrice: '5.00' }]));
  let now = Date.parse('2026-12-05T09:00:00Z');
  const sender = new StatementSender({
    destinationId: 'erp',
    target,
    statements,
    logger: createLogger({ level: 'silent' }),
    now: () => now,
  });
  statements.closeDay(['erp'], 'S1', '2026-12-04', 'Maria', now);
  await sender.runDue();
  let [statement] = statements.day('erp', 'S1', '2026-12-04').statements;
  assert.deepEqual([statement!.state, statement!.lastError], ['pending', 'Tryton is unreachable']);
  await sender.runDue();
  assert.equal(sent.length, 1, 'not again before its backoff');
  now += 60_000;
  await sender.runDue();
  [statement] = statements.day('erp', 'S1', '2026-12-04').statements;
  assert.equal(statement!.state, 'rejected');
  const open = () =>
    ctx.db.sqlite
      .prepare("SELECT message FROM exceptions WHERE kind = 'statement_refused' AND status = 'open'")
      .all() as {
      message: string;
    }[];
  assert.match(
    open()[0]!.message,
    /The day statement of S1 for 2026-12-04 \(store-test:S1:2026-12-04\) was not posted to erp: no Tryton storage location/,
  );
  assert.deepEqual(statements.postAgain(statement!.id, now), { reference: 'store-test:S1:2026-12-04' });
  await sender.runDue();
  assert.equal(statements.day('erp', 'S1', '2026-12-04').state, 'posted');
  assert.deepEqual(open(), [], 'the exception is resolved once the statement is posted');
  assert.deepEqual(
    sent.map((s) => s.reference),
    ['store-test:S1:2026-12-04', 'store-test:S1:2026-12-04', 'store-test:S1:2026-12-04'],
    'posted again under the same reference (found by it if an attempt made it after all)',
  );
  assert.throws(() => statements.postAgain(statement!.id, now), /nothing to post again/);
});

test('over HTTP: a clerk may not see or close days; a manager closes one, and closing it again or a day that is no day is a 400 naming `day`, nothing changed', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const a = await startAgent(
    testConfig(join(dir.path, 'data'), {
      operators: [
        { name: 'Cleo', token: 'clerk-token-0123456789', role: 'clerk' },
        { name: 'Maria', token: 'manager-token-0123456789', role: 'manager' },
      ],
      // Never reached here: the statement waits, pending, which is all this test looks at.
      destinations: [
        {
          id: 'erp',
          type: 'tryton',
          url: 'http://127.0.0.1:9/',
          database: 'tryton',
          username: 'backroom',
          password: 'unused-password',
          postingMode: 'daily_statement',
        },
      ],
    }),
  );
  t.after(() => a.stop());
  const sale = makeEvent({
    id: 'sale-1',
    type: 'sale',
    location: 'S1',
    occurredAt: '2026-12-04T10:00:00+01:00',
    lines: [{ sku: 'SKU-1', qty: 2, unitPrice: '2.50', currency: 'EUR' }],
  });
  assert.equal((await a.post({ events: [sale] })).status, 200);
  const call = async (method: 'GET' | 'POST', path: string, token: string, body?: unknown) => {
    const response = await fetch(`${a.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const clerk = 'clerk-token-0123456789';
  const manager = 'manager-token-0123456789';
  assert.equal((await call('GET', '/api/v1/days', clerk)).status, 403);
  assert.equal(
    (await call('POST', '/api/v1/days/close', clerk, { location: 'S1', day: '2026-12-04' })).status,
    403,
  );
  const open = await call('GET', '/api/v1/days', manager);
  assert.equal(open.status, 200);
  assert.deepEqual(
    (open.body.days as { day: string; state: string; value: unknown }[]).map((d) => [
      d.day,
      d.state,
      d.value,
    ]),
    [['2026-12-04', 'open', [{ currency: 'EUR', amount: '5.00' }]]],
  );
  const closed = await call('POST', '/api/v1/days/close', manager, { location: 'S1', day: '2026-12-04' });
  assert.equal(closed.status, 200);
  const [day] = closed.body.days as {
    state: string;
    closedBy: string;
    statements: { reference: string }[];
  }[];
  assert.equal(day!.state, 'closing');
  assert.equal(day!.closedBy, 'Maria');
  assert.deepEqual(
    day!.statements.map((s) => s.reference),
    ['store-test:S1:2026-12-04'],
  );
  const again = await call('POST', '/api/v1/days/close', manager, { location: 'S1', day: '2026-12-04' });
  assert.equal(again.status, 400);
  assert.deepEqual(
    (again.body.errors as { path: string }[]).map((e) => e.path),
    ['day'],
  );
  assert.match(String(again.body.message), /the business day 2026-12-04 of S1 was closed already \(by Maria/);
  const bad = await call('POST', '/api/v1/days/close', manager, { location: 'S1', day: '2026-02-30' });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.errors, [{ path: 'day', message: '"2026-02-30" is not a day like 2026-12-05' }]);
  assert.equal(
    (a.agent.db.sqlite.prepare('SELECT COUNT(*) AS n FROM statements').get() as { n: number }).n,
    1,
    'nothing changed',
  );
  const audit = a.agent.db.sqlite
    .prepare("SELECT operator, subject FROM audit_log WHERE action = 'day.close'")
    .all() as { operator: string; subject: string }[];
  assert.deepEqual(audit, [{ operator: 'Maria', subject: 'day:S1:2026-12-04' }]);
});
