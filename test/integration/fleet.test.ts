import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { ConfigInput } from '../../shared/config.js';
import { FLEET_STATUS_VERSION, type FleetStatus } from '../../shared/fleet-status.js';
import { eventsStreamConfig } from '../../src-main/fleet/fleet-broker.js';
import { parseFleetConfig, type ResolvedFleetConfig } from '../../src-main/fleet/fleet-config-loader.js';
import { FleetService } from '../../src-main/fleet/fleet-service.js';
import { natsSubject } from '../../src-main/connectors/nats/nats-subjects.js';
import { createLogger } from '../../src-main/platform/logger.js';
import {
  makeEvent,
  ROOT,
  spawnServe,
  startAgent,
  tempDir,
  testConfig,
  writeConfig,
  type ServeProcess,
  type TestAgent,
} from '../support/harness.js';
import { NatsCluster } from '../support/nats-server.js';
import { FaultSink } from '../simulators/fault-sink.js';
import { missingPostgres, PostgresServer } from '../support/postgres-server.js';
import { missingBinary } from '../support/require-binary.js';
import { freePort } from '../support/server-process.js';

/*
 * The fleet on a real three-node NATS JetStream cluster on loopback (events stream and status bucket replicated
 * 3 ways) and a real PostgreSQL started by the harness: stores publish through their `nats` destination and
 * report their status; `backroom fleet serve` instances store both, once, and show them in the fleet view.
 */

const skip = missingBinary('nats-server') || missingPostgres();
const SUBJECT = 'backroom.events';
const BUCKET = 'BACKROOM_STATUS';
const OPERATOR = { name: 'it-lead', token: 'fleet-operator-token-0123456789' };
const RELAY_SECRET = 'relay-webhook-secret';

let cluster: NatsCluster;
let postgres: PostgresServer;
let nc: NatsConnection;
let dbCounter = 0;

/** A fleet config on the cluster and a fresh database; `stream` lets a test use its own stream. */
async function fleetConfig(overrides: Record<string, unknown> = {}): Promise<ResolvedFleetConfig> {
  dbCounter += 1;
  const connectionString = await postgres.createDatabase(`fleet_${dbCounter}`);
  return parseFleetConfig(
    {
      nats: { servers: cluster.urls },
      postgres: { connectionString },
      listen: { host: '127.0.0.1', port: 0 },
      staleSeconds: 5,
      ackWaitSeconds: 3,
      operators: [{ ...OPERATOR, role: 'manager' }],
      ...overrides,
    },
    process.cwd(),
  );
}

function startFleet(config: ResolvedFleetConfig): Promise<FleetService> {
  return FleetService.start({ config, logger: createLogger({ level: 'silent' }) });
}

/** An agent config publishing to `stream` on the cluster and reporting its status every `reportSeconds`. */
function agentConfig(
  dataDir: string,
  agentId: string,
  stream: string,
  extra: Partial<ConfigInput> = {},
  servers = cluster.urls,
): ConfigInput {
  return testConfig(dataDir, {
    agentId,
    destinations: [
      { id: 'hq', type: 'nats', servers, subject: `${SUBJECT}.${stream.toLowerCase()}`, stream },
    ],
    fleet: { broker: 'hq', bucket: BUCKET, reportSeconds: 1 },
    delivery: { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 10_000, maxAgeHours: 1 },
    ...extra,
  });
}

/** Polls `check` every 200 ms until it returns a value (not undefined) or `ms` pass. */
async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what} did not happen within ${ms} ms${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await sleep(200);
  }
}

async function count(service: FleetService, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await service.db.pool.query<{ n: string }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

/** A fleet config's stream, made beforehand with a short duplicate window (the service then uses it as it is). */
async function makeStream(config: ResolvedFleetConfig, duplicateWindowMs = 120_000): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ ...eventsStreamConfig(config), duplicate_window: nanos(duplicateWindowMs) });
}

/** Posts `n` events to an agent in batches of 20; returns their ids. */
async function postEvents(agent: TestAgent, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 20) {
    const events = Array.from({ length: Math.min(20, n - i) }, (_, k) =>
      makeEvent({ id: `${prefix}-${i + k}` }),
    );
    const response = await agent.post({ events });
    assert.equal(response.status, 200);
    ids.push(...events.map((e) => e.id as string));
  }
  return ids;
}

