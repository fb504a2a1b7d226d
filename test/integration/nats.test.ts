import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import BetterSqlite3 from 'better-sqlite3';
import { Agent as HttpAgent } from 'undici';
import type { ConfigInput } from '../../shared/config.js';
import type { PosEvent } from '../../shared/events.js';
import { parseConfig } from '../../src-main/agent/config-loader.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { createNatsConnector, type FleetMessage } from '../../src-main/connectors/nats/nats-connector.js';
import type { NatsConfig } from '../../src-main/connectors/nats/nats-link.js';
import { natsSubject, subjectToken } from '../../src-main/connectors/nats/nats-subjects.js';
import { createConnector } from '../../src-main/connectors/registry.js';
import {
  DedupeStore,
  ReferenceConsumer,
  type ConsumerStats,
} from '../../src-main/connectors/nats/reference-consumer.js';
import type { DeliveryResult, LedgerItem, SendOutcome } from '../../src-main/connectors/port/connector.js';
import { AgentLives } from '../support/agent-lives.js';
import { connectorContext } from '../support/connector-context.js';
import { ROOT, startAgent, tempDir, testConfig, TOKEN, TOKEN_2, writeConfig } from '../support/harness.js';
import { NatsServer } from '../support/nats-server.js';
import { freePort } from '../support/server-process.js';
import { missingBinary } from '../support/require-binary.js';
import { makeTestCertificates } from '../support/test-certificates.js';

/*
 * The NATS JetStream destination and the reference consumer against a real nats-server with JetStream on
 * loopback: exactly one copy per event through SIGKILLs of the real `backroom serve`, copies after the duplicate
 * window filtered by the consumer (across consumer crashes), and a clear answer when the stream is missing or
 * the server is down.
 */

const skip = missingBinary('nats-server');
const STREAM = 'BACKROOM';
const SUBJECT = 'backroom.events';
const AGENT_ID = 'store-test';

/** A destination config as the loader resolves it. */
function natsConfig(url: string, overrides: Partial<NatsConfig> = {}): NatsConfig {
  const config = parseConfig(
    testConfig('/tmp/unused', {
      destinations: [{ id: 'fleet', type: 'nats', servers: [url], subject: SUBJECT, stream: STREAM }],
    }),
    process.cwd(),
  ).destinations[0]!;
  assert.equal(config.type, 'nats');
  return { ...config, ...overrides };
}

/** Fails at once, with the fix, when the agent would run without a NATS connector (and never deliver). */
async function assertRegistryHasNats(url: string): Promise<void> {
  const ctx = connectorContext('fleet', AGENT_ID);
  try {
    const bundle = createConnector(natsConfig(url), ctx.context);
    assert.ok(
      bundle,
      'src-main/connectors/registry.ts has no connector for "nats": add its case (createNatsConnector)',
    );
    await bundle.close?.();
  } finally {
    ctx.cleanup();
  }
}

/** An outbox item as the engine hands it to a ledger connector. */
function ledgerItem(n: number, location = 'S1'): LedgerItem {
  const event: PosEvent = {
    id: `e-${n}`,
    type: 'sale',
    location,
    occurredAt: '2026-11-24T10:15:00+01:00',
    lines: [{ sku: 'SKU-1', qty: 1 }],
  };
  return {
    outboxId: n,
    seq: n,
    source: 'pos-1',
    idempotencyKey: `${AGENT_ID}:pos-1:e-${n}`,
    event,
    receivedAt: Date.now(),
    attempts: 0,
  };
}

/** Cleanups run last-in first-out after the test (t.after runs them first-in first-out). */
type Defer = (cleanup: () => unknown) => void;
function deferrals(t: TestContext): Defer {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return (cleanup) => void cleanups.push(cleanup);
}

async function startNats(defer: Defer): Promise<NatsServer> {
  const nats = await NatsServer.start();
  defer(() => nats.dispose());
  return nats;
}

/** A client connection for the test's own look at the stream. */
async function admin(defer: Defer, nats: NatsServer): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: nats.url });
  defer(() => nc.close());
  return { nc, jsm: await jetstreamManager(nc) };
}

/** A NATS connector on its own (a real connector context), as a send function with a 10 s signal. */
function openConnector(
  defer: Defer,
  url: string,
  overrides: Partial<NatsConfig> = {},
): (items: readonly LedgerItem[]) => Promise<SendOutcome> {
  const ctx = connectorContext('fleet', AGENT_ID);
  defer(ctx.cleanup);
  const bundle = createNatsConnector(natsConfig(url, overrides), ctx.context);
  defer(() => bundle.close?.());
  const connector = bundle.connector;
  assert.ok(connector.mode === 'ledger');
  return (items) => connector.send(items, AbortSignal.timeout(10_000));
}

