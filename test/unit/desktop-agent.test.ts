import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import type { StatusResponse } from '../../shared/api.js';
import { LOCK_FILE } from '../../src-main/agent/data-dir-lock.js';
import { chooseAgentConnection } from '../../src-main/desktop/agent-connection.js';
import { SecretStore, type Encryptor } from '../../src-main/desktop/secret-store.js';
import { newExceptions, quitWarning, syncState, trayTooltip } from '../../src-main/desktop/sync-state.js';
import { startAgent, tempDir, testConfig } from '../support/harness.js';

describe('desktop: connect to a running agent or start one', () => {
  test('chooses "connect" when a service runs on the data directory and answers as our agent', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const running = await startAgent(testConfig(dataDir));
    t.after(() => running.stop());
    const choice = await chooseAgentConnection({ dataDir, agentId: 'store-test' });
    assert.deepEqual(choice, {
      kind: 'connect',
      address: running.url,
      controlToken: running.agent.controlToken,
      pid: process.pid,
    });
  });

  test('chooses "start" when no agent holds the data directory, or only a dead one left its lock', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    assert.deepEqual(await chooseAgentConnection({ dataDir: dir.path, agentId: 'store-test' }), {
      kind: 'start',
    });
    writeFileSync(
      join(dir.path, LOCK_FILE),
      JSON.stringify({
        pid: 2 ** 22 + 7,
        agentId: 'store-test',
        address: 'http://127.0.0.1:9',
        controlToken: 'x',
      }),
    );
    assert.deepEqual(await chooseAgentConnection({ dataDir: dir.path, agentId: 'store-test' }), {
      kind: 'start',
    });
  });

  test('is blocked, naming it, when the live holder is another agent', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const running = await startAgent(testConfig(dataDir, { agentId: 'store-other' }));
    t.after(() => running.stop());
    const choice = await chooseAgentConnection({ dataDir, agentId: 'store-test' });
    assert.equal(choice.kind, 'blocked');
    assert.match(
      choice.kind === 'blocked' ? choice.message : '',
      /used by agent "store-other".*not "store-test"/,
    );
  });

  test('is blocked after waiting when the live holder never answers', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    t.after(() => {
      silent.closeAllConnections();
      silent.close();
    });
    const { port } = silent.address() as { port: number };
    writeFileSync(
      join(dir.path, LOCK_FILE),
      JSON.stringify({
        pid: process.pid,
        agentId: 'store-test',
        address: `http://127.0.0.1:${port}`,
        controlToken: 'x',
      }),
    );
    const choice = await chooseAgentConnection({
      dataDir: dir.path,
      agentId: 'store-test',
      waitMs: 300,
      requestTimeoutMs: 100,
    });
    assert.equal(choice.kind, 'blocked');
    assert.match(choice.kind === 'blocked' ? choice.message : '', /does not answer/);
  });
});

function status(overrides: Partial<StatusResponse> = {}): StatusResponse {
  return {
    agentId: 'store-042',
    version: '0.1.0',
    running: true,
    lastSeq: 10,
    events: 10,
    destinations: [
      {
        id: 'hq',
        type: 'webhook',
        mode: 'ledger',
        state: 'closed',
        lastDeliveryAt: null,
        pending: 0,
        oldestPendingAgeSeconds: null,
      },
    ],
    openExceptions: [],
    ...overrides,
  };
}

describe('desktop: sync state, notifications and the quit warning', () => {
  const pending = status({
    destinations: [
      {
        id: 'hq',
        type: 'webhook',
        mode: 'ledger',
        state: 'open',
        lastDeliveryAt: null,
        pending: 12,
        oldestPendingAgeSeconds: 5400,
      },
      {
        id: 'shop',
        type: 'level_webhook',
        mode: 'level',
        state: 'closed',
        lastDeliveryAt: null,
        pending: 3,
        oldestPendingAgeSeconds: 30,
      },
      {
        id: 'nats',
        type: 'webhook',
        mode: 'ledger',
        state: 'closed',
        lastDeliveryAt: null,
        pending: 0,
        oldestPendingAgeSeconds: null,
      },
    ],
  });

  test('no warning on quit when everything is sent', () => {
    assert.equal(quitWarning(status(), true), null);
  });

  test('the quit warning says what is pending where, and how old', () => {
    const warning = quitWarning(pending, true)!;
    assert.equal(warning.message, '15 update(s) have not reached every system yet.');
    assert.match(
      warning.detail,
      /^hq: 12 waiting, oldest 90 min \(unreachable, retrying\)\nshop: 3 waiting, oldest 30 s\n/,
    );
    assert.ok(!warning.detail.includes('nats'));
    assert.match(warning.detail, /backroom export --unsynced/);
    assert.match(quitWarning(pending, false)!.detail, /service on this PC keeps sending them/);
  });

  test('the tray shows synced, syncing, attention or offline', () => {
    assert.equal(syncState(null), 'offline');
    assert.equal(syncState(status()), 'synced');
    assert.equal(syncState(status({ destinations: [{ ...pending.destinations[1]! }] })), 'syncing');
    assert.equal(syncState(pending), 'attention');
    assert.equal(syncState(status({ openExceptions: [{ kind: 'unknown_sku', count: 1 }] })), 'attention');
    assert.match(trayTooltip(pending), /^Backroom \(store-042\): sending\nhq: 12 waiting/);
  });

  test('notifies only exception kinds whose count went up, and nothing on the first status', () => {
    const before = status({ openExceptions: [{ kind: 'unknown_sku', count: 2 }] });
    const after = status({
      openExceptions: [
        { kind: 'unknown_sku', count: 5 },
        { kind: 'negative_stock', count: 1 },
      ],
    });
    assert.deepEqual(newExceptions(null, after), []);
    assert.deepEqual(newExceptions(before, after), [
      { kind: 'unknown_sku', added: 3 },
      { kind: 'negative_stock', added: 1 },
    ]);
    assert.deepEqual(newExceptions(after, before), []);
  });
});

describe('desktop: secrets', () => {
  /** A stand-in for the OS keychain behind safeStorage: reversible, and visibly not plain text. */
  const keychain: Encryptor = {
    isEncryptionAvailable: () => true,
    encryptString: (s) => Buffer.from(Buffer.from(s, 'utf8').map((b) => b ^ 0x5a)),
    decryptString: (b) => Buffer.from(b.map((x) => x ^ 0x5a)).toString('utf8'),
  };

  test('are stored encrypted, never in plain text, and come back as environment variables', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const file = join(dir.path, 'secrets.json');
    const store = new SecretStore(file, keychain);
    store.set('POS1_TOKEN', 'a-very-secret-token');
    store.set('HQ_SECRET', 'hmac-secret');
    assert.ok(!readFileSync(file, 'utf8').includes('a-very-secret-token'));
    assert.deepEqual(new SecretStore(file, keychain).environment(), {
      POS1_TOKEN: 'a-very-secret-token',
      HQ_SECRET: 'hmac-secret',
    });
  });

  test('are refused when the OS offers no secure storage', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const store = new SecretStore(join(dir.path, 's.json'), {
      ...keychain,
      isEncryptionAvailable: () => false,
    });
    assert.throws(() => store.set('X', 'y'), /no secure storage/);
  });
});