describe('the fleet on a three-node JetStream cluster and PostgreSQL', { skip }, () => {
  before(async () => {
    [cluster, postgres] = await Promise.all([NatsCluster.start(), PostgresServer.start()]);
    nc = await connect({ servers: cluster.urls });
    // The cluster elects its meta leader after the nodes are up: JetStream answers once it has one.
    await waitFor('the JetStream meta leader', 20_000, async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.getAccountInfo();
      return true;
    });
  });
  after(async () => {
    await nc?.close();
    await Promise.all([cluster?.dispose(), postgres?.dispose()]);
  });

  test('a node killed while stores publish loses nothing and stores nothing twice in PostgreSQL', async (t) => {
    const config = await fleetConfig({ stream: 'KILL', subject: `${SUBJECT}.kill`, durable: 'fleet' });
    const fleet = await startFleet(config);
    t.after(() => fleet.stop());
    const jsm = await jetstreamManager(nc);
    assert.equal((await jsm.streams.info('KILL')).config.num_replicas, 3);
    assert.equal((await jsm.streams.info(`KV_${BUCKET}`)).config.num_replicas, 3);
    const dirs = [tempDir(), tempDir()];
    t.after(() => dirs.forEach((d) => d.cleanup()));
    const agents = await Promise.all(
      dirs.map((d, i) => startAgent(agentConfig(d.path, `store-k${i}`, 'KILL'))),
    );
    t.after(() => Promise.all(agents.map((a) => a.stop())));
    // Both stores publish while the node that leads the stream is SIGKILLed, then comes back.
    const leader = (await jsm.streams.info('KILL')).cluster?.leader ?? 'n1';
    const posting = Promise.all(agents.map((a, i) => postEvents(a, `k${i}`, 300)));
    await sleep(300);
    const victim = Number(leader.slice(1)) - 1;
    await cluster.kill(victim);
    const ids = (await posting).flat();
    await sleep(1000);
    await cluster.restart(victim);
    await waitFor('every event stored', 60_000, async () =>
      (await count(fleet, 'SELECT count(*) AS n FROM fleet_events')) >= ids.length ? true : undefined,
    );
    const { rows } = await fleet.db.pool.query<{ event_id: string }>('SELECT event_id FROM fleet_events');
    assert.deepEqual(rows.map((r) => r.event_id).sort(), [...ids].sort());
    assert.equal(await count(fleet, 'SELECT count(*) AS n FROM fleet_movements'), ids.length);
    assert.equal(await count(fleet, 'SELECT count(*) AS n FROM fleet_rejected'), 0);
  });

  test('a store offline for a while catches up, and a copy resent after the duplicate window is stored once', async (t) => {
    const config = await fleetConfig({ stream: 'OFFLINE', subject: `${SUBJECT}.offline` });
    await makeStream(config, 1000);
    const fleet = await startFleet(config);
    t.after(() => fleet.stop());
    const dir = tempDir();
    t.after(() => dir.cleanup());
    // Offline: the store's broker address answers nothing; it captures and queues.
    const nowhere = `nats://127.0.0.1:${await freePort()}`;
    let agent = await startAgent(agentConfig(dir.path, 'store-off', 'OFFLINE', {}, [nowhere]));
    const ids = await postEvents(agent, 'off', 60);
    await sleep(1500);
    assert.equal(await count(fleet, 'SELECT count(*) AS n FROM fleet_events'), 0);
    await agent.stop();
    // Back online (the same data folder): the queue drains into PostgreSQL.
    agent = await startAgent(agentConfig(dir.path, 'store-off', 'OFFLINE'));
    t.after(() => agent.stop());
    await waitFor('the offline store caught up', 30_000, async () =>
      (await count(fleet, 'SELECT count(*) AS n FROM fleet_events')) === ids.length ? true : undefined,
    );
    // A resend after JetStream's window (1 s here) is a second copy in the stream, and still one row.
    const first = await fleet.db.pool.query<{ body: unknown; msg_id: string; location: string }>(
      'SELECT body, msg_id, location FROM fleet_events ORDER BY seq LIMIT 1',
    );
    const row = first.rows[0]!;
    await sleep(1200);
    const h = headers();
    h.set('Nats-Msg-Id', row.msg_id);
    const ack = await jetstream(nc).publish(
      natsSubject(config.subject, 'store-off', row.location),
      JSON.stringify(row.body),
      {
        headers: h,
      },
    );
    assert.equal(ack.duplicate, false, 'past the window, JetStream stores the resend');
    await waitFor('the resend handled', 15_000, async () => {
      const metrics = await fleet.metrics.registry.getSingleMetricAsString('backroom_fleet_events_total');
      return /result="duplicate"} [1-9]/.test(metrics) ? true : undefined;
    });
    assert.equal(await count(fleet, 'SELECT count(*) AS n FROM fleet_events'), ids.length);
  });

  test('two fleet serve instances share the consumer and store every message once', async (t) => {
    const config = await fleetConfig({ stream: 'SHARED', subject: `${SUBJECT}.shared`, batchSize: 20 });
    const configDir = tempDir();
    t.after(() => configDir.cleanup());
    const first = await startFleet(config);
    t.after(() => first.stop());
    // The second instance is the real command, a process of its own.
    const file = writeConfig(
      configDir.path,
      { ...config, listen: { host: '127.0.0.1', port: 0 } },
      'fleet.json',
    );
    const second = await spawnFleetServe(file);
    t.after(async () => {
      second.proc.kill('SIGTERM');
      await second.exited;
    });
    const dirs = [tempDir(), tempDir(), tempDir()];
    t.after(() => dirs.forEach((d) => d.cleanup()));
    const agents = await Promise.all(
      dirs.map((d, i) => startAgent(agentConfig(d.path, `store-s${i}`, 'SHARED'))),
    );
    t.after(() => Promise.all(agents.map((a) => a.stop())));
    const ids = (await Promise.all(agents.map((a, i) => postEvents(a, `s${i}`, 200)))).flat();
    await waitFor('every event stored', 60_000, async () =>
      (await count(first, 'SELECT count(*) AS n FROM fleet_events')) === ids.length ? true : undefined,
    );
    const storedHere = await first.metrics.registry.getSingleMetricAsString('backroom_fleet_events_total');
    const here = Number(/result="stored"} (\d+)/.exec(storedHere)?.[1] ?? 0);
    const response = await fetch(`${second.address}/metrics`, {
      headers: { authorization: `Bearer ${OPERATOR.token}` },
    });
    const there = Number(
      /backroom_fleet_events_total\{result="stored"} (\d+)/.exec(await response.text())?.[1] ?? 0,
    );
    assert.ok(here > 0 && there > 0, `both instances stored a share (here ${here}, there ${there})`);
    assert.equal(here + there, ids.length, 'each message was stored by exactly one instance');
    assert.equal(await count(first, 'SELECT count(DISTINCT event_id) AS n FROM fleet_events'), ids.length);
  });

  test("a real agent's status (a paused destination, then a SIGKILL) shows in the fleet view within a minute", async (t) => {
    const config = await fleetConfig({ stream: 'VIEW', subject: `${SUBJECT}.view` });
    const fleet = await startFleet(config);
    t.after(() => fleet.stop());
    const dir = tempDir();
    t.after(() => dir.cleanup());
    // A second nats destination names a stream that does not exist: it pauses (misconfigured).
    const file = writeConfig(
      dir.path,
      agentConfig(dir.path, 'store-real', 'VIEW', {
        destinations: [
          { id: 'hq', type: 'nats', servers: cluster.urls, subject: `${SUBJECT}.view`, stream: 'VIEW' },
          { id: 'broken', type: 'nats', servers: cluster.urls, subject: 'nowhere.events', stream: 'NOWHERE' },
        ],
      }),
    );
    const serve: ServeProcess = await spawnServe(file);
    t.after(() => {
      serve.proc.kill('SIGKILL');
    });
    const post = await fetch(`${serve.address}/api/v1/events`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer test-token-pos-1-0123456789abcdef',
        'content-type': 'application/json',
      },
      body: JSON.stringify(makeEvent({ id: 'view-1' })),
    });
    assert.equal(post.status, 200);
    const api = (path: string) =>
      fetch(`${fleet.address}${path}`, { headers: { authorization: `Bearer ${OPERATOR.token}` } }).then(
        (r) => r.json() as Promise<{ stores: { agentId: string; worstState: string; isStale: boolean }[] }>,
      );
    const paused = await waitFor('the paused destination in the view', 60_000, async () => {
      const { stores } = await api('/api/v1/fleet/stores');
      return stores.find((s) => s.agentId === 'store-real' && s.worstState === 'paused');
    });
    assert.equal(paused.isStale, false);
    const page = await fetch(`${fleet.address}/stores/store-real`, {
      headers: { authorization: `Bearer ${OPERATOR.token}` },
    });
    const html = await page.text();
    assert.match(
      html,
      /data-destination="broken"><td>broken<\/td><td>nats<\/td><td class="state-paused">paused/,
    );
    assert.match(html, /NOWHERE/, "the store page shows the paused destination's last error");
    // SIGKILL: no last report; the store goes stale (5 s here, 2 minutes by default).
    serve.proc.kill('SIGKILL');
    await serve.exited;
    await waitFor('the killed store flagged stale', 60_000, async () => {
      const { stores } = await api('/api/v1/fleet/stores?stale=1');
      return stores.find((s) => s.agentId === 'store-real');
    });
  });

  test('the relay sends each movement to the central ERP once, never above the tenant-wide limit', async (t) => {
    const sink = await FaultSink.start({ secret: RELAY_SECRET, rateLimit: { perSecond: 20, burst: 20 } });
    t.after(() => sink.stop());
    const relay = {
      destination: { id: 'erp', type: 'webhook', url: `${sink.url}/events`, secret: RELAY_SECRET },
      requestsPerSecond: 20,
    };
    const config = await fleetConfig({ stream: 'RELAY', subject: `${SUBJECT}.relay`, relay });
    // Two instances with the relay: one relays at a time, so the limit is the tenant's, not each instance's.
    const fleets = [await startFleet(config), await startFleet(config)];
    t.after(() => Promise.all(fleets.map((f) => f.stop())));
    const dirs = [tempDir(), tempDir()];
    t.after(() => dirs.forEach((d) => d.cleanup()));
    const agents = await Promise.all(
      dirs.map((d, i) => startAgent(agentConfig(d.path, `store-r${i}`, 'RELAY'))),
    );
    t.after(() => Promise.all(agents.map((a) => a.stop())));
    const ids = (await Promise.all(agents.map((a, i) => postEvents(a, `r${i}`, 60)))).flat();
    await waitFor('every movement relayed', 60_000, async () =>
      (await count(fleets[0]!, `SELECT count(*) AS n FROM fleet_relay WHERE state = 'delivered'`)) ===
      ids.length
        ? true
        : undefined,
    );
    const keys = sink.applied.map((a) => a.key);
    assert.equal(new Set(keys).size, ids.length, 'each movement applied once by the ERP');
    assert.deepEqual(
      [...new Set(keys)].sort(),
      ids.map((id, i) => `store-r${i < 60 ? 0 : 1}:pos-1:${id}`).sort(),
      "each under its store's idempotency key",
    );
    assert.ok(
      sink.applied.every((a) => a.body.agentId === a.key.split(':')[0]),
      'the ERP is told which store',
    );
    assert.equal(sink.requests.byStatus[429] ?? 0, 0, 'the ERP never had to refuse a request over its limit');
    assert.deepEqual(sink.rateLimitViolations, [], 'nor was it asked again before a Retry-After');
    const requests = await Promise.all(
      fleets.map(async (f) =>
        Number(
          /backroom_fleet_relay_requests_total (\d+)/.exec(await f.metrics.registry.metrics())?.[1] ?? 0,
        ),
      ),
    );
    assert.ok(requests.includes(0), `one instance relayed, the other waited (${requests.join(', ')})`);
  });

  test('bad input is counted, logged and kept aside, never stored half, and the consumer goes on', async (t) => {
    const config = await fleetConfig({ stream: 'BAD', subject: `${SUBJECT}.bad` });
    const fleet = await startFleet(config);
    t.after(() => fleet.stop());
    const js = jetstream(nc);
    const event = (agentId: string, id: string) => ({
      ...makeEvent({ id }),
      agentId,
      source: 'pos-1',
      seq: 1,
      idempotencyKey: `${agentId}:pos-1:${id}`,
    });
    const publish = async (agentId: string, body: string, msgId: string) => {
      const h = headers();
      h.set('Nats-Msg-Id', msgId);
      await js.publish(natsSubject(config.subject, agentId, 'S1'), body, { headers: h });
    };
    await publish('store-b', '{not json', 'x1');
    await publish('store-b', JSON.stringify(event('store-other', 'e1')), 'store-other:pos-1:e1');
    await publish('store-b', JSON.stringify({ ...event('store-b', 'e2'), lines: [] }), 'store-b:pos-1:e2');
    await publish('store-b', JSON.stringify(event('store-b', 'good')), 'store-b:pos-1:good');
    const status = (
      agentId: string,
      extra: Record<string, unknown> = {},
    ): FleetStatus & Record<string, unknown> => ({
      v: FLEET_STATUS_VERSION,
      agentId,
      name: agentId,
      version: '9.0.0',
      schemaVersion: 20,
      reportedAt: new Date().toISOString(),
      uptimeSeconds: 5,
      running: true,
      destinations: [
        {
          id: 'hq',
          type: 'nats',
          state: 'closed',
          queueDepth: 0,
          oldestPendingAgeSeconds: null,
          lastDeliveryAt: null,
          lastError: null,
        },
      ],
      openExceptions: [{ kind: 'unknown_sku', count: 2 }],
      capturePerMinute: 3,
      lastEventSeq: 9,
      chainHead: 'ab',
      diskFreeBytes: 1,
      ...extra,
    });
    await js.publish(`$KV.${BUCKET}.store-b1`, '}{');
    await js.publish(`$KV.${BUCKET}.store-b2`, JSON.stringify(status('store-somebody-else')));
    await js.publish(
      `$KV.${BUCKET}.store-b3`,
      JSON.stringify({
        ...status('store-b3', { v: FLEET_STATUS_VERSION + 1, batteryPercent: 80 }),
        destinations: [{ ...status('store-b3').destinations[0]!, lagMs: 12 }],
      }),
    );
    await waitFor('the good event and the newer status stored', 20_000, async () =>
      (await count(fleet, `SELECT count(*) AS n FROM fleet_events WHERE event_id = 'good'`)) === 1 &&
      (await count(fleet, `SELECT count(*) AS n FROM fleet_stores WHERE agent_id = 'store-b3'`)) === 1
        ? true
        : undefined,
    );
    await waitFor('every refusal recorded', 10_000, async () =>
      (await count(fleet, 'SELECT count(*) AS n FROM fleet_rejected')) === 5 ? true : undefined,
    );
    const { rows } = await fleet.db.pool.query<{ kind: string; reason: string; detail: string }>(
      'SELECT kind, reason, detail FROM fleet_rejected ORDER BY kind, reason',
    );
    assert.deepEqual(
      rows.map((r) => `${r.kind}:${r.reason}`),
      [
        'event:invalid',
        'event:store_mismatch',
        'event:unparsable',
        'status:store_mismatch',
        'status:unparsable',
      ],
    );
    assert.match(rows.find((r) => r.reason === 'invalid')!.detail, /lines/);
    assert.match(
      rows.find((r) => r.kind === 'event' && r.reason === 'store_mismatch')!.detail,
      /store-other/,
    );
    // Nothing of a refused message is stored: one event, its one line; no store row for the refused statuses.
    assert.equal(await count(fleet, 'SELECT count(*) AS n FROM fleet_events'), 1);
    assert.equal(await count(fleet, 'SELECT count(*) AS n FROM fleet_movements'), 1);
    assert.equal(
      await count(
        fleet,
        `SELECT count(*) AS n FROM fleet_stores WHERE agent_id IN ('store-b1', 'store-b2', 'store-somebody-else')`,
      ),
      0,
    );
    const { rows: unknown } = await fleet.db.pool.query<{ unknown_fields: string[] }>(
      `SELECT unknown_fields FROM fleet_stores WHERE agent_id = 'store-b3'`,
    );
    assert.deepEqual(unknown[0]!.unknown_fields, ['batteryPercent', 'destinations.0.lagMs']);
    const metrics = await fleet.metrics.registry.metrics();
    assert.match(metrics, /backroom_fleet_rejected_total\{kind="event",reason="unparsable"} 1/);
    assert.match(metrics, /backroom_fleet_rejected_total\{kind="event",reason="store_mismatch"} 1/);
    assert.match(metrics, /backroom_fleet_rejected_total\{kind="status",reason="store_mismatch"} 1/);
    assert.match(metrics, /backroom_fleet_status_unknown_fields_total 2/);
    assert.match(metrics, /backroom_fleet_status_newer_version_total 1/);
    // Retention (historyDays, hourly): refused messages and status history go, events and movements stay.
    assert.ok((await fleet.db.prune(0)) >= 6);
    assert.equal(await count(fleet, 'SELECT count(*) AS n FROM fleet_rejected'), 0);
    assert.equal(
      await count(fleet, `SELECT count(*) AS n FROM fleet_status_history WHERE agent_id = 'store-b3'`),
      0,
    );
    assert.equal(await count(fleet, 'SELECT count(*) AS n FROM fleet_events'), 1);
    assert.equal(await count(fleet, 'SELECT count(*) AS n FROM fleet_movements'), 1);
  });
});

/** Spawns the real `backroom fleet serve --config FILE`; resolves once it prints its address. */
function spawnFleetServe(file: string): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src-main/cli/index.ts'),
        'fleet',
        'serve',
        '--config',
        file,
        '--log-level',
        'warn',
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      proc.on('exit', (code, signal) => r({ code, signal })),
    );
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`fleet serve did not start in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 30_000);
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ proc, address: match[1]!, exited, stdout: () => stdout, stderr: () => stderr });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`fleet serve exited (${code}) before it listened\nstderr: ${stderr}`));
    });
  });
}