async function addStream(
  jsm: JetStreamManager,
  duplicateWindowMs = 120_000,
  name = STREAM,
  subject = SUBJECT,
) {
  await jsm.streams.add({
    name,
    subjects: [`${subject}.>`],
    duplicate_window: nanos(duplicateWindowMs),
  });
}

type StoredEvent = { seq: number; subject: string; msgId: string; body: FleetMessage };

/** Every message of the stream, in stream order. */
async function readStream(jsm: JetStreamManager, name = STREAM): Promise<StoredEvent[]> {
  const { state } = await jsm.streams.info(name);
  const stored: StoredEvent[] = [];
  if (state.messages === 0) return stored;
  for (let seq = state.first_seq; seq <= state.last_seq; seq += 1) {
    const m = await jsm.streams.getMessage(name, { seq });
    assert.ok(m, `message ${seq} is in the stream`);
    stored.push({
      seq,
      subject: m.subject,
      msgId: m.header.get('Nats-Msg-Id'),
      body: m.json<FleetMessage>(),
    });
  }
  return stored;
}

/** How many copies of each Nats-Msg-Id the stream holds. */
function copiesById(stored: readonly StoredEvent[]): Map<string, number> {
  const copies = new Map<string, number>();
  for (const m of stored) copies.set(m.msgId, (copies.get(m.msgId) ?? 0) + 1);
  return copies;
}

const kinds = (results: readonly DeliveryResult[]) => results.map((r) => r.kind);

/** Polls `check` every `everyMs` until it returns a value, failing with `what` past `timeoutMs`. */
async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  everyMs = 100,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `${what} (waited ${timeoutMs} ms)`);
    await sleep(everyMs);
  }
}

