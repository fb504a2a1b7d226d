import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { IngestResponse } from '../../shared/api.js';
import { DATABASE_FILE } from '../../src-main/agent/agent.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { FaultSink } from '../simulators/fault-sink.js';
import {
  makeEvent,
  ROOT,
  runBackroom,
  spawnServe,
  tempDir,
  testConfig,
  TOKEN,
  writeConfig,
} from '../support/harness.js';

const UNIT = join(ROOT, 'deploy/systemd/backroom.service');
/** The webhook destination's request rate in the load test (one event per request). */
const RATE = 200;

/** Where each of `ids` (event ids of pos-1) stands in the agent's database: its seq and outbox row, or "not stored". */
function undeliveredReport(file: string, ids: readonly string[]): string {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const row = db.prepare(
      `SELECT e.seq, o.state, o.attempts, o.last_error AS lastError, o.next_attempt_at AS nextAttemptAt
         FROM events e LEFT JOIN outbox o ON o.event_seq = e.seq
        WHERE e.source = 'pos-1' AND e.event_id = ?`,
    );
    const lines = ids.map((id) => {
      const r = row.get(id) as Record<string, unknown> | undefined;
      return `${id}: ${r === undefined ? 'not stored' : JSON.stringify(r)}`;
    });
    return `Not delivered (${ids.length}):\n${lines.join('\n')}`;
  } finally {
    db.close();
  }
}
const SECRET = 'service-secret-0123456789';

