import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Agent as HttpAgent } from 'undici';
import { runBackroom, tempDir, testConfig, TOKEN, TOKEN_2, writeConfig } from '../support/harness.js';
import { seededRandom } from '../support/seeded-random.js';
import { AgentLives } from '../support/agent-lives.js';

/*
 * Crash safety of capture: the real `backroom serve` is killed with SIGKILL at random moments while several POS
 * clients stream events to it, and restarted on the same data directory each time. A client resends whatever
 * was in flight when the agent died, exactly as a POS would. At the end, every event a client saw acknowledged
 * (`accepted` or `duplicate`) must be stored once, at the seq it was told, and nothing else may be stored.
 */

const CLIENTS = 4;
const KILLS = 6;
const KILL_GAP_MS = { min: 150, max: 600 };
/** After the last restart, clients keep streaming this long before they stop. */
const FINAL_RUN_MS = 500;
/** The whole scenario must be over by then (the test itself fails later, at TEST_TIMEOUT_MS). */
const SCENARIO_BUDGET_MS = 80_000;
const TEST_TIMEOUT_MS = 110_000;
/** Most attempts for one request: each failed attempt means the agent died (or the test fails at once). */
const MAX_ATTEMPTS = KILLS + 2;
const SKUS = ['SKU-A', 'SKU-B', 'SKU-C', 'SKU-D', 'SKU-E'] as const;
const LOCATIONS = ['S1', 'S2'] as const;
const SOURCES = [
  { id: 'pos-1', token: TOKEN },
  { id: 'pos-2', token: TOKEN_2 },
] as const;

type CrashEvent = {
  id: string;
  type: 'sale' | 'receipt' | 'adjustment';
  location: string;
  occurredAt: string;
  lines: { sku: string; qty: number }[];
};

/** An acknowledged event as the client recorded it. */
type Ack = { source: string; event: CrashEvent; seq: number };

/** One life of the agent process; `isKilled` is set before the SIGKILL is sent. */
/** What one client did, for the assertions and for the message when one fails. */
type ClientReport = { acks: Ack[]; requests: number; resends: number; duplicatesOnResend: number };

/**
 * One POS till: posts single events and small batches over its own keep-alive connection, one request at a
 * time, until told to stop. A request cut by a crash is sent again, unchanged, to the restarted agent.
 */
async function runClient(
  index: number,
  lives: AgentLives,
  shouldStop: () => boolean,
  random: () => number,
): Promise<ClientReport> {
  const source = SOURCES[index % SOURCES.length]!;
  const dispatcher = new HttpAgent({ connections: 1, keepAliveTimeout: 30_000 });
  const report: ClientReport = { acks: [], requests: 0, resends: 0, duplicatesOnResend: 0 };
  let next = 0;
  const makeEvent = (): CrashEvent => {
    const roll = random();
    const type = roll < 0.5 ? 'sale' : roll < 0.8 ? 'receipt' : 'adjustment';
    const magnitude = 1 + Math.floor(random() * 9);
    const qty = type === 'adjustment' && random() < 0.5 ? -magnitude : magnitude;
    const lineCount = random() < 0.8 ? 1 : 2;
    // Two lines of one event never name the same SKU, so each line is its own movement.
    const first = Math.floor(random() * SKUS.length);
    const lines = Array.from({ length: lineCount }, (_, i) => ({
      sku: SKUS[(first + i) % SKUS.length]!,
      qty: i === 0 ? qty : Math.abs(qty),
    }));
    next += 1;
    return {
      id: `till-${index}:${String(next).padStart(6, '0')}`,
      type,
      location: LOCATIONS[Math.floor(random() * LOCATIONS.length)]!,
      occurredAt: '2026-11-24T10:15:00+01:00',
      lines,
    };
  };

  try {
    while (!shouldStop()) {
      const size = random() < 0.5 ? 1 : 2 + Math.floor(random() * 19);
      const events = Array.from({ length: size }, makeEvent);
      const body = JSON.stringify(size === 1 ? events[0] : { events });
      report.requests += 1;
      const { results, resends } = await lives.postEvents(source.token, body, {
        dispatcher,
        timeoutMs: 15_000,
        maxAttempts: MAX_ATTEMPTS,
        label: `till ${index}`,
      });
      const attempt = resends;
      report.resends += resends;
      assert.deepEqual(
        results.map((r) => r.id),
        events.map((e) => e.id),
        `till ${index}: results must answer each event in request order`,
      );
      results.forEach((result, i) => {
        const ok = result.status === 'accepted' || result.status === 'duplicate';
        assert.ok(ok, `till ${index}: ${result.id} was ${result.status}: ${JSON.stringify(result)}`);
        // A first attempt carries new ids only; a duplicate means the agent invented an earlier capture.
        if (attempt === 0)
          assert.equal(result.status, 'accepted', `till ${index}: ${result.id} on first send`);
        if (result.status === 'duplicate') report.duplicatesOnResend += 1;
        if (result.status === 'accepted' || result.status === 'duplicate')
          report.acks.push({ source: source.id, event: events[i]!, seq: result.seq });
      });
    }
  } finally {
    await dispatcher.close();
  }
  return report;
}