describe('NATS connector', { skip }, () => {
  test('publishes to <subject>.<agentId>.<location> with Nats-Msg-Id; a resend in the window is already_applied', async (t) => {
    const defer = deferrals(t);
    const nats = await startNats(defer);
    const { jsm } = await admin(defer, nats);
    await addStream(jsm);
    const send = openConnector(defer, nats.url);

    const items = [ledgerItem(1), ledgerItem(2), ledgerItem(3, 'Main St. #2')];
    const first = await send(items);
    assert.deepEqual(kinds(first.results), ['delivered', 'delivered', 'delivered']);
    const again = await send(items.slice(0, 2));
    assert.deepEqual(kinds(again.results), ['already_applied', 'already_applied']);

    const stored = await readStream(jsm);
    assert.deepEqual(
      stored.map((m) => [m.subject, m.msgId]),
      [
        ['backroom.events.store-test.S1', 'store-test:pos-1:e-1'],
        ['backroom.events.store-test.S1', 'store-test:pos-1:e-2'],
        ['backroom.events.store-test.Main%20St%2E%20%232', 'store-test:pos-1:e-3'],
      ],
    );
    assert.equal(decodeURIComponent(subjectToken('Main St. #2')), 'Main St. #2');
    assert.deepEqual(stored[0]!.body, {
      ...items[0]!.event,
      agentId: AGENT_ID,
      source: 'pos-1',
      seq: 1,
      idempotencyKey: 'store-test:pos-1:e-1',
    });
  });

  test('a missing stream is misconfigured (the destination pauses) with the nats stream add command; so is a subject of another stream', async (t) => {
    const defer = deferrals(t);
    const nats = await startNats(defer);
    const { jsm } = await admin(defer, nats);
    const send = openConnector(defer, nats.url);

    const missing = await send([ledgerItem(1), ledgerItem(2)]);
    assert.deepEqual(kinds(missing.results), ['misconfigured', 'misconfigured']);
    const detail = (missing.results[0] as Extract<DeliveryResult, { kind: 'misconfigured' }>).detail;
    assert.match(detail, /NATS stream "BACKROOM" does not exist/);
    assert.ok(
      detail.includes(`nats stream add BACKROOM --subjects 'backroom.events.>' --storage file`),
      `names the command: ${detail}`,
    );
    assert.match(detail, /--dupe-window 2m --replicas 3/);

    // The subject belongs to another stream: JetStream refuses the Nats-Expected-Stream.
    await addStream(jsm, 120_000, 'OTHER');
    const wrong = await send([ledgerItem(1)]);
    assert.equal(wrong.results[0]!.kind, 'misconfigured');
    assert.match(
      (wrong.results[0] as { detail: string }).detail,
      /backroom\.events\.store-test\.S1 is stored by stream "OTHER", not by "BACKROOM"/,
    );
    assert.equal((await jsm.streams.info('OTHER')).state.messages, 0, 'nothing stored in the other stream');

    // Once the right stream exists the same items go through (an operator's retry).
    await jsm.streams.delete('OTHER');
    await addStream(jsm);
    const retried = await send([ledgerItem(1), ledgerItem(2)]);
    assert.deepEqual(kinds(retried.results), ['delivered', 'delivered']);
  });

  test('the connection test reads the stream: missing is rejected with the nats stream add command, present is ok, no server is unreachable', async (t) => {
    const defer = deferrals(t);
    const nats = await startNats(defer);
    const { jsm } = await admin(defer, nats);
    const probeOf = (url: string) => {
      const ctx = connectorContext('fleet', AGENT_ID);
      defer(ctx.cleanup);
      const bundle = createNatsConnector(
        natsConfig(url, { connectTimeoutMs: 1000, ackTimeoutMs: 1000 }),
        ctx.context,
      );
      defer(() => bundle.close?.());
      return () => bundle.probe!(AbortSignal.timeout(10_000));
    };
    const probe = probeOf(nats.url);

    const missing = await probe();
    assert.ok(!missing.ok && missing.reason === 'rejected', JSON.stringify(missing));
    assert.match(missing.detail, /^connected to NATS at .*, but stream "BACKROOM" does not exist/);
    assert.ok(
      missing.detail.includes(`nats stream add BACKROOM --subjects 'backroom.events.>' --storage file`),
      `names the command: ${missing.detail}`,
    );

    await addStream(jsm);
    const ok = await probe();
    assert.ok(ok.ok, ok.detail);
    assert.match(ok.detail, /stream "BACKROOM" takes backroom\.events\.> and holds 0 message\(s\)$/);
    assert.equal((await jsm.streams.info(STREAM)).state.messages, 0, 'the test publishes nothing');

    const nobody = await probeOf(`nats://127.0.0.1:${await freePort()}`)();
    assert.ok(!nobody.ok && nobody.reason === 'unreachable', JSON.stringify(nobody));
    assert.match(nobody.detail, /^cannot reach NATS \(nats:\/\/127\.0\.0\.1:\d+\)/);
  });

  test('server down: retry without publishing; the connection comes back by itself and items flow', async (t) => {
    const defer = deferrals(t);
    const nats = await startNats(defer);
    const { jsm } = await admin(defer, nats);
    await addStream(jsm);
    await nats.stop();
    // Short timeouts: a publish made before the client noticed the server went away waits out its ack timeout.
    const send = openConnector(defer, nats.url, { connectTimeoutMs: 1000, ackTimeoutMs: 1000 });

    // Down from the start: the lazy first connection fails, nothing is published.
    const down = await send([ledgerItem(1)]);
    assert.equal(down.results[0]!.kind, 'retry');
    assert.match((down.results[0] as { detail: string }).detail, /cannot reach NATS .*nothing was published/);

    await nats.restart();
    const up = await send([ledgerItem(1)]);
    assert.deepEqual(kinds(up.results), ['delivered']);

    // Down after connecting: the client reconnects in the background; sends meanwhile publish nothing.
    await nats.stop();
    const whileDown = await eventually('the connector sees the connection down', 15_000, async () => {
      const outcome = await send([ledgerItem(2)]);
      return outcome.results[0]!.kind === 'retry' ? outcome.results[0] : undefined;
    });
    assert.match((whileDown as { detail: string }).detail, /down; reconnecting, nothing was published/);

    await nats.restart();
    // Done once both are stored; an attempt whose ack came too late makes its retry answer already_applied.
    await eventually(
      'items flow after the server came back',
      15_000,
      async () => {
        const outcome = await send([ledgerItem(2), ledgerItem(3)]);
        return outcome.results.every((r) => r.kind === 'delivered' || r.kind === 'already_applied')
          ? true
          : undefined;
      },
      250,
    );
    // The test's own connection reconnects by itself too.
    const stored = await eventually('the stream can be read', 15_000, () =>
      readStream(jsm).catch(() => undefined),
    );
    assert.deepEqual(
      stored.map((m) => m.msgId),
      ['store-test:pos-1:e-1', 'store-test:pos-1:e-2', 'store-test:pos-1:e-3'],
      'each event stored once, in order',
    );
  });

  test('the agent holds events while the server is down and delivers them once it is back', async (t) => {
    const defer = deferrals(t);
    const nats = await startNats(defer);
    const { jsm } = await admin(defer, nats);
    await addStream(jsm);
    await assertRegistryHasNats(nats.url);
    await nats.stop();
    const dir = tempDir('backroom-nats-agent-');
    defer(dir.cleanup);
    const agent = await startAgent(
      testConfig(join(dir.path, 'data'), {
        agentId: AGENT_ID,
        destinations: [
          {
            id: 'fleet',
            type: 'nats',
            servers: [nats.url],
            subject: SUBJECT,
            stream: STREAM,
            connectTimeoutMs: 1000,
          },
        ],
        delivery: { baseDelayMs: 50, maxDelayMs: 1000 },
      }),
    );
    defer(() => agent.stop());
    const events = Array.from({ length: 10 }, (_, i) => ({
      id: `down-${i}`,
      type: 'receipt',
      location: i % 2 === 0 ? 'S1' : 'S2',
      occurredAt: '2026-11-24T10:15:00+01:00',
      lines: [{ sku: 'SKU-1', qty: 1 }],
    }));
    const posted = await agent.post({ events });
    assert.equal(posted.status, 200);

    const failing = await eventually(
      'a failed attempt is recorded while the server is down',
      10_000,
      async () => {
        const row = agent.agent.db.sqlite
          .prepare(
            `SELECT last_error FROM outbox WHERE destination_id = 'fleet' AND last_error IS NOT NULL LIMIT 1`,
          )
          .get() as { last_error: string } | undefined;
        return row?.last_error;
      },
    );
    assert.match(failing, /cannot reach NATS/);

    await nats.restart();
    await eventually(
      'every held event reaches the stream',
      30_000,
      async () => {
        // The test's own connection reconnects too; until it has, the look fails and is tried again.
        const info = await jsm.streams.info(STREAM).catch(() => null);
        return info !== null && info.state.messages >= events.length ? true : undefined;
      },
      250,
    );
    const copies = copiesById(await readStream(jsm));
    assert.deepEqual(
      [...copies].sort(),
      events.map((e) => [`${AGENT_ID}:pos-1:${e.id}`, 1]).sort(),
      'each event once',
    );
  });
});

