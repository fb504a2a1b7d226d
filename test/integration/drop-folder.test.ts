// The drop folder (issue 2, item 7): legacy POS exports written into a watched folder are captured once; a file
// still being written is not read; good rows are captured, each bad row becomes an exception naming the file,
// line and field; the file then moves to processed/ or failed/ beside a report.
//
// The CSV format (CSV_COLUMNS in src-main/capture/export-file.ts), one row per event line:
//   event_id,type,location,occurred_at,sku,qty,unit_price,currency,reference
// The first six columns are required, the last three optional; rows of one multi-line event share its event_id
// (and must agree on type, location, occurred_at and reference). `,` or `;` separated, with a header row.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { DATABASE_FILE } from '../../src-main/agent/agent.js';
import type { ImportReport } from '../../src-main/capture/import-file.js';
import { startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

const STABLE_MS = 200;
const HEADER = 'event_id,type,location,occurred_at,sku,qty,unit_price,currency,reference';

type Setup = { a: TestAgent; drop: string; dataDir: string };

/** An agent watching `<tmp>/drop` for source pos-1, with files stable after 200 ms. */
async function dropAgent(t: TestContext): Promise<Setup> {
  const tmp = tempDir('backroom-drop-');
  t.after(tmp.cleanup);
  const drop = join(tmp.path, 'drop');
  const dataDir = join(tmp.path, 'data');
  const a = await startAgent(
    testConfig(dataDir, { dropFolders: [{ path: drop, source: 'pos-1', stableMs: STABLE_MS }] }),
  );
  t.after(() => a.stop());
  return { a, drop, dataDir };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until `name` was handled (its report is in processed/ or failed/), and returns where and the report. */
async function handled(
  s: Setup,
  name: string,
): Promise<{ folder: 'processed' | 'failed'; report: ImportReport }> {
  const folder = await waitFor(`${name} to be handled`, () =>
    (['processed', 'failed'] as const).find((f) => existsSync(join(s.drop, f, `${name}.report.json`))),
  );
  await s.a.agent.whenDropFoldersIdle();
  const report = JSON.parse(
    readFileSync(join(s.drop, folder, `${name}.report.json`), 'utf8'),
  ) as ImportReport;
  assert.equal(existsSync(join(s.drop, folder, name)), true, `${name} is in ${folder}/`);
  assert.equal(existsSync(join(s.drop, name)), false, `${name} left the drop folder`);
  return { folder, report };
}

type ExceptionRow = { kind: string; status: string; message: string; details: string; source: string | null };

/** Reads the database file through its own read-only connection. */
function query<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

function storedIds(dataDir: string): string[] {
  return query<{ event_id: string }>(
    dataDir,
    `SELECT event_id FROM events WHERE source = 'pos-1' ORDER BY seq`,
  ).map((r) => r.event_id);
}

function exceptions(dataDir: string, kind: string): ExceptionRow[] {
  return query<ExceptionRow>(
    dataDir,
    'SELECT kind, status, message, details, source FROM exceptions WHERE kind = ? ORDER BY id',
    kind,
  );
}

test('a CSV with good and bad rows: good events are captured, each bad row is an exception naming file, line and field, and the file moves to processed/ with a report', async (t) => {
  const s = await dropAgent(t);
  const csv = [
    HEADER, // line 1
    'csv-1,sale,S1,2026-11-24T10:15:00+01:00,SKU-1,2,9.99,EUR,R-1', // 2: csv-1 has two lines
    'csv-1,sale,S1,2026-11-24T10:15:00+01:00,SKU-2,1,4.50,EUR,R-1', // 3
    'csv-2,receipt,S1,2026-11-24T11:00:00+01:00,SKU-1,10,,,', // 4
    'csv-3,sale,S1,2026-11-24T12:00:00+01:00,SKU-3,zero,,,', // 5: qty not a number
    'csv-4,sale,S1,2026-02-30T12:00:00+01:00,SKU-1,1,,,', // 6: no 30 February
    ',sale,S1,2026-11-24T12:00:00+01:00,SKU-1,1,,,', // 7: no event_id
    'csv-5,return,S2,2026-11-24T13:00:00+01:00,SKU-1,1,,,', // 8
    'csv-6,sale,S1,2026-11-24T13:00:00+01:00,SKU-1,1,1.00,eur,', // 9: currency not upper case
    'csv-7,sale,S1,2026-11-24T14:00:00+01:00,SKU-1,1,,,', // 10: csv-7's first line is fine...
    'csv-7,sale,S1,2026-11-24T14:00:00+01:00,SKU-2,-1,,,', // 11: ...its second is not
    '',
  ].join('\n');
  writeFileSync(join(s.drop, 'till-1.csv'), csv);

  const { folder, report } = await handled(s, 'till-1.csv');
  assert.equal(folder, 'processed');
  assert.equal(report.outcome, 'processed');
  assert.equal(report.accepted, 3);
  assert.deepEqual(
    report.problems.map((p) => [p.line, p.field]),
    [
      [5, 'qty'],
      [6, 'occurred_at'],
      [7, 'event_id'],
      [9, 'currency'],
      [11, 'qty'],
    ],
  );
  // An event is captured whole or not at all: csv-7 has a bad line, so none of its lines are.
  assert.deepEqual(storedIds(s.dataDir), ['csv-1', 'csv-2', 'csv-5']);
  assert.deepEqual(
    query<{ event_id: string; n: number }>(
      s.dataDir,
      'SELECT e.event_id, COUNT(*) AS n FROM movements m JOIN events e ON e.seq = m.event_seq GROUP BY e.seq ORDER BY e.seq',
    ).map((r) => [r.event_id, r.n]),
    [
      ['csv-1', 2],
      ['csv-2', 1],
      ['csv-5', 1],
    ],
  );

  const rows = exceptions(s.dataDir, 'bad_import_row');
  assert.equal(rows.length, 5);
  for (const row of rows) {
    assert.equal(row.status, 'open');
    assert.equal(row.source, 'pos-1');
    const details = JSON.parse(row.details) as { file: string; line: number; field: string };
    assert.equal(details.file, 'till-1.csv');
    assert.ok(row.message.includes(`Line ${details.line} of till-1.csv`), row.message);
    assert.ok(row.message.includes(details.field), row.message);
  }
  assert.deepEqual(
    rows.map((r) => JSON.parse(r.details) as { line: number; field: string }).map((d) => [d.line, d.field]),
    [
      [5, 'qty'],
      [6, 'occurred_at'],
      [7, 'event_id'],
      [9, 'currency'],
      [11, 'qty'],
    ],
  );
  assert.match(rows[0]!.message, /^Line 5 of till-1\.csv was not captured: qty must be a number/);
});

test('a CSV row of a multi-line event that disagrees with its first row fails the whole event, naming the field', async (t) => {
  const s = await dropAgent(t);
  const csv = [
    HEADER,
    'm-1,sale,S1,2026-11-24T10:15:00+01:00,SKU-1,1,,,R-1',
    'm-1,sale,S2,2026-11-24T10:15:00+01:00,SKU-2,1,,,R-1', // line 3: another location
    'm-2,sale,S1,2026-11-24T10:16:00+01:00,SKU-1,1,,,R-2',
  ].join('\n');
  writeFileSync(join(s.drop, 'multi.csv'), csv);
  const { report } = await handled(s, 'multi.csv');
  assert.equal(report.accepted, 1);
  assert.deepEqual(storedIds(s.dataDir), ['m-2']);
  assert.ok(
    report.problems.some((p) => p.line === 3 && p.field === 'location'),
    JSON.stringify(report.problems),
  );
  assert.ok(
    exceptions(s.dataDir, 'bad_import_row').some((e) => /Line 3 of multi\.csv.*location/.test(e.message)),
  );
});

test('a JSON file of events is captured, and a bad event in it is an exception naming the file and its position', async (t) => {
  const s = await dropAgent(t);
  const events = [
    {
      id: 'j-1',
      type: 'receipt',
      location: 'S1',
      occurredAt: '2026-11-24T09:00:00Z',
      lines: [{ sku: 'SKU-1', qty: 4 }],
    },
    {
      id: 'j-2',
      type: 'sale',
      location: 'S1',
      occurredAt: '2026-11-24T09:05:00Z',
      lines: [{ sku: 'SKU-1', qty: 0 }],
    },
    {
      id: 'j-3',
      type: 'sale',
      location: 'S1',
      occurredAt: '2026-11-24T09:10:00Z',
      lines: [{ sku: 'SKU-1', qty: 1 }],
    },
  ];
  writeFileSync(join(s.drop, 'export.json'), JSON.stringify({ events }, null, 2));
  const { folder, report } = await handled(s, 'export.json');
  assert.equal(folder, 'processed');
  assert.deepEqual([report.accepted, report.problems.length], [2, 1]);
  assert.deepEqual(storedIds(s.dataDir), ['j-1', 'j-3']);
  const [row] = exceptions(s.dataDir, 'bad_import_row');
  assert.match(row!.message, /^Line 2 of export\.json was not captured: lines\.0\.qty /);
});

test('a JSON Lines file is captured line by line, and a line that is not JSON is an exception naming its line', async (t) => {
  const s = await dropAgent(t);
  const line = (id: string, qty: number) =>
    JSON.stringify({
      id,
      type: 'receipt',
      location: 'S2',
      occurredAt: '2026-11-24T09:00:00+01:00',
      lines: [{ sku: 'SKU-9', qty }],
    });
  const text = [line('l-1', 1), '{"id": "l-2", "type": ', '', line('l-3', 3), '[1, 2]', ''].join('\n');
  writeFileSync(join(s.drop, 'export.jsonl'), text);
  const { folder, report } = await handled(s, 'export.jsonl');
  assert.equal(folder, 'processed');
  assert.equal(report.accepted, 2);
  assert.deepEqual(
    report.problems.map((p) => [p.line, p.field]),
    [
      [2, '(line)'],
      [5, '(event)'],
    ],
  );
  assert.deepEqual(storedIds(s.dataDir), ['l-1', 'l-3']);
  const messages = exceptions(s.dataDir, 'bad_import_row').map((e) => e.message);
  assert.ok(
    messages.some((m) => m.startsWith('Line 2 of export.jsonl was not captured: (line) is not valid JSON')),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) =>
      m.startsWith('Line 5 of export.jsonl was not captured: (event) is not an event object'),
    ),
    messages.join('\n'),
  );
});