function hasSystemdAnalyze(): boolean {
  return spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Polls `check` until it returns a value, or fails after `timeoutMs`. */
async function eventually<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = check();
    } catch {
      // not there yet (the log worker creates the folder and files asynchronously)
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('headless service', () => {
  test('the systemd unit passes systemd-analyze verify without a warning', (t) => {
    if (!hasSystemdAnalyze()) {
      console.log('# skipped: systemd-analyze is not installed on this machine');
      t.skip('systemd-analyze is not installed');
      return;
    }
    const dir = tempDir();
    t.after(dir.cleanup);
    const unit = readFileSync(UNIT, 'utf8');
    // verify checks that ExecStart names an executable: point it at this machine's node and our launcher.
    const local = unit.replace(
      /^ExecStart=\/usr\/bin\/node \/opt\/backroom\/bin\/backroom\.js /m,
      `ExecStart=${process.execPath} ${join(ROOT, 'bin/backroom.js')} `,
    );
    assert.notEqual(local, unit, 'the ExecStart line was found');
    const file = join(dir.path, 'backroom.service');
    writeFileSync(file, local);
    const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '', 'no warnings (unknown keys and bad values are only warnings)');
    for (const line of [
      'KillSignal=SIGTERM',
      'Restart=on-failure',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/backroom /var/log/backroom',
      'User=backroom',
    ])
      assert.ok(new RegExp(`^${line}$`, 'm').test(unit), `the unit sets ${line}`);
    assert.match(unit, /^TimeoutStopSec=\d+$/m);
  });

  test('the log file rotates by size and keeps the newest files only', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const logger = createLogger({
      file: join(dir.path, 'logs', 'agent.log'),
      rotate: { maxSize: '1k', keep: 2 },
    });
    // Written in bursts, as an agent logs, each once the one before reached the file: pino-roll checks the size
    // after each write of its stream, and a busy machine would otherwise hand it everything in one write.
    const logs = join(dir.path, 'logs');
    const written = () =>
      readdirSync(logs)
        .map((f) => readFileSync(join(logs, f), 'utf8'))
        .join('');
    for (let burst = 0; burst < 15; burst += 1) {
      for (let i = 0; i < 10; i += 1) logger.info({ burst, i, pad: 'x'.repeat(60) }, 'line');
      await eventually(
        () => (written().includes(`"burst":${burst},"i":9,`) ? true : undefined),
        `burst ${burst}`,
      );
    }
    logger.info('last line');
    const files = await eventually(() => {
      const names = readdirSync(join(dir.path, 'logs')).filter((f) => /^agent\.\d+\.log$/.test(f));
      const text = names.map((f) => readFileSync(join(dir.path, 'logs', f), 'utf8')).join('');
      // Old files are removed right after a rotation, asynchronously: wait for that too.
      return text.includes('last line') && names.length <= 3 ? names : undefined;
    }, 'the last line to be written');
    const numbers = files.map((f) => Number(f.split('.')[1]));
    assert.ok(Math.max(...numbers) > 3, `rotated several times (${files.join(', ')})`);
    assert.ok(files.length <= 3, `kept the current file and 2 rotated ones (${files.join(', ')})`);
    for (const f of files) {
      const text = readFileSync(join(dir.path, 'logs', f), 'utf8');
      for (const line of text.trim().split('\n'))
        assert.equal((JSON.parse(line) as { pid: number }).pid, process.pid);
    }
  });

  test('start, SIGTERM under load and restart lose nothing: every acknowledged event is stored once and delivered', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const sink = await FaultSink.start({ secret: SECRET, latencyMs: { min: 2, max: 15 } });
    t.after(() => sink.stop());
    const configFile = writeConfig(
      dir.path,
      testConfig(join(dir.path, 'data'), {
        destinations: [
          {
            id: 'hq',
            type: 'webhook',
            url: `${sink.url}/events`,
            secret: SECRET,
            requestsPerSecond: RATE,
          },
        ],
        delivery: { baseDelayMs: 20, maxDelayMs: 200 },
      }),
    );
    const logFile = join(dir.path, 'logs', 'agent.log');
    const serveArgs = ['--log-file', logFile, '--log-level', 'info'];
    const acks = new Map<string, number>();
    let address = '';
    let isStopping = false;
    const client = async (c: number) => {
      for (let n = 0; !isStopping; n += 1) {
        const events = [0, 1, 2].map((i) =>
          makeEvent({ id: `c${c}-${n}-${i}`, location: c % 2 ? 'S2' : 'S1' }),
        );
        try {
          const response = await fetch(`${address}/api/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ events }),
          });
          if (response.status !== 200) continue;
          for (const r of ((await response.json()) as IngestResponse).results)
            if (r.status === 'accepted' || r.status === 'duplicate') acks.set(r.id, r.seq);
        } catch {
          await sleep(20); // the agent is stopping or restarting: try again, as a POS would
        }
      }
    };

    const first = await spawnServe(configFile, serveArgs);
    t.after(() => first.proc.kill('SIGKILL'));
    address = first.address;
    const clients = Promise.all([0, 1, 2].map(client));
    await sleep(600);
    first.proc.kill('SIGTERM');
    const stopped = await first.exited;
    assert.deepEqual(stopped, { code: 0, signal: null }, first.stderr());
    assert.match(first.stdout(), /SIGTERM: stopping\nstopped\n$/);
    const ackedBeforeStop = acks.size;
    assert.ok(ackedBeforeStop > 30, `events were acknowledged before the stop (${ackedBeforeStop})`);

    const second = await spawnServe(configFile, serveArgs);
    t.after(() => second.proc.kill('SIGKILL'));
    address = second.address;
    await sleep(400);
    isStopping = true;
    await clients;
    assert.ok(acks.size > ackedBeforeStop, 'clients carried on against the restarted agent');

    // One event per request at RATE requests/s: the backlog needs acks/RATE seconds at best. Wait three times
    // that (the sink's latency and the restart cost some), plus a margin for a slow machine.
    const budgetMs = Math.ceil((acks.size / RATE) * 3_000) + 10_000;
    try {
      await sink.waitFor(
        (s) => [...acks.keys()].every((id) => s.appliedCount(`store-test:pos-1:${id}`) === 1),
        budgetMs,
      );
    } catch (error) {
      throw new Error(
        `${(error as Error).message}; ${acks.size} acknowledged at ${RATE} requests/s. ` +
          undeliveredReport(
            join(dir.path, 'data', DATABASE_FILE),
            [...acks.keys()].filter((id) => sink.appliedCount(`store-test:pos-1:${id}`) !== 1),
          ),
        { cause: error },
      );
    }
    assert.ok(sink.isOrderedBy(), JSON.stringify(sink.orderViolations().slice(0, 3)));
    second.proc.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.stderr());

    const db = new BetterSqlite3(join(dir.path, 'data', DATABASE_FILE), { readonly: true });
    try {
      const stored = new Map(
        (db.prepare('SELECT event_id, seq FROM events').all() as { event_id: string; seq: number }[]).map(
          (r) => [r.event_id, r.seq],
        ),
      );
      for (const [id, seq] of acks)
        assert.equal(stored.get(id), seq, `${id} stored at the seq it was acknowledged with`);
    } finally {
      db.close();
    }
    const verify = await runBackroom(['verify', '--config', configFile]);
    assert.equal(verify.code, 0, verify.stderr);

    // Both lives logged to the rotating file, including the clean stop (flushed before exit).
    const logs = readdirSync(join(dir.path, 'logs'))
      .filter((f) => f.endsWith('.log'))
      .map((f) => readFileSync(join(dir.path, 'logs', f), 'utf8'))
      .join('');
    assert.equal(logs.match(/"msg":"agent started"/g)?.length, 2, logs.slice(0, 500));
    assert.equal(logs.match(/"msg":"agent stopped"/g)?.length, 2);
    assert.ok(!logs.includes(TOKEN) && !logs.includes(SECRET), 'no secrets in the logs');
  });
});