/**
 * A loopback TCP relay in front of nats-server, to put a network condition between a client and the server:
 * `serverDelayMs` holds the server's bytes back (in order), and `onClientData` sees each chunk the client sends
 * and may cut the connection instead of passing it (the chunk is lost, as when the client dies before it leaves).
 */
class TcpRelay {
  readonly url: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static async start(
    upstreamPort: number,
    options: Readonly<{ serverDelayMs?: number; onClientData?: (text: string) => 'pass' | 'cut' }>,
  ): Promise<TcpRelay> {
    const port = await freePort();
    const server = createServer();
    const relay = new TcpRelay(server, `nats://127.0.0.1:${port}`);
    server.on('connection', (client) => relay.#pipe(client, upstreamPort, options));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return relay;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(
    client: Socket,
    upstreamPort: number,
    options: Readonly<{ serverDelayMs?: number; onClientData?: (text: string) => 'pass' | 'cut' }>,
  ): void {
    const upstream = new Socket();
    this.#sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    upstream.connect(upstreamPort, '127.0.0.1');
    client.on('data', (chunk: Buffer) => {
      if (options.onClientData?.(chunk.toString('latin1')) === 'cut') return end();
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      const pass = () => {
        if (!client.destroyed) client.write(chunk);
      };
      if (options.serverDelayMs === undefined) pass();
      else setTimeout(pass, options.serverDelayMs);
    });
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}

/*
 * The child process that runs the reference consumer for the crash runs: a handler in exactly_once mode that
 * writes an `effects` row in the dedupe transaction. KILL_IN_TX kills the process inside the handler (before the
 * commit). Without a kill it runs until the consumer is caught up and prints its stats. Its log (JSON lines on
 * stdout, written synchronously, so a killed run's lines are kept) names each message it skipped.
 */
const CONSUMER_CHILD = `
const { ReferenceConsumer } = await import(process.env.CONSUMER_MODULE);
const { createLogger } = await import(process.env.LOGGER_MODULE);
const consumer = await ReferenceConsumer.start({
  servers: [process.env.NATS_URL],
  stream: process.env.STREAM,
  durable: 'central',
  dedupeFile: process.env.DEDUPE_FILE,
  ackWaitMs: 2000,
  batch: 4,
  logger: createLogger({ level: 'debug' }),
  handler: {
    mode: 'exactly_once',
    handle: (m, db) => {
      db.prepare('INSERT INTO effects (msg_id, stream_seq) VALUES (?, ?)').run(m.msgId, m.streamSeq);
      if (m.msgId === process.env.KILL_IN_TX) process.kill(process.pid, 'SIGKILL');
    },
  },
});
const deadline = Date.now() + 20000;
while (!(await consumer.isCaughtUp())) {
  if (Date.now() > deadline) { console.error('not caught up'); process.exit(3); }
  await new Promise((r) => setTimeout(r, 100));
}
const stats = consumer.stats;
await consumer.stop();
console.log(JSON.stringify(stats));
`;

/** A message the consumer acked without calling the handler, from its log. */
type Skip = { msgId: string; streamSeq: number; deliveryCount: number };

/** Runs the consumer child once; resolves with how it ended, the skips it logged and, if it finished, its stats. */
function runConsumerChild(
  env: Record<string, string>,
  onSpawn: (child: ChildProcess) => void = () => {},
): Promise<{
  signal: NodeJS.Signals | null;
  code: number | null;
  skips: Skip[];
  stats: ConsumerStats | null;
  stderr: string;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CONSUMER_CHILD], {
      cwd: ROOT,
      env: {
        ...process.env,
        CONSUMER_MODULE: join(ROOT, 'src-main/connectors/nats/reference-consumer.ts'),
        LOGGER_MODULE: join(ROOT, 'src-main/platform/logger.ts'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onSpawn(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the consumer child did not finish\nstderr: ${stderr}`));
    }, 40_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const skips = lines
        .filter((l) => l.msg === 'already handled; acked without calling the handler')
        .map((l) => ({
          msgId: String(l.msgId),
          streamSeq: Number(l.streamSeq),
          deliveryCount: Number(l.deliveryCount),
        }));
      const stats = (lines.find((l) => 'handled' in l && 'duplicates' in l) ?? null) as ConsumerStats | null;
      resolve({ code, signal, skips, stats, stderr });
    });
  });
}

describe('reference consumer', { skip }, () => {
  test('a copy stored after the duplicate window is ignored: one effect per id through consumer crashes', async (t) => {
    const defer = deferrals(t);
    const nats = await startNats(defer);
    const { jsm } = await admin(defer, nats);
    await addStream(jsm, 1000);
    const send = openConnector(defer, nats.url);

    const items = Array.from({ length: 12 }, (_, i) => ledgerItem(i + 1));
    const first = await send(items);
    assert.ok(first.results.every((r) => r.kind === 'delivered'));
    // Within the window JetStream drops the resend ...
    const inWindow = await send(items.slice(0, 1));
    assert.deepEqual(kinds(inWindow.results), ['already_applied']);
    // ... past it (a store back from a long outage) the resend is stored again.
    await sleep(1500);
    const late = await send(items.slice(0, 4));
    assert.deepEqual(kinds(late.results), ['delivered', 'delivered', 'delivered', 'delivered']);
    const copies = copiesById(await readStream(jsm));
    assert.equal(
      [...copies.values()].reduce((a, b) => a + b, 0),
      16,
      'JetStream stored 12 + 4 late copies',
    );
    assert.deepEqual(
      items.map((item) => copies.get(item.idempotencyKey)),
      [2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1],
    );

    const dir = tempDir('backroom-consumer-');
    defer(dir.cleanup);
    const dedupeFile = join(dir.path, 'central.db');
    const setup = DedupeStore.open(dedupeFile, 30 * 86_400_000);
    setup.db.exec('CREATE TABLE effects (msg_id TEXT NOT NULL, stream_seq INTEGER NOT NULL)');
    setup.close();
    // The consumers reach the server through a relay that can lose the ack of one message together with the
    // consumer: a crash after the effect and its record committed, before the ack reached the server.
    let consumerProcess: ChildProcess | null = null;
    let cutAckOfSeq: number | null = null;
    const relay = await TcpRelay.start(nats.port, {
      onClientData: (text) => {
        if (cutAckOfSeq === null) return 'pass';
        // $JS.ACK.[<domain>.<account>.]<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>...
        const ack = new RegExp(`PUB \\$JS\\.ACK\\.\\S*?${STREAM}\\.central\\.\\d+\\.${cutAckOfSeq}\\.`);
        if (!ack.test(text)) return 'pass';
        cutAckOfSeq = null;
        consumerProcess?.kill('SIGKILL');
        return 'cut';
      },
    });
    defer(() => relay.close());
    const env = { NATS_URL: relay.url, STREAM, DEDUPE_FILE: dedupeFile };

    const crashInTx = await runConsumerChild({ ...env, KILL_IN_TX: items[2]!.idempotencyKey });
    assert.equal(crashInTx.signal, 'SIGKILL', `first run killed inside the handler: ${crashInTx.stderr}`);
    cutAckOfSeq = 8;
    const crashAfterCommit = await runConsumerChild(env, (child) => (consumerProcess = child));
    assert.equal(
      crashAfterCommit.signal,
      'SIGKILL',
      `second run killed as its ack of message 8 left: ${crashAfterCommit.stderr}`,
    );
    assert.equal(cutAckOfSeq, null, 'the ack of message 8 was lost');
    const last = await runConsumerChild(env);
    assert.equal(last.code, 0, `third run catches up: ${last.stderr}`);
    assert.ok(last.stats);
    assert.equal(last.stats.failures + last.stats.unreadable, 0);

    const db = new BetterSqlite3(dedupeFile, { readonly: true });
    defer(() => db.close());
    const effects = db.prepare('SELECT msg_id FROM effects ORDER BY rowid').all() as { msg_id: string }[];
    assert.deepEqual(
      effects.map((e) => e.msg_id).sort(),
      items.map((item) => item.idempotencyKey).sort(),
      'one effect per id: the effect of the run killed inside the handler was rolled back with its record',
    );
    const seen = db.prepare('SELECT COUNT(*) AS n FROM backroom_seen_messages').get() as { n: number };
    assert.equal(seen.n, 12);
    const skips = [...crashInTx.skips, ...crashAfterCommit.skips, ...last.skips];
    // The message whose ack was lost came back and was acked without a second effect.
    assert.ok(
      skips.some((s) => s.msgId === items[7]!.idempotencyKey && s.deliveryCount > 1),
      `the unacked message was redelivered and skipped: ${JSON.stringify(skips)}`,
    );
    // Each of the 4 ids stored twice was skipped once, besides that redelivery (more only if a redelivery raced).
    assert.ok(skips.length >= 5, JSON.stringify(skips));
  });

  test('at_least_once mode calls the async handler once per id; ids are forgotten after the retention', async (t) => {
    const defer = deferrals(t);
    const nats = await startNats(defer);
    const { jsm } = await admin(defer, nats);
    await addStream(jsm, 1000);
    const send = openConnector(defer, nats.url);
    const items = Array.from({ length: 6 }, (_, i) => ledgerItem(i + 1, i % 2 === 0 ? 'S1' : 'S2'));
    await send(items);
    await sleep(1500);
    await send(items.slice(0, 3));

    const dir = tempDir('backroom-consumer-');
    defer(dir.cleanup);
    const calls: string[] = [];
    const consumer = await ReferenceConsumer.start({
      servers: [nats.url],
      stream: STREAM,
      durable: 'webshop',
      filterSubject: `${SUBJECT}.>`,
      dedupeFile: join(dir.path, 'webshop.db'),
      logger: createLogger({ level: 'silent' }),
      parse: (body) => body as FleetMessage,
      handler: {
        mode: 'at_least_once',
        handle: async (m) => {
          assert.equal(m.body.idempotencyKey, m.msgId);
          calls.push(m.msgId);
        },
      },
    });
    let isStopped = false;
    defer(() => (isStopped ? undefined : consumer.stop()));
    await eventually('the consumer caught up', 15_000, async () =>
      (await consumer.isCaughtUp()) ? true : undefined,
    );
    assert.deepEqual(
      calls,
      items.map((item) => item.idempotencyKey),
    );
    assert.deepEqual(consumer.stats, { handled: 6, duplicates: 3, failures: 0, unreadable: 0 });

    const store = consumer.store;
    assert.equal(store.prune(Date.now() + 29 * 86_400_000), 0, 'kept within the 30-day retention');
    assert.equal(store.prune(Date.now() + 31 * 86_400_000), 6, 'forgotten past it');
    isStopped = true;
    await consumer.stop();
  });
});

/** How late the server's bytes reach the agent in the SIGKILL run. */
const ACK_DELAY_MS = 300;
const KILLS = 4;
const CLIENTS = 2;

test(
  'with backroom serve SIGKILLed while publishing, every accepted event is in the stream exactly once',
  { skip, timeout: 120_000 },
  async (t) => {
    const defer = deferrals(t);
    const nats = await startNats(defer);
    const { jsm } = await admin(defer, nats);
    await addStream(jsm);
    await assertRegistryHasNats(nats.url);
    // Between the agent and the server: the server's bytes (the PubAcks) arrive ACK_DELAY_MS late, so each
    // publish is stored by JetStream well before the agent learns it; the test kills the agent in that gap.
    let publishes = 0;
    let onPublish: (() => void) | null = null;
    const relay = await TcpRelay.start(nats.port, {
      serverDelayMs: ACK_DELAY_MS,
      onClientData: (text) => {
        if (text.includes(`PUB ${SUBJECT}.`)) {
          publishes += 1;
          onPublish?.();
        }
        return 'pass';
      },
    });
    defer(() => relay.close());
    const nextPublish = (timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no publish within ${timeoutMs} ms`)), timeoutMs);
        onPublish = () => {
          onPublish = null;
          clearTimeout(timer);
          resolve();
        };
      });
    const url = relay.url;