test('a file that cannot be read as an export goes to failed/ with a bad_import_file exception and nothing captured', async (t) => {
  const s = await dropAgent(t);
  const files: [string, string, RegExp][] = [
    ['garbage.csv', `${HEADER}\n"unterminated,sale,S1\n\u0000\u0001 binary`, /the CSV cannot be read/],
    [
      'no-qty.csv',
      'event_id,type,location,occurred_at,sku\nx-1,sale,S1,2026-11-24T10:15:00+01:00,SKU-1\n',
      /lacks the column\(s\) qty/,
    ],
    ['header-only.csv', `${HEADER}\n`, /has no rows/],
    ['broken.json', '{"events": [ {"id": "b-1"', /not valid JSON/],
    ['export.xml', '<events/>', /is not a \.csv, \.json/],
  ];
  for (const [name, content] of files) writeFileSync(join(s.drop, name), content);
  for (const [name, , error] of files) {
    const { folder, report } = await handled(s, name);
    assert.equal(folder, 'failed', name);
    assert.equal(report.outcome, 'failed', name);
    assert.match(report.error ?? '', error, name);
  }
  assert.deepEqual(storedIds(s.dataDir), []);
  const raised = exceptions(s.dataDir, 'bad_import_file');
  assert.equal(raised.length, files.length);
  for (const [name] of files) {
    const exception = raised.find((e) => (JSON.parse(e.details) as { file: string }).file === name);
    assert.ok(exception, `an exception for ${name}`);
    assert.equal(exception.status, 'open');
    assert.ok(
      exception.message.includes(`The file ${name} from pos-1 could not be imported`),
      exception.message,
    );
  }
});

