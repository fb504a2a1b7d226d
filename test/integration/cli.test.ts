// The `backroom` command line of CONTRACT.md (issue 2): exit codes, config errors that name the field, serve and
// its data directory lock, status with and without a running agent, import once, verify. Every test spawns the
// real CLI; the database is checked by opening its SQLite file read-only.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { StatusResponse } from '../../shared/api.js';
import type { ConfigInput } from '../../shared/config.js';
import { DATABASE_FILE } from '../../src-main/agent/agent.js';
import { LOCK_FILE } from '../../src-main/agent/data-dir-lock.js';
import type { ImportReport } from '../../src-main/capture/import-file.js';
import {
  makeEvent,
  runBackroom,
  spawnServe,
  tempDir,
  testConfig,
  TOKEN,
  writeConfig,
  type ServeProcess,
} from '../support/harness.js';

/** A temp folder with a config file whose data directory is `<folder>/data`. */
function setup(
  t: TestContext,
  overrides: Partial<ConfigInput> = {},
): { dir: string; dataDir: string; configFile: string } {
  const tmp = tempDir('backroom-cli-');
  t.after(tmp.cleanup);
  const dataDir = join(tmp.path, 'data');
  const configFile = writeConfig(tmp.path, testConfig(dataDir, overrides));
  return { dir: tmp.path, dataDir, configFile };
}

/** Runs `serve` in a child process; the test stops it with SIGTERM (or it is killed after the test). */
async function serve(t: TestContext, configFile: string): Promise<ServeProcess> {
  const server = await spawnServe(configFile);
  t.after(async () => {
    if (server.proc.exitCode === null && server.proc.signalCode === null) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
  });
  return server;
}

async function stopServe(server: ServeProcess): Promise<void> {
  server.proc.kill('SIGTERM');
  const { code, signal } = await server.exited;
  assert.equal(signal, null, `serve ended by ${signal}; stderr: ${server.stderr()}`);
  assert.equal(code, 0, `serve exit code; stderr: ${server.stderr()}`);
}

/** Event ids in the database file, in capture order (read-only, so it works while an agent runs). */
function storedIds(dataDir: string): string[] {
  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT event_id FROM events ORDER BY seq').all() as { event_id: string }[]).map(
      (r) => r.event_id,
    );
  } finally {
    db.close();
  }
}

/**
 * A drop-folder CSV (columns of CSV_COLUMNS in src-main/capture/export-file.ts): one row per event line, rows of
 * one event sharing its event_id.
 */
function exportCsv(prefix: string): string {
  return [
    'event_id,type,location,occurred_at,sku,qty,unit_price,currency,reference',
    `${prefix}-1,sale,S1,2026-11-24T10:15:00+01:00,SKU-1,2,9.99,EUR,R-1`,
    `${prefix}-1,sale,S1,2026-11-24T10:15:00+01:00,SKU-2,1,4.50,EUR,R-1`,
    `${prefix}-2,receipt,S1,2026-11-24T11:00:00+01:00,SKU-1,10,,,`,
    `${prefix}-3,return,S2,2026-11-24T12:00:00+01:00,SKU-2,1,4.50,EUR,R-2`,
    '',
  ].join('\n');
}

