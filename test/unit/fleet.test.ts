import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configSchema } from '../../shared/config.js';
import { fleetStatusSchema, unknownFieldsOf, worstDestinationState } from '../../shared/fleet-status.js';
import { runCli } from '../../src-main/cli/main.js';
import { parseFleetConfig } from '../../src-main/fleet/fleet-config-loader.js';
import { checkEvent } from '../../src-main/fleet/fleet-message.js';
import { fleetMigrations } from '../../src-main/fleet/migrations/index.js';
import { ROOT, testConfig } from '../support/harness.js';

test('every fleet migration file is listed once, in order', () => {
  const files = readdirSync(join(ROOT, 'src-main/fleet/migrations'))
    .filter((f) => /^\d{4}-.*\.ts$/.test(f))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
  assert.deepEqual(
    fleetMigrations.map((m) => m.name),
    files,
  );
  fleetMigrations.forEach((m, i) => assert.equal(m.version, i + 1));
});

test("the agent's fleet section must name a nats destination", () => {
  const result = configSchema.safeParse(testConfig('/tmp/x', { fleet: { broker: 'hq' } }));
  assert.equal(result.success, false);
  assert.deepEqual(result.error?.issues[0]?.path, ['fleet', 'broker']);
  assert.match(result.error?.issues[0]?.message ?? '', /names no "nats" destination/);
});

test('a fleet config error names its path', () => {
  assert.throws(
    () => parseFleetConfig({ nats: { servers: [] }, postgres: { connectionString: 'x' }, colour: 1 }, '/tmp'),
    (error: Error) => /nats\.servers/.test(error.message) && /unknown key "colour"/.test(error.message),
  );
});

const status = {
  v: 1,
  agentId: 'store-1',
  name: 'One',
  version: '0.1.0',
  schemaVersion: 12,
  reportedAt: '2026-12-06T10:00:00.000Z',
  uptimeSeconds: 1,
  running: true,
  destinations: [
    {
      id: 'a',
      type: 'nats',
      state: 'closed',
      queueDepth: 0,
      oldestPendingAgeSeconds: null,
      lastDeliveryAt: null,
      lastError: null,
    },
    {
      id: 'b',
      type: 'nats',
      state: 'paused',
      queueDepth: 2,
      oldestPendingAgeSeconds: 9,
      lastDeliveryAt: null,
      lastError: 'x',
    },
  ],
  openExceptions: [],
  capturePerMinute: 0,
  lastEventSeq: 0,
  chainHead: null,
  diskFreeBytes: null,
};

test('a status of a newer version is read as far as it is known, its unknown fields named', () => {
  const parsed = fleetStatusSchema.parse({
    ...status,
    v: 2,
    battery: 1,
    destinations: [{ ...status.destinations[0], lag: 3 }],
  });
  assert.deepEqual(unknownFieldsOf(parsed), ['battery', 'destinations.0.lag']);
});

test('the worst destination state ranks paused over open over closed; an unknown state ranks as open', () => {
  assert.equal(worstDestinationState(status.destinations), 'paused');
  assert.equal(worstDestinationState([{ state: 'closed' }, { state: 'warming_up' }]), 'warming_up');
  assert.equal(worstDestinationState([{ state: 'warming_up' }, { state: 'open' }]), 'warming_up');
  assert.equal(worstDestinationState([]), null);
});

test('an event is refused when its store or location is not the subject it came on, or its id not the header', () => {
  const body = {
    id: 'e1',
    type: 'sale',
    location: 'Main St.',
    occurredAt: '2026-11-24T10:15:00+01:00',
    lines: [{ sku: 'A', qty: 1 }],
    agentId: 'store-1',
    source: 'pos-1',
    seq: 1,
    idempotencyKey: 'store-1:pos-1:e1',
  };
  const text = JSON.stringify(body);
  assert.equal(checkEvent(text, 'b.e.store-1.Main%20St%2E', 'b.e', 'store-1:pos-1:e1').ok, true);
  const other = checkEvent(text, 'b.e.store-2.Main%20St%2E', 'b.e', null);
  assert.equal(other.ok ? '' : other.reason, 'store_mismatch');
  const location = checkEvent(text, 'b.e.store-1.S1', 'b.e', null);
  assert.equal(location.ok ? '' : location.reason, 'store_mismatch');
  const id = checkEvent(text, 'b.e.store-1.Main%20St%2E', 'b.e', 'store-1:pos-1:e9');
  assert.equal(id.ok ? '' : id.reason, 'id_mismatch');
  const bad = checkEvent(JSON.stringify({ ...body, seq: 0 }), 'b.e.store-1.Main%20St%2E', 'b.e', null);
  assert.match(bad.ok ? '' : bad.detail, /^seq: /);
});

test('backroom fleet serve refuses a bad config with exit 2, naming each field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'backroom-fleet-cli-'));
  try {
    const file = join(dir, 'fleet.json');
    writeFileSync(file, JSON.stringify({ nats: { servers: ['nats://127.0.0.1:1'] }, listen: { port: 'x' } }));
    let err = '';
    const code = await runCli(['fleet', 'serve', '--config', file], {
      out: () => {},
      err: (t) => (err += t),
    });
    assert.equal(code, 2);
    assert.match(err, /postgres: /);
    assert.match(err, /listen\.port: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