test('a file whose rows are all bad goes to failed/, each row an exception', async (t) => {
  const s = await dropAgent(t);
  writeFileSync(
    join(s.drop, 'all-bad.csv'),
    [HEADER, 'a-1,sell,S1,2026-11-24T10:15:00+01:00,SKU-1,1,,,', 'a-2,sale,S1,yesterday,SKU-1,1,,,'].join(
      '\n',
    ),
  );
  const { folder, report } = await handled(s, 'all-bad.csv');
  assert.equal(folder, 'failed');
  assert.deepEqual(
    report.problems.map((p) => [p.line, p.field]),
    [
      [2, 'type'],
      [3, 'occurred_at'],
    ],
  );
  assert.equal(exceptions(s.dataDir, 'bad_import_row').length, 2);
  assert.deepEqual(storedIds(s.dataDir), []);
});

test('the same content dropped twice, under another name or the same, is captured once', async (t) => {
  const s = await dropAgent(t);
  const csv = [
    HEADER,
    'twice-1,sale,S1,2026-11-24T10:15:00+01:00,SKU-1,2,,,',
    'twice-2,receipt,S1,2026-11-24T10:20:00+01:00,SKU-1,5,,,',
    '',
  ].join('\n');
  writeFileSync(join(s.drop, 'day-1.csv'), csv);
  assert.equal((await handled(s, 'day-1.csv')).report.accepted, 2);

  writeFileSync(join(s.drop, 'day-1-again.csv'), csv);
  const again = await handled(s, 'day-1-again.csv');
  assert.equal(again.folder, 'processed');
  assert.equal(again.report.outcome, 'already_imported');
  assert.equal(again.report.accepted, 0);

  // The same name again: the first processed file is kept, the second lands beside it.
  writeFileSync(join(s.drop, 'day-1.csv'), csv);
  await waitFor('the second day-1.csv to be handled', () =>
    existsSync(join(s.drop, 'processed', 'day-1 (2).csv.report.json')) ? true : undefined,
  );
  await s.a.agent.whenDropFoldersIdle();
  assert.deepEqual(
    readdirSync(join(s.drop, 'processed'))
      .filter((f) => !f.endsWith('.report.json'))
      .sort(),
    ['day-1 (2).csv', 'day-1-again.csv', 'day-1.csv'],
  );
  assert.deepEqual(storedIds(s.dataDir), ['twice-1', 'twice-2']);
  assert.equal(query<{ n: number }>(s.dataDir, 'SELECT COUNT(*) AS n FROM imported_files')[0]?.n, 1);
});

