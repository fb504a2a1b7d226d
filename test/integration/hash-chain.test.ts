import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { ConfigInput } from '../../shared/config.js';
import { Agent, DATABASE_FILE } from '../../src-main/agent/agent.js';
import { parseConfig } from '../../src-main/agent/config-loader.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { linkHash, sha256, verifyChain, type VerifyReport } from '../../src-main/capture/hash-chain.js';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { makeEvent, runBackroom, tempDir, testConfig, writeConfig } from '../support/harness.js';

function startAgent(config: ConfigInput, baseDir = process.cwd()): Promise<Agent> {
  return Agent.start({
    config: parseConfig(config, baseDir, {}),
    logger: createLogger({ level: 'silent' }),
    isServing: false,
  });
}

/** Five events (seq 1 to 5) across two items and two locations, captured by a real agent that is then stopped. */
async function capturedLog(t: TestContext): Promise<{ dir: string; dataDir: string; file: string }> {
  const dir = tempDir();
  t.after(dir.cleanup);
  const dataDir = join(dir.path, 'data');
  const agent = await startAgent(testConfig(dataDir));
  try {
    const results = await agent.capture.capture('pos-1', [
      makeEvent({
        id: 'e1',
        type: 'receipt',
        lines: [
          { sku: 'A', qty: 10 },
          { sku: 'B', qty: 4 },
        ],
      }),
      makeEvent({ id: 'e2', lines: [{ sku: 'A', qty: 2 }] }),
      makeEvent({ id: 'e3', type: 'receipt', location: 'S2', lines: [{ sku: 'A', qty: 7 }] }),
    ]);
    results.push(
      ...(await agent.capture.capture('pos-2', [
        makeEvent({ id: 'e4', type: 'count', lines: [{ sku: 'B', qty: 3 }] }),
        makeEvent({ id: 'e5', type: 'return', lines: [{ sku: 'A', qty: 1 }] }),
      ])),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['accepted', 'accepted', 'accepted', 'accepted', 'accepted'],
    );
  } finally {
    await agent.stop();
  }
  return { dir: dir.path, dataDir, file: join(dataDir, DATABASE_FILE) };
}

/** Changes the stopped agent's database file behind Backroom's back. */
function tamper(file: string, sql: string, ...params: unknown[]): void {
  const raw = new BetterSqlite3(file);
  try {
    const changes = raw.prepare(sql).run(...params).changes;
    assert.ok(changes > 0, `the tampering changed nothing: ${sql}`);
  } finally {
    raw.close();
  }
}

function verify(file: string): VerifyReport {
  const db = AgentDatabase.open(file, { isReadonly: true });
  try {
    return verifyChain(db);
  } finally {
    db.close();
  }
}

function assertCaught(report: VerifyReport, expected: { seq: number | null; problem: RegExp }): void {
  assert.equal(report.isOk, false, 'verify must fail');
  assert.ok(
    report.problems.some((p) => p.seq === expected.seq && expected.problem.test(p.problem)),
    `expected a problem at ${String(expected.seq)} matching ${String(expected.problem)}, got ${JSON.stringify(report.problems)}`,
  );
}