async function post(address: string, body: unknown): Promise<void> {
  const response = await fetch(`${address}/api/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
}

// ---- config errors: exit 2, a message naming the field, nothing created ----

/** Runs `serve` on a bad config: it must exit 2 before it creates anything. */
async function serveBadConfig(
  t: TestContext,
  content: string | Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
): Promise<{ stderr: string; configFile: string }> {
  const tmp = tempDir('backroom-cli-');
  t.after(tmp.cleanup);
  const configFile = join(tmp.path, 'config.json');
  writeFileSync(configFile, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  const result = await runBackroom(['serve', '--config', configFile], { env, timeoutMs: 30_000 });
  assert.equal(result.code, 2, `exit code; stdout: ${result.stdout}; stderr: ${result.stderr}`);
  assert.doesNotMatch(result.stdout, /listening/);
  assert.equal(existsSync(join(tmp.path, 'data')), false, 'a data directory was created');
  return { stderr: result.stderr, configFile };
}

test('a config file that is not JSON exits 2 naming the file and the JSON problem', async (t) => {
  const { stderr, configFile } = await serveBadConfig(t, '{ "agentId": "store-1", "dataDir": "./data", ');
  assert.match(stderr, /is not valid JSON/);
  assert.ok(stderr.includes(configFile), stderr);
});

test('unknown keys in the config exit 2 naming each key with its path', async (t) => {
  const config = {
    ...testConfig('./data'),
    colour: 'red',
    listen: { host: '127.0.0.1', port: 0, hots: 'x' },
  };
  const { stderr } = await serveBadConfig(t, config);
  assert.match(stderr, /^ {2}listen: unknown key "hots"$/m);
  assert.match(stderr, /^ {2}\(top level\): unknown key "colour"$/m);
});

test('a config missing required fields exits 2 naming each field path', async (t) => {
  const config: Record<string, unknown> = {
    ...testConfig('./data'),
    sources: [{ id: 'pos-1' }],
    locations: [{ id: 'S1', name: 'Store one' }, { name: 'no id' }],
  };
  delete config.agentId;
  const { stderr } = await serveBadConfig(t, config);
  assert.match(stderr, /^ {2}agentId: /m);
  assert.match(stderr, /^ {2}sources\.0\.token: /m);
  assert.match(stderr, /^ {2}locations\.1\.id: /m);
});

test('a secret from an environment variable that is not set exits 2 naming the field and the variable', async (t) => {
  const variable = `BACKROOM_TEST_UNSET_${process.pid}`;
  const config = {
    ...testConfig('./data'),
    sources: [{ id: 'pos-1', token: { env: variable } }],
    destinations: [
      { id: 'hq', type: 'webhook', url: 'http://127.0.0.1:1/events', secret: { file: 'no-such-secret' } },
    ],
  };
  const { stderr } = await serveBadConfig(t, config, { [variable]: undefined });
  assert.match(
    stderr,
    new RegExp(`^ {2}sources\\.0\\.token: environment variable ${variable} is not set$`, 'm'),
  );
  assert.match(stderr, /^ {2}destinations\.0\.secret: cannot read secret file .*no-such-secret: ENOENT$/m);
});

test('the same config is accepted once its environment variable and secret file exist', async (t) => {
  const variable = `BACKROOM_TEST_SET_${process.pid}`;
  const { dir, configFile } = setup(t, {
    sources: [{ id: 'pos-1', token: { env: variable } }],
    destinations: [
      { id: 'hq', type: 'webhook', url: 'http://127.0.0.1:1/events', secret: { file: 'hq-secret' } },
    ],
  });
  writeFileSync(join(dir, 'hq-secret'), 'from-a-file\n');
  // `verify` gets past the config and fails at the missing database: exit 1, not 2.
  const result = await runBackroom(['verify', '--config', configFile], { env: { [variable]: 'from-env' } });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /No database at/);
  assert.doesNotMatch(result.stderr, /Invalid/);
});

test('an unknown command exits 2', async () => {
  const result = await runBackroom(['frobnicate', '--config', 'x.json']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command 'frobnicate'/);
});

test('a command without --config exits 2 naming the option', async () => {
  for (const command of ['serve', 'status', 'verify']) {
    const result = await runBackroom([command]);
    assert.equal(result.code, 2, `${command}: ${result.stderr}`);
    assert.match(result.stderr, /required option '-c, --config <file>' not specified/, command);
  }
});

test('import without a file exits 2 naming the missing argument', async (t) => {
  const { configFile } = setup(t);
  const result = await runBackroom(['import', '--config', configFile]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /missing required argument 'path'/);
});

test('serve --port that is not a port exits 2 naming the option', async (t) => {
  const { configFile } = setup(t);
  const result = await runBackroom(['serve', '--config', configFile, '--port', 'eighty'], {
    timeoutMs: 30_000,
  });
  assert.equal(result.code, 2, result.stdout);
  assert.match(
    result.stderr,
    /option '--port <port>' argument 'eighty' is invalid\. --port must be a whole number/,
  );
});

// ---- serve, the lock, status ----

test('serve prints its address, a second serve on the same data directory exits 1 naming the running agent, and SIGTERM stops the first with exit 0', async (t) => {
  const { dataDir, configFile } = setup(t);
  const first = await serve(t, configFile);
  assert.match(first.address, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(first.stdout(), new RegExp(`agent "store-test" listening on ${first.address}`));
  const health = await fetch(`${first.address}/api/v1/health`);
  assert.equal(health.status, 200);

  const second = await runBackroom(['serve', '--config', configFile], { timeoutMs: 30_000 });
  assert.equal(second.code, 1, second.stdout);
  assert.doesNotMatch(second.stdout, /listening/);
  assert.ok(
    second.stderr.includes(
      `Another Backroom agent (pid ${first.proc.pid}, ${first.address}) already runs on ${dataDir}`,
    ),
    second.stderr,
  );
  // The refused one left the first agent's lock and service alone.
  const lock = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as { pid: number; address: string };
  assert.equal(lock.pid, first.proc.pid);
  assert.equal((await fetch(`${first.address}/api/v1/health`)).status, 200);

  await stopServe(first);
  assert.match(first.stdout(), /SIGTERM: stopping\nstopped\n/);
  assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'the lock is released');
});

test('serve stops cleanly with exit 0 on a SIGTERM sent as soon as it has printed its address', async (t) => {
  const { dataDir, configFile } = setup(t);
  // A race: the address was once printed before the signal handlers were installed, and an early SIGTERM killed
  // the agent outright. Several rounds, since one may miss the window.
  for (let round = 0; round < 4; round += 1) {
    const server = await serve(t, configFile);
    server.proc.kill('SIGTERM');
    const { code, signal } = await server.exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `round ${round}: ${server.stdout()}`);
    assert.match(server.stdout(), /SIGTERM: stopping\nstopped\n$/);
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, `round ${round}: the lock is released`);
  }
});

test('status reports a running agent through its lock file, and the stopped one from the database', async (t) => {
  const { configFile } = setup(t, {
    destinations: [{ id: 'hq', type: 'webhook', url: 'http://127.0.0.1:1/events', secret: 'hmac-secret' }],
  });
  const server = await serve(t, configFile);
  await post(server.address, {
    events: [
      makeEvent({ id: 'st-1', type: 'receipt' }),
      makeEvent({ id: 'st-2', type: 'receipt', location: 'S9' }),
    ],
  });

  const runningJson = await runBackroom(['status', '--config', configFile, '--json']);
  assert.equal(runningJson.code, 0, runningJson.stderr);
  const running = JSON.parse(runningJson.stdout) as StatusResponse;
  assert.equal(running.running, true);
  assert.equal(running.agentId, 'store-test');
  assert.equal(running.events, 2);
  assert.equal(running.lastSeq, 2);
  assert.deepEqual(
    running.destinations.map((d) => [d.id, d.type, d.pending > 0]),
    [['hq', 'webhook', true]],
  );
  assert.deepEqual(running.openExceptions, [{ kind: 'unknown_location', count: 1 }]);

  const runningText = await runBackroom(['status', '--config', configFile]);
  assert.equal(runningText.code, 0, runningText.stderr);
  assert.match(runningText.stdout, new RegExp(`store-test \\(running at ${server.address}\\)`));
  assert.match(runningText.stdout, /events {4}2 captured, last seq 2/);
  assert.match(runningText.stdout, /^ {2}hq +webhook +(closed|half_open|open|paused) +\d+ pending/m);
  assert.match(runningText.stdout, /^ {2}unknown_location +1$/m);

  await stopServe(server);

  const stoppedJson = await runBackroom(['status', '--config', configFile, '--json']);
  assert.equal(stoppedJson.code, 0, stoppedJson.stderr);
  const stopped = JSON.parse(stoppedJson.stdout) as StatusResponse;
  assert.equal(stopped.running, false);
  assert.equal(stopped.events, 2);
  assert.deepEqual(stopped.openExceptions, [{ kind: 'unknown_location', count: 1 }]);

  const stoppedText = await runBackroom(['status', '--config', configFile]);
  assert.equal(stoppedText.code, 0, stoppedText.stderr);
  assert.match(stoppedText.stdout, /store-test \(not running\)/);
  assert.match(stoppedText.stdout, /events {4}2 captured/);
});

test('a lock left by a killed agent neither blocks status nor a new serve', async (t) => {
  const { dataDir, configFile } = setup(t);
  const killed = await serve(t, configFile);
  await post(killed.address, makeEvent({ id: 'k-1', type: 'receipt' }));
  killed.proc.kill('SIGKILL');
  assert.equal((await killed.exited).signal, 'SIGKILL');
  assert.ok(existsSync(join(dataDir, LOCK_FILE)), 'the killed agent left its lock');

  const status = await runBackroom(['status', '--config', configFile, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout) as StatusResponse;
  assert.deepEqual([report.running, report.events], [false, 1]);

  const next = await serve(t, configFile);
  const lock = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as { pid: number };
  assert.equal(lock.pid, next.proc.pid);
  await stopServe(next);
  assert.deepEqual(storedIds(dataDir), ['k-1']);
});

test('status before the agent ever ran exits 1 naming the missing database', async (t) => {
  const { dataDir, configFile } = setup(t);
  const result = await runBackroom(['status', '--config', configFile]);
  assert.equal(result.code, 1);
  assert.ok(result.stderr.includes(`No database at ${join(dataDir, DATABASE_FILE)}`), result.stderr);
});

// ---- import and verify ----

test('import with no agent running captures a CSV once; importing it again captures nothing new', async (t) => {
  const { dir, dataDir, configFile } = setup(t);
  const file = join(dir, 'export.csv');
  writeFileSync(file, exportCsv('off'));

  const first = await runBackroom(['import', '--config', configFile, file]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stdout,
    /export\.csv: processed; 3 event\(s\) captured, 0 already there, 0 row problem\(s\)/,
  );
  assert.deepEqual(storedIds(dataDir), ['off-1', 'off-2', 'off-3']);
  assert.ok(existsSync(file), 'import leaves the file where it is');
  assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'the offline import released the lock');

  const again = await runBackroom(['import', '--config', configFile, file, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const report = JSON.parse(again.stdout) as ImportReport;
  assert.equal(report.outcome, 'already_imported');
  assert.equal(report.accepted, 0);
  assert.deepEqual(storedIds(dataDir), ['off-1', 'off-2', 'off-3']);
});

test('import while the agent runs hands the file to it, captures it once, and nothing twice', async (t) => {
  const { dir, dataDir, configFile } = setup(t);
  // One file imported before the agent starts...
  const before = join(dir, 'before.csv');
  writeFileSync(before, exportCsv('pre'));
  assert.equal((await runBackroom(['import', '--config', configFile, before, '--source', 'pos-1'])).code, 0);

  const server = await serve(t, configFile);
  // ...one while it runs, with some events the POS already sent over HTTP.
  await post(
    server.address,
    makeEvent({
      id: 'run-2',
      type: 'receipt',
      occurredAt: '2026-11-24T11:00:00+01:00',
      lines: [{ sku: 'SKU-1', qty: 10 }],
    }),
  );
  const during = join(dir, 'during.csv');
  writeFileSync(during, exportCsv('run'));
  const first = await runBackroom(['import', '--config', configFile, during, '--source', 'pos-1', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout) as ImportReport;
  assert.deepEqual([report.outcome, report.accepted, report.duplicate], ['processed', 2, 1]);
  assert.deepEqual(storedIds(dataDir), ['pre-1', 'pre-2', 'pre-3', 'run-2', 'run-1', 'run-3']);

  for (const file of [during, before]) {
    const again = await runBackroom(['import', '--config', configFile, file, '--source', 'pos-1']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already_imported; 0 event\(s\) captured/);
  }
  // A copy under another name is the same content: not captured again either.
  const copy = join(dir, 'copy-of-during.csv');
  writeFileSync(copy, readFileSync(during));
  assert.match(
    (await runBackroom(['import', '--config', configFile, copy, '--source', 'pos-1'])).stdout,
    /already_imported/,
  );
  assert.deepEqual(storedIds(dataDir), ['pre-1', 'pre-2', 'pre-3', 'run-2', 'run-1', 'run-3']);
  await stopServe(server);
});

test('import of a file that does not exist exits 1 naming it', async (t) => {
  const { dir, dataDir, configFile } = setup(t);
  const missing = join(dir, 'nope.csv');
  const result = await runBackroom(['import', '--config', configFile, missing]);
  assert.equal(result.code, 1);
  assert.ok(result.stderr.includes(`No file at ${missing}`), result.stderr);
  assert.equal(existsSync(join(dataDir, DATABASE_FILE)), false);
});

test('verify exits 0 on a clean database and 1 naming the event once a stored event is edited', async (t) => {
  const { dir, dataDir, configFile } = setup(t);
  const file = join(dir, 'export.csv');
  writeFileSync(file, exportCsv('v'));
  assert.equal((await runBackroom(['import', '--config', configFile, file])).code, 0);

  const clean = await runBackroom(['verify', '--config', configFile]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stdout, /^ok: 3 events, hash chain intact up to seq 3, levels match movements$/m);

  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE));
  try {
    db.prepare(`UPDATE events SET body = replace(body, '"qty":10', '"qty":100') WHERE seq = 2`).run();
  } finally {
    db.close();
  }
  const edited = await runBackroom(['verify', '--config', configFile]);
  assert.equal(edited.code, 1);
  assert.match(edited.stderr, /verify FAILED/);
  assert.match(edited.stderr, /event 2: its content was changed after capture/);
});

test('channels buffer sets a buffer through the running agent (audited under the operator), list shows it, and offline it is set back to the config file’s; bad input exits 2 naming it', async (t) => {
  const { dataDir, configFile } = setup(t, {
    channels: [{ id: 'web', buffer: 3 }],
    destinations: [
      { id: 'mkt', type: 'level_webhook', url: 'http://127.0.0.1:1/levels', secret: 'hmac', channel: 'web' },
    ],
  });
  const server = await serve(t, configFile);
  const set = await runBackroom([
    ...['channels', 'buffer', '--config', configFile, 'web', '8'],
    ...['--reason', 'Black Friday', '--operator', 'Maria'],
  ]);
  assert.equal(set.code, 0, set.stderr);
  assert.match(
    set.stdout,
    /^web +8 +set \d{4}-\d\d-\d\d \d\d:\d\d UTC by Maria: "Black Friday" \(config file: 3\) +mkt$/m,
  );

  const bad: [string[], RegExp][] = [
    [['web', 'eight', '--reason', 'x'], /"eight" is not a buffer/],
    [['web', '-1', '--reason', 'x'], /not a buffer|unknown option/],
    [['shop', '2', '--reason', 'x'], /channel "shop" is not configured; the channels are: web/],
    [['web', '2', '--reason', '  '], /--reason: say why/],
    [['web', '2'], /required option '--reason <text>'/],
  ];
  for (const [args, message] of bad) {
    const result = await runBackroom(['channels', 'buffer', '--config', configFile, ...args]);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
  }
  await stopServe(server);

  const listed = await runBackroom(['channels', 'list', '--config', configFile, '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const { channels } = JSON.parse(listed.stdout) as { channels: { channel: string; buffer: number }[] };
  assert.deepEqual(
    channels.map((c) => [c.channel, c.buffer]),
    [['web', 8]],
    'kept over the restart',
  );

  const reset = await runBackroom([
    ...['channels', 'buffer', '--config', configFile, 'web', 'config'],
    ...['--reason', 'Black Friday is over'],
  ]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, /^web +3 +config file +mkt$/m);

  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE), { readonly: true });
  t.after(() => db.close());
  const audit = db
    .prepare(`SELECT operator, action, reason FROM audit_log WHERE subject = 'channel:web' ORDER BY id`)
    .all() as { operator: string; action: string; reason: string }[];
  assert.deepEqual(
    audit.map((a) => [a.action, a.reason]),
    [
      ['channels.buffer_set', 'Black Friday'],
      ['channels.buffer_reset', 'Black Friday is over'],
    ],
  );
  assert.equal(audit[0]!.operator, 'Maria');
  assert.match(audit[1]!.operator, /^cli:/);
});