    const dir = tempDir('backroom-nats-crash-');
    defer(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const config: ConfigInput = testConfig(dataDir, {
      agentId: AGENT_ID,
      destinations: [{ id: 'fleet', type: 'nats', servers: [url], subject: SUBJECT, stream: STREAM }],
      delivery: { baseDelayMs: 50, maxDelayMs: 500 },
    });
    const lives = new AgentLives(writeConfig(dir.path, config));
    defer(() => {
      lives.current?.serve.proc.kill('SIGKILL');
    });
    await lives.start();

    // POS tills stream small batches, resending whatever a kill cut, as in the crash test.
    let isStopping = false;
    const accepted = new Set<string>();
    const clients = Array.from({ length: CLIENTS }, async (_, index) => {
      const dispatcher = new HttpAgent({ connections: 1 });
      const source = index === 0 ? { id: 'pos-1', token: TOKEN } : { id: 'pos-2', token: TOKEN_2 };
      try {
        for (let n = 0; !isStopping; n += 1) {
          const events = Array.from({ length: 1 + (n % 4) }, (_, i) => ({
            id: `till-${index}:${n}:${i}`,
            type: 'sale',
            location: (n + i) % 2 === 0 ? 'S1' : 'S2',
            occurredAt: '2026-11-24T10:15:00+01:00',
            lines: [{ sku: 'SKU-1', qty: 1 }],
          }));
          const { results } = await lives.postEvents(source.token, JSON.stringify({ events }), {
            dispatcher,
            timeoutMs: 15_000,
            maxAttempts: KILLS + 2,
            label: `till ${index}`,
          });
          for (const r of results) {
            assert.ok(r.status === 'accepted' || r.status === 'duplicate', JSON.stringify(r));
            accepted.add(`${AGENT_ID}:${source.id}:${r.id}`);
          }
          await sleep(50);
        }
      } finally {
        await dispatcher.close();
      }
    });
    const clientsDone = Promise.all(clients);
    clientsDone.catch(() => (isStopping = true));

    try {
      for (let kill = 0; kill < KILLS && !isStopping; kill += 1) {
        // Kill right after a publish reached JetStream, while its PubAck is still held back by the relay.
        await nextPublish(20_000);
        await lives.kill();
        await lives.start();
      }
      await sleep(500);
    } finally {
      isStopping = true;
      await Promise.allSettled(clients);
    }
    await clientsDone;

    const db = new BetterSqlite3(join(dataDir, 'backroom.db'), { readonly: true, fileMustExist: true });
    defer(() => db.close());
    const undelivered = db.prepare(
      `SELECT COUNT(*) AS n FROM outbox WHERE destination_id = 'fleet' AND state <> 'delivered'`,
    );
    await eventually(
      'the agent delivered every accepted event',
      60_000,
      async () => {
        const { n } = undelivered.get() as { n: number };
        return n === 0 ? true : undefined;
      },
      250,
    );
    const final = lives.current!;
    final.serve.proc.kill('SIGTERM');
    assert.deepEqual(
      await final.serve.exited,
      { code: 0, signal: null },
      `clean stop: ${final.serve.stderr()}`,
    );

    const stored = await readStream(jsm);
    const copies = copiesById(stored);
    const twice = [...copies].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no event is stored twice');
    assert.deepEqual(
      [...copies.keys()].sort(),
      [...accepted].sort(),
      'the stream holds exactly the accepted events',
    );
    assert.equal(stored.length, accepted.size);
    for (const m of stored) {
      assert.equal(m.subject, natsSubject(SUBJECT, AGENT_ID, m.body.location));
      assert.equal(m.body.idempotencyKey, m.msgId);
    }

    const results = Object.fromEntries(
      (
        db
          .prepare(
            `SELECT result, COUNT(*) AS n FROM delivery_attempts WHERE destination_id = 'fleet' GROUP BY result`,
          )
          .all() as { result: string; n: number }[]
      ).map((r) => [r.result, r.n]),
    );
    t.diagnostic(
      `${KILLS} kills, ${publishes} publish writes, ${accepted.size} events; attempts: ${JSON.stringify(results)}`,
    );
    // The kills landed between a publish and its PubAck: the restarted agent resent those events and JetStream
    // answered duplicate (already_applied) instead of storing them again.
    assert.ok((results.already_applied ?? 0) > 0, `resends were deduplicated: ${JSON.stringify(results)}`);
  },
);