describe('verifyChain', () => {
  test('a clean log verifies, counting its events', async (t) => {
    const { file } = await capturedLog(t);
    const report = verify(file);
    assert.deepEqual(report, { isOk: true, events: 5, lastSeq: 5, problems: [] });
  });

  test('an empty log verifies', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const db = AgentDatabase.open(join(dir.path, 'empty.db'));
    t.after(() => db.close());
    assert.deepEqual(verifyChain(db), { isOk: true, events: 0, lastSeq: 0, problems: [] });
  });

  test('an edited event body is caught at that event', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, `UPDATE events SET body = replace(body, '"qty":2', '"qty":1') WHERE seq = 2`);
    const report = verify(file);
    assertCaught(report, { seq: 2, problem: /changed after capture/ });
    assert.deepEqual([...new Set(report.problems.map((p) => p.seq))], [2], 'only the edited event is named');
  });

  test('an edited body whose own hashes were recomputed is caught at the next event', async (t) => {
    const { file } = await capturedLog(t);
    const raw = new BetterSqlite3(file);
    const row = raw.prepare('SELECT * FROM events WHERE seq = 2').get() as {
      source: string;
      received_at: number;
      body: string;
      prev_hash: string;
    };
    const body = row.body.replace('"qty":2', '"qty":1');
    raw
      .prepare('UPDATE events SET body = ?, content_hash = ?, hash = ? WHERE seq = 2')
      .run(
        body,
        sha256(body),
        linkHash(row.prev_hash, { seq: 2, source: row.source, receivedAt: row.received_at, body }),
      );
    raw.close();
    assertCaught(verify(file), { seq: 3, problem: /does not link/ });
  });

  test('an edited capture time is caught (the clock at capture is part of the link)', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, 'UPDATE events SET received_at = received_at - 86400000 WHERE seq = 3');
    assertCaught(verify(file), { seq: 3, problem: /changed after capture/ });
  });

  test('an edited indexed column that no longer matches the body is caught', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, `UPDATE events SET type = 'return' WHERE seq = 2`);
    assertCaught(verify(file), { seq: 2, problem: /differ from the captured body/ });
  });

  test('an event moved to another source is caught', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, `UPDATE events SET source = 'pos-2' WHERE seq = 1`);
    assertCaught(verify(file), { seq: 1, problem: /changed after capture/ });
  });

  test('a deleted event in the middle is caught, naming the missing seq', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, 'DELETE FROM events WHERE seq = 3');
    const report = verify(file);
    assertCaught(report, { seq: 4, problem: /events 3 to 3 are missing/ });
    assertCaught(report, { seq: 4, problem: /does not link/ });
  });

  test('a deleted first event is caught', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, 'DELETE FROM events WHERE seq = 1');
    assertCaught(verify(file), { seq: 2, problem: /missing/ });
  });

  test('a deleted last event is caught by the chain head', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, 'DELETE FROM events WHERE seq = 5');
    const report = verify(file);
    assertCaught(report, { seq: 5, problem: /ends at event 4/ });
    assert.equal(report.lastSeq, 4);
  });

  test('deleting every event is caught by the chain head', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, 'DELETE FROM events');
    assertCaught(verify(file), { seq: 5, problem: /ends at event 0/ });
  });

  test('a deleted chain head is caught', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, 'DELETE FROM chain_head');
    assertCaught(verify(file), { seq: null, problem: /chain head record is missing/ });
  });

  test('an edited movement no longer adds up to its level and is caught', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, `UPDATE movements SET delta = -1 WHERE event_seq = 2`);
    assertCaught(verify(file), {
      seq: null,
      problem: /stock of A at S1 is 9 but its movements add up to 10/,
    });
  });

  test('an edited level no longer matches its movements and is caught', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, `UPDATE stock_levels SET on_hand = 100 WHERE sku = 'B' AND location = 'S1'`);
    assertCaught(verify(file), {
      seq: null,
      problem: /stock of B at S1 is 100 but its movements add up to 3/,
    });
  });

  test('a deleted movement is caught', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, `DELETE FROM movements WHERE event_seq = 3`);
    assertCaught(verify(file), { seq: null, problem: /stock of A at S2 is 7 but its movements add up to 0/ });
  });

  test('a deleted level row whose movements do not add up to zero is caught', async (t) => {
    const { file } = await capturedLog(t);
    tamper(file, `DELETE FROM stock_levels WHERE sku = 'A' AND location = 'S2'`);
    assertCaught(verify(file), {
      seq: null,
      problem: /stock of A at S2 has no level row but its movements add up to 7/,
    });
  });

  test('verify reads safely while the agent runs', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const agent = await startAgent(testConfig(join(dir.path, 'data')));
    t.after(() => agent.stop());
    await agent.capture.capture('pos-1', [makeEvent({ id: 'live' })]);
    const report = verify(join(dir.path, 'data', DATABASE_FILE));
    assert.deepEqual(report, { isOk: true, events: 1, lastSeq: 1, problems: [] });
  });
});

describe('backroom verify', () => {
  async function configured(t: TestContext): Promise<{ configFile: string; file: string }> {
    const { dir, dataDir, file } = await capturedLog(t);
    return { configFile: writeConfig(dir, testConfig(dataDir)), file };
  }

  test('exits 0 on a clean log and says how many events it checked', async (t) => {
    const { configFile } = await configured(t);
    const run = await runBackroom(['verify', '--config', configFile]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ok: 5 events, hash chain intact up to seq 5/);
  });

  test('exits 1 on a tampered log with a message naming the event', async (t) => {
    const { configFile, file } = await configured(t);
    tamper(file, `UPDATE events SET body = replace(body, '"qty":2', '"qty":1') WHERE seq = 2`);
    const run = await runBackroom(['verify', '--config', configFile]);
    assert.equal(run.code, 1, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
    assert.match(run.stderr, /verify FAILED/);
    assert.match(run.stderr, /event 2: its content was changed after capture/);
    assert.doesNotMatch(run.stdout, /^ok/);
  });

  test('exits 1 when the last event was deleted', async (t) => {
    const { configFile, file } = await configured(t);
    tamper(file, 'DELETE FROM events WHERE seq = 5');
    const run = await runBackroom(['verify', '--config', configFile]);
    assert.equal(run.code, 1, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
    assert.match(run.stderr, /event 5: /);
  });
});
