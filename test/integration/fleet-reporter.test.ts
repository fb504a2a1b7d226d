import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { FLEET_STATUS_VERSION, fleetStatusSchema, unknownFieldsOf } from '../../shared/fleet-status.js';
import { statusBucketConfig } from '../../src-main/fleet/fleet-broker.js';
import { parseFleetConfig } from '../../src-main/fleet/fleet-config-loader.js';
import { VERSION } from '../../src-main/platform/version.js';
import { migrations } from '../../migrations/index.js';
import { makeEvent, startAgent, tempDir, testConfig } from '../support/harness.js';
import { NatsServer } from '../support/nats-server.js';
import { missingBinary } from '../support/require-binary.js';
import { freePort } from '../support/server-process.js';

/*
 * The agent's fleet reports (agent/fleet-reporter.ts) against a real nats-server: what a report holds, that a
 * change of a destination's state is reported at once, and that a broker outage costs a bounded number of
 * connection attempts and never slows capture.
 */

const skip = missingBinary('nats-server');
const BUCKET = 'BACKROOM_STATUS';

test('the agent reports its status to the bucket, and a paused destination at once', { skip }, async (t) => {
  const nats = await NatsServer.start();
  t.after(() => nats.dispose());
  const nc = await connect({ servers: nats.url });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const fleet = parseFleetConfig(
    { nats: { servers: [nats.url] }, postgres: { connectionString: 'postgresql://unused/x' }, replicas: 1 },
    process.cwd(),
  );
  await jsm.streams.add(statusBucketConfig(fleet));
  await jsm.streams.add({ name: 'BACKROOM', subjects: ['backroom.events.>'] });
  const dir = tempDir();
  t.after(() => dir.cleanup());
  const agent = await startAgent(
    testConfig(dir.path, {
      agentId: 'store-r1',
      destinations: [
        { id: 'hq', type: 'nats', servers: [nats.url], subject: 'backroom.events', stream: 'BACKROOM' },
        // No stream takes this subject: the destination pauses (misconfigured) once it has something to send.
        { id: 'broken', type: 'nats', servers: [nats.url], subject: 'nowhere.events', stream: 'NOWHERE' },
      ],
      // A long interval: only a state change can explain a second report within the test.
      fleet: { broker: 'hq', bucket: BUCKET, reportSeconds: 600 },
    }),
  );
  t.after(() => agent.stop());
  const read = async () => {
    const m = await jsm.streams.getMessage(`KV_${BUCKET}`, { last_by_subj: `$KV.${BUCKET}.store-r1` });
    return fleetStatusSchema.parse(m?.json());
  };
  const first = await waitFor(() => read());
  assert.equal(first.v, FLEET_STATUS_VERSION);
  assert.equal(first.agentId, 'store-r1');
  assert.equal(first.name, 'Store one');
  assert.equal(first.version, VERSION);
  assert.equal(first.schemaVersion, migrations.at(-1)!.version);
  assert.equal(first.running, true);
  assert.deepEqual(
    first.destinations.map((d) => d.id),
    ['hq', 'broken'],
  );
  assert.ok(first.diskFreeBytes !== null && first.diskFreeBytes > 0);
  assert.deepEqual(unknownFieldsOf(first), []);

  const response = await agent.post({ events: [makeEvent({ id: 'r-1' }), makeEvent({ id: 'r-2' })] });
  assert.equal(response.status, 200);
  // The paused destination is reported long before the 600 s interval, with its error.
  const paused = await waitFor(async () => {
    const s = await read();
    return s.destinations.find((d) => d.id === 'broken')?.state === 'paused' ? s : undefined;
  });
  const broken = paused.destinations.find((d) => d.id === 'broken')!;
  assert.match(broken.lastError ?? '', /NOWHERE/);
  assert.equal(broken.queueDepth, 2);
  assert.equal(paused.lastEventSeq, 2);
  assert.match(paused.chainHead ?? '', /^[0-9a-f]{64}$/);

  // A clean stop sends a last report saying so.
  await agent.stop();
  const last = await read();
  assert.equal(last.running, false);
  assert.ok(last.destinations.every((d) => d.state === 'stopped'));
  // Each report is kept in the bucket's history.
  const history = await jetstream(nc).consumers.get(`KV_${BUCKET}`, { deliver_policy: DeliverPolicy.All });
  const info = await history.info();
  assert.ok(
    info.num_pending >= 3,
    `at least the first, the paused and the last report (${info.num_pending})`,
  );
});

test(
  'a broker outage costs a bounded number of connection attempts while capture goes on',
  { skip },
  async (t) => {
    const dir = tempDir();
    t.after(() => dir.cleanup());
    const nowhere = `nats://127.0.0.1:${await freePort()}`;
    const agent = await startAgent(
      testConfig(dir.path, {
        agentId: 'store-r2',
        destinations: [
          { id: 'hq', type: 'nats', servers: [nowhere], subject: 'backroom.events', stream: 'BACKROOM' },
        ],
        fleet: { broker: 'hq', bucket: BUCKET, reportSeconds: 0.5 },
      }),
    );
    t.after(() => agent.stop());
    const started = Date.now();
    let captured = 0;
    while (Date.now() - started < 3000) {
      const response = await agent.post(makeEvent());
      assert.equal(response.status, 200);
      assert.equal(response.body.results[0]!.status, 'accepted');
      captured += 1;
      await sleep(50);
    }
    const elapsed = Date.now() - started;
    const stats = agent.agent.fleetReporter!.stats;
    assert.ok(captured > 10);
    assert.equal(stats.published, 0);
    assert.ok(stats.connectAttempts >= 2, `it keeps trying (${stats.connectAttempts})`);
    // One attempt per interval at most, however many state changes and ticks there were.
    assert.ok(
      stats.connectAttempts <= Math.ceil(elapsed / 500) + 1,
      `${stats.connectAttempts} attempts in ${elapsed} ms at one per 500 ms`,
    );
  },
);

/** Polls `check` every 100 ms for up to 15 s until it returns a value. */
async function waitFor<T>(check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 15_000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`not within 15 s${last instanceof Error ? `: ${last.message}` : ''}`);
}
