import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { IngestResponse } from '../../shared/api.js';
import { DATABASE_FILE } from '../../src-main/agent/agent.js';
import { backupDatabase } from '../../src-main/agent/backup.js';
import {
  makeEvent,
  runBackroom,
  spawnServe,
  startAgent,
  tempDir,
  testConfig,
  TOKEN,
  TOKEN_2,
  writeConfig,
} from '../support/harness.js';

type Ack = { source: string; id: string; seq: number };

/**
 * POS clients that stream small batches to the agent until told to stop, recording every acknowledged event
 * with the time its answer arrived.
 */
function streamClients(address: string, clients: number) {
  const acks: (Ack & { at: number })[] = [];
  let isStopping = false;
  const run = async (client: number) => {
    const token = client % 2 === 0 ? TOKEN : TOKEN_2;
    const source = client % 2 === 0 ? 'pos-1' : 'pos-2';
    for (let n = 0; !isStopping; n += 1) {
      const events = Array.from({ length: 5 }, (_, i) =>
        makeEvent({
          id: `c${client}-${n}-${i}`,
          type: i === 0 ? 'receipt' : 'sale',
          location: client % 2 === 0 ? 'S1' : 'S2',
          lines: [{ sku: `SKU-${i}`, qty: 1 + (n % 3) }],
        }),
      );
      const response = await fetch(`${address}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as IngestResponse;
      const at = Date.now();
      for (const r of body.results) {
        assert.equal(r.status, 'accepted');
        if (r.status === 'accepted') acks.push({ source, id: r.id, seq: r.seq, at });
      }
    }
  };
  const done = Promise.all(Array.from({ length: clients }, (_, c) => run(c)));
  return {
    acks,
    stop: async () => {
      isStopping = true;
      await done;
    },
  };
}

function storedEvents(file: string): Map<string, { seq: number; hash: string }> {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT source, event_id, seq, hash FROM events').all() as {
      source: string;
      event_id: string;
      seq: number;
      hash: string;
    }[];
    return new Map(rows.map((r) => [`${r.source}/${r.event_id}`, { seq: r.seq, hash: r.hash }]));
  } finally {
    db.close();
  }
}

describe('backroom backup and restore', () => {
  test('a backup taken under continuous ingest restores to a database that verifies and holds every event acknowledged before it began', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const configFile = writeConfig(dir.path, testConfig(join(dir.path, 'data')));
    const serve = await spawnServe(configFile);
    t.after(() => {
      if (serve.proc.exitCode === null) serve.proc.kill('SIGKILL');
    });
    const clients = streamClients(serve.address, 4);
    await sleep(700);
    const beganAt = Date.now();
    const ackedBefore = clients.acks.filter((a) => a.at <= beganAt).map((a) => ({ ...a }));
    const out = join(dir.path, 'backups', 'store.db');
    const result = await runBackroom(['backup', '--config', configFile, '--out', out]);
    const endedAt = Date.now();
    await sleep(300);
    await clients.stop();
    serve.proc.kill('SIGTERM');
    assert.equal((await serve.exited).code, 0);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /hash chain verified/);
    assert.ok(
      ackedBefore.length > 50,
      `clients were streaming before the backup (${ackedBefore.length} acks)`,
    );
    const ackedDuring = clients.acks.filter((a) => a.at > beganAt && a.at < endedAt).length;
    assert.ok(ackedDuring > 0, 'ingest went on while the backup ran');

    // Restore into another data directory, as on a replacement PC.
    const restoredConfig = writeConfig(dir.path, testConfig(join(dir.path, 'restored')), 'restored.json');
    const restored = await runBackroom(['restore', '--config', restoredConfig, out]);
    assert.equal(restored.code, 0, restored.stderr);
    const verify = await runBackroom(['verify', '--config', restoredConfig]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /^ok: /);

    const inBackup = storedEvents(join(dir.path, 'restored', DATABASE_FILE));
    const original = storedEvents(join(dir.path, 'data', DATABASE_FILE));
    for (const ack of ackedBefore) {
      assert.equal(
        inBackup.get(`${ack.source}/${ack.id}`)?.seq,
        ack.seq,
        `${ack.source}/${ack.id} is in the backup`,
      );
    }
    // The backup is a prefix of the live log: the same events at the same seqs, with the same links.
    const backupSeqs = [...inBackup.values()].map((e) => e.seq).sort((a, b) => a - b);
    assert.deepEqual(
      backupSeqs,
      backupSeqs.map((_, i) => i + 1),
    );
    for (const [key, event] of inBackup) assert.deepEqual(original.get(key), event, key);
    assert.ok(original.size > inBackup.size, 'events captured after the backup are not in it');
  });

  test('restore refuses while an agent runs on the data directory', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const running = await startAgent(testConfig(dataDir));
    t.after(() => running.stop());
    await running.post({ events: [makeEvent({ id: 'a' })] });
    const out = join(dir.path, 'b.db');
    backupDatabase(dataDir, out);
    const configFile = writeConfig(dir.path, testConfig(dataDir));
    const result = await runBackroom(['restore', '--config', configFile, '--force', out]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Cannot restore while an agent runs/);
    assert.match(result.stderr, new RegExp(`pid ${process.pid}`));
  });

  test('restore refuses to replace a newer database without --force, naming both; with --force it keeps the old one aside', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const agent = await startAgent(testConfig(dataDir));
    await agent.post({ events: [makeEvent({ id: 'a' }), makeEvent({ id: 'b' })] });
    const out = join(dir.path, 'old.db');
    assert.equal(backupDatabase(dataDir, out).end.lastSeq, 2);
    await agent.post({ events: [makeEvent({ id: 'c' })] });
    await agent.stop();

    const configFile = writeConfig(dir.path, testConfig(dataDir));
    const refused = await runBackroom(['restore', '--config', configFile, out]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /holds events up to seq 3, newest captured \d{4}-/);
    assert.match(refused.stderr, /the backup .*old\.db holds events up to seq 2/);
    assert.match(refused.stderr, /--force/);
    assert.equal(storedEvents(join(dataDir, DATABASE_FILE)).size, 3, 'the database was left as it was');

    const forced = await runBackroom(['restore', '--config', configFile, '--force', out]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(storedEvents(join(dataDir, DATABASE_FILE)).size, 2);
    const aside = readdirSync(dataDir).filter(
      (f) => /^backroom\.db\.replaced-[^-]/.test(f) && !/-(wal|shm)$/.test(f),
    );
    assert.equal(aside.length, 1, readdirSync(dataDir).join(', '));
    assert.match(forced.stdout, new RegExp(`kept as .*${aside[0]!.replace(/[.]/g, '\\.')}`));
    assert.equal(storedEvents(join(dataDir, aside[0]!)).size, 3, 'the replaced database still opens, whole');
    assert.equal(existsSync(join(dataDir, 'agent.lock')), false, 'restore released the data directory');

    // Restoring the same backup again is not "newer": no --force needed.
    const again = await runBackroom(['restore', '--config', configFile, out]);
    assert.equal(again.code, 0, again.stderr);
  });

  test('restore refuses a backup whose hash chain is broken, and changes nothing', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const agent = await startAgent(testConfig(dataDir));
    await agent.post({ events: [makeEvent({ id: 'a' }), makeEvent({ id: 'b' })] });
    const out = join(dir.path, 'tampered.db');
    backupDatabase(dataDir, out);
    await agent.stop();
    const raw = new BetterSqlite3(out);
    raw.prepare('UPDATE events SET body = replace(body, \'"qty":1\', \'"qty":9\') WHERE seq = 1').run();
    raw.close();

    const target = writeConfig(dir.path, testConfig(join(dir.path, 'fresh')), 'fresh.json');
    const result = await runBackroom(['restore', '--config', target, out]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /fails verification/);
    assert.match(result.stderr, /event 1: its content was changed after capture/);
    assert.equal(existsSync(join(dir.path, 'fresh', DATABASE_FILE)), false);
  });

  test('backup never overwrites an existing file', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const agent = await startAgent(testConfig(dataDir));
    t.after(() => agent.stop());
    await agent.post({ events: [makeEvent({ id: 'a' })] });
    const out = join(dir.path, 'b.db');
    backupDatabase(dataDir, out);
    assert.throws(() => backupDatabase(dataDir, out), /already exists/);
  });
});