/** Signed effect of an event line on on hand, for the event types this test sends. */
function effect(type: CrashEvent['type'], qty: number): number {
  return type === 'sale' ? -qty : qty;
}

test(
  'every event acknowledged before a SIGKILL is stored exactly once after restarts, at its seq, and levels add up',
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
    t.diagnostic(`seed ${seed} (replay with CRASH_SEED=${seed})`);
    const random = seededRandom(seed);
    const dir = tempDir('backroom-crash-');
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const configFile = writeConfig(dir.path, testConfig(dataDir));
    const lives = new AgentLives(configFile);
    const deadline = Date.now() + SCENARIO_BUDGET_MS;
    t.after(() => {
      // If an assertion failed mid-run, the agent must not outlive the test.
      lives.current?.serve.proc.kill('SIGKILL');
    });

    await lives.start();
    let isStopping = false;
    const clients = Array.from({ length: CLIENTS }, (_, i) =>
      runClient(i, lives, () => isStopping || Date.now() > deadline, seededRandom(seed + i + 1)),
    );
    // A client that fails stops the scenario at once instead of waiting for the kill loop.
    const clientsDone = Promise.all(clients);
    clientsDone.catch(() => (isStopping = true));

    let kills = 0;
    try {
      while (kills < KILLS && !isStopping && Date.now() < deadline) {
        await sleep(KILL_GAP_MS.min + Math.floor(random() * (KILL_GAP_MS.max - KILL_GAP_MS.min)));
        await lives.kill();
        kills += 1;
        await lives.start();
      }
      await sleep(FINAL_RUN_MS);
    } finally {
      // Whatever happened, no client is left running past this point.
      isStopping = true;
      await Promise.allSettled(clients);
    }
    const reports = await clientsDone;
    assert.equal(kills, KILLS, 'every planned crash happened within the time budget');

    const final = lives.current;
    assert.ok(final);
    final.serve.proc.kill('SIGTERM');
    const exit = await final.serve.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `clean stop; stderr: ${final.serve.stderr()}`);

    const acks = reports.flatMap((r) => r.acks);
    const resends = reports.reduce((n, r) => n + r.resends, 0);
    const duplicates = reports.reduce((n, r) => n + r.duplicatesOnResend, 0);
    t.diagnostic(
      `${kills} kills, ${reports.reduce((n, r) => n + r.requests, 0)} requests, ${acks.length} events acknowledged, ` +
        `${resends} resends after a crash, ${duplicates} events answered duplicate on resend`,
    );
    assert.ok(acks.length > 0, 'clients got events acknowledged');
    // Without a cut request the test would not have exercised the crash path at all.
    assert.ok(resends > 0, 'at least one request was in flight when the agent was killed');

    const db = new BetterSqlite3(join(dataDir, 'backroom.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT seq, source, event_id FROM events ORDER BY seq').all() as {
        seq: number;
        source: string;
        event_id: string;
      }[];
      rows.forEach((row, i) => assert.equal(row.seq, i + 1, 'seqs run from 1 without gaps'));
      const stored = new Map<string, number>();
      for (const row of rows) {
        const key = `${row.source}\u0000${row.event_id}`;
        assert.ok(!stored.has(key), `${row.source} ${row.event_id} is stored twice`);
        stored.set(key, row.seq);
      }
      const acked = new Map<string, Ack>();
      for (const ack of acks) {
        const key = `${ack.source}\u0000${ack.event.id}`;
        assert.ok(!acked.has(key), `${ack.source} ${ack.event.id} was acknowledged twice`);
        acked.set(key, ack);
        assert.equal(
          stored.get(key),
          ack.seq,
          `${ack.source} ${ack.event.id} is stored at the seq it was told`,
        );
      }
      // Every request was eventually answered, so nothing unacknowledged may remain either.
      assert.equal(rows.length, acked.size, 'the log holds exactly the acknowledged events');

      const expected = new Map<string, number>();
      for (const { event } of acks) {
        for (const line of event.lines) {
          const key = `${line.sku}@${event.location}`;
          expected.set(key, (expected.get(key) ?? 0) + effect(event.type, line.qty));
        }
      }
      const levels = db.prepare('SELECT sku, location, on_hand FROM stock_levels').all() as {
        sku: string;
        location: string;
        on_hand: number;
      }[];
      const actual = new Map(levels.map((l) => [`${l.sku}@${l.location}`, l.on_hand]));
      assert.deepEqual(
        Object.fromEntries([...actual].sort()),
        Object.fromEntries([...expected].sort()),
        'stock levels equal the sum of the acknowledged events',
      );
    } finally {
      db.close();
    }

    const verify = await runBackroom(['verify', '--config', configFile]);
    assert.equal(verify.code, 0, `backroom verify: ${verify.stdout}${verify.stderr}`);
  },
);