describe('NATS over TLS', { skip: skip || missingBinary('openssl') }, () => {
  /** A server that speaks TLS only, with a certificate from a private CA, and verifies clients' certificates. */
  async function startTlsNats(defer: Defer) {
    const dir = tempDir('backroom-nats-tls-');
    defer(dir.cleanup);
    const certs = makeTestCertificates(dir.path);
    const nats = await NatsServer.start({
      tls: { cert: certs.serverCert, key: certs.serverKey, verifyClientsWith: certs.ca },
    });
    defer(() => nats.dispose());
    const nc = await connect({
      servers: nats.url,
      tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey },
    });
    defer(() => nc.close());
    const jsm = await jetstreamManager(nc);
    await addStream(jsm);
    return { nats, certs, jsm };
  }

  /** The destination as the loader reads it, its TLS material given as files. */
  function tlsConfig(url: string, tls: Record<string, unknown>): NatsConfig {
    const config = parseConfig(
      testConfig('/tmp/unused', {
        destinations: [
          {
            id: 'fleet',
            type: 'nats',
            servers: [url],
            subject: SUBJECT,
            stream: STREAM,
            tls,
            connectTimeoutMs: 2000,
          },
        ],
      }),
      process.cwd(),
    ).destinations[0]!;
    assert.equal(config.type, 'nats');
    return config;
  }

  function open(defer: Defer, config: NatsConfig) {
    const ctx = connectorContext('fleet', AGENT_ID);
    defer(ctx.cleanup);
    const bundle = createNatsConnector(config, ctx.context);
    defer(() => bundle.close?.());
    assert.ok(bundle.connector.mode === 'ledger');
    const connector = bundle.connector;
    return {
      send: (items: readonly LedgerItem[]) => connector.send(items, AbortSignal.timeout(10_000)),
      probe: () => bundle.probe!(AbortSignal.timeout(10_000)),
    };
  }

  test('with the private CA and a client certificate (mutual TLS), events are published and the connection test passes', async (t) => {
    const defer = deferrals(t);
    const { nats, certs, jsm } = await startTlsNats(defer);
    const config = tlsConfig(nats.url, {
      ca: { file: certs.ca },
      cert: { file: certs.clientCert },
      key: { file: certs.clientKey },
    });
    assert.match(String(config.tls?.key), /PRIVATE KEY/, 'the loader read the key file');
    const fleet = open(defer, config);
    assert.deepEqual(kinds((await fleet.send([ledgerItem(1), ledgerItem(2)])).results), [
      'delivered',
      'delivered',
    ]);
    const probe = await fleet.probe();
    assert.ok(probe.ok, probe.detail);
    assert.deepEqual(
      (await readStream(jsm)).map((m) => m.msgId),
      ['store-test:pos-1:e-1', 'store-test:pos-1:e-2'],
    );
  });

  test('a server certificate from a CA not trusted, or no client certificate where the server asks for one, is retried, says why, and publishes nothing', async (t) => {
    const defer = deferrals(t);
    const { nats, certs, jsm } = await startTlsNats(defer);
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'another CA',
        { ca: { file: certs.otherCa }, cert: { file: certs.clientCert }, key: { file: certs.clientKey } },
        /certificate.*not signed by the CA in tls\.ca/,
      ],
      [
        'no CA',
        { cert: { file: certs.clientCert }, key: { file: certs.clientKey } },
        /not trusted: set tls\.ca/,
      ],
      ['no client certificate', { ca: { file: certs.ca } }, /set tls\.cert and tls\.key/],
    ];
    for (const [what, tls, hint] of cases) {
      const fleet = open(defer, tlsConfig(nats.url, tls));
      const { results } = await fleet.send([ledgerItem(3)]);
      assert.equal(results[0]!.kind, 'retry', `${what}: ${JSON.stringify(results)}`);
      const detail = results[0]!.kind === 'retry' ? results[0]!.detail : '';
      assert.match(detail, /^cannot reach NATS/, what);
      assert.match(detail, hint, `${what}: ${detail}`);
      const probe = await fleet.probe();
      assert.ok(!probe.ok && probe.reason === 'unreachable', `${what}: ${JSON.stringify(probe)}`);
      assert.match(probe.detail, hint, `${what}: ${probe.detail}`);
      t.diagnostic(`${what}: ${detail}`);
    }
    assert.deepEqual(await readStream(jsm), [], 'nothing was published');
  });
});