test('a file still being written is not read until it is complete', async (t) => {
  const s = await dropAgent(t);
  const rows = Array.from(
    { length: 12 },
    (_, i) =>
      `slow-${i + 1},receipt,S1,2026-11-24T10:${String(i).padStart(2, '0')}:00+01:00,SKU-${i + 1},${i + 1},,,`,
  );
  const text = `${[HEADER, ...rows].join('\n')}\n`;
  // Written in pieces that cut rows in half, 50 ms apart (below stableMs), for about 3 × stableMs in all: a read
  // at any point before the end would see a partial row or miss rows.
  const pieces = 12;
  const size = Math.ceil(text.length / pieces);
  const file = join(s.drop, 'slow.csv');
  const handle = await open(file, 'w');
  const started = Date.now();
  try {
    for (let i = 0; i < pieces; i += 1) {
      await handle.write(text.slice(i * size, (i + 1) * size));
      if (i < pieces - 1) await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await handle.close();
  }
  assert.ok(Date.now() - started > STABLE_MS, 'the writing took longer than stableMs');

  const { folder, report } = await handled(s, 'slow.csv');
  assert.equal(folder, 'processed');
  assert.deepEqual([report.outcome, report.accepted, report.problems.length], ['processed', 12, 0]);
  assert.deepEqual(
    storedIds(s.dataDir),
    rows.map((_, i) => `slow-${i + 1}`),
  );
  assert.equal(readFileSync(join(s.drop, 'processed', 'slow.csv'), 'utf8'), text);
  // Read once: one report, one imported file, no row problems.
  assert.deepEqual(readdirSync(join(s.drop, 'processed')).sort(), ['slow.csv', 'slow.csv.report.json']);
  assert.deepEqual(exceptions(s.dataDir, 'bad_import_row'), []);
});

test('temporary and hidden files are left alone until renamed to their final name', async (t) => {
  const s = await dropAgent(t);
  const csv = (id: string) => [HEADER, `${id},sale,S1,2026-11-24T10:15:00+01:00,SKU-1,1,,,`, ''].join('\n');
  const ignored = ['export.csv.tmp', '.export.csv', 'export.csv.part', 'export.csv~'];
  ignored.forEach((name, i) => writeFileSync(join(s.drop, name), csv(`ignored-${i}`)));
  writeFileSync(join(s.drop, 'real.csv'), csv('real-1'));
  // The others were complete before real.csv was written, so had they been picked up, they would have been
  // handled before it: files are handled one at a time in the order they become stable.
  await handled(s, 'real.csv');
  for (const name of ignored)
    assert.ok(existsSync(join(s.drop, name)), `${name} is still in the drop folder`);
  assert.deepEqual(storedIds(s.dataDir), ['real-1']);

  // A POS that writes under a temporary name and renames when done is read once the name is final.
  renameSync(join(s.drop, 'export.csv.tmp'), join(s.drop, 'export.csv'));
  const { report } = await handled(s, 'export.csv');
  assert.equal(report.accepted, 1);
  assert.deepEqual(storedIds(s.dataDir), ['real-1', 'ignored-0']);
});

test('a semicolon-separated CSV with a byte order mark, CRLF line ends and quoted fields is read like any other', async (t) => {
  const s = await dropAgent(t);
  const csv = [
    '\uFEFFevent_id;type;location;occurred_at;sku;qty;unit_price;currency;reference',
    'eu-1;sale;S1;2026-11-24T10:15:00+01:00;"SKU;1";2;9.99;EUR;"Bon ""42"""',
    'eu-2;receipt;S2;2026-11-24T10:20:00+01:00;SKU-2;3;;;',
    'eu-3;sale;S1;2026-11-24T10:25:00+01:00;SKU-2;1;4,50;EUR;', // line 4: a decimal comma is not a price
    '',
  ].join('\r\n');
  writeFileSync(join(s.drop, 'kasse.csv'), csv);
  const { report } = await handled(s, 'kasse.csv');
  assert.equal(report.accepted, 2);
  assert.deepEqual(
    report.problems.map((p) => [p.line, p.field]),
    [[4, 'unit_price']],
  );
  const [body] = query<{ body: string }>(s.dataDir, `SELECT body FROM events WHERE event_id = 'eu-1'`);
  const event = JSON.parse(body!.body) as { reference: string; lines: { sku: string; unitPrice: string }[] };
  assert.equal(event.reference, 'Bon "42"');
  assert.deepEqual(event.lines, [{ sku: 'SKU;1', qty: 2, unitPrice: '9.99', currency: 'EUR' }]);
});

test('a CSV of more events than one ingest request holds is captured whole', async (t) => {
  const s = await dropAgent(t);
  const rows = Array.from(
    { length: 2500 },
    (_, i) => `big-${i},receipt,S1,2026-11-24T10:15:00+01:00,SKU-${i % 7},1,,,`,
  );
  rows.splice(1500, 0, 'big-bad,receipt,S1,2026-11-24T10:15:00+01:00,SKU-1,0,,,'); // line 1502
  writeFileSync(join(s.drop, 'big.csv'), `${[HEADER, ...rows].join('\n')}\n`);
  const { report } = await handled(s, 'big.csv');
  assert.deepEqual([report.outcome, report.accepted], ['processed', 2500]);
  assert.deepEqual(
    report.problems.map((p) => [p.line, p.field]),
    [[1502, 'qty']],
  );
  assert.equal(storedIds(s.dataDir).length, 2500);
});

test('files dropped while the agent is stopped are captured when it starts, and still only once', async (t) => {
  const tmp = tempDir('backroom-drop-');
  t.after(tmp.cleanup);
  const drop = join(tmp.path, 'drop');
  const dataDir = join(tmp.path, 'data');
  const config = testConfig(dataDir, { dropFolders: [{ path: drop, source: 'pos-1', stableMs: STABLE_MS }] });
  const csv = [HEADER, 'off-1,receipt,S1,2026-11-24T10:15:00+01:00,SKU-1,3,,,', ''].join('\n');

  const first = await startAgent(config);
  await first.stop();
  writeFileSync(join(drop, 'overnight.csv'), csv);
  const second = await startAgent(config);
  t.after(() => second.stop());
  const s: Setup = { a: second, drop, dataDir };
  assert.equal((await handled(s, 'overnight.csv')).report.accepted, 1);
  await second.stop();

  // The same export again, across a restart: recognised by its content.
  writeFileSync(join(drop, 'overnight-copy.csv'), csv);
  const third = await startAgent(config);
  t.after(() => third.stop());
  const again = await handled({ a: third, drop, dataDir }, 'overnight-copy.csv');
  assert.equal(again.report.outcome, 'already_imported');
  assert.deepEqual(storedIds(dataDir), ['off-1']);
});
