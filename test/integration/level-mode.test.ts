import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StockResponse } from '../../shared/api.js';
import type { ConfigInput } from '../../shared/config.js';
import { FaultSink, type FaultSinkOptions, type SinkEvent } from '../simulators/fault-sink.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import { seededRandom } from '../support/seeded-random.js';

/*
 * Issue 3, "Must show", Level mode: a marketplace gets the current available-to-sell per (sku, location),
 * coalesced, whatever the number of deltas behind it.
 */

const SECRET = 'level-hmac-secret';
const DESTINATION = 'mkt';
const CHANNEL = 'web';
/** What the config holds back: available = on hand − reserved (0 here) − safety stock − the channel's buffer. */
const BUFFER = 3;
const SAFETY_STOCK = 2;
const SAFETY_STOCK_BY_SKU: Record<string, number> = { 'SKU-007': 5, 'SKU-042': 0, 'SKU-099': 12 };

const safetyStock = (sku: string) => SAFETY_STOCK_BY_SKU[sku] ?? SAFETY_STOCK;
const expectedAvailable = (sku: string, onHand: number) => Math.max(0, onHand - safetyStock(sku) - BUFFER);
const sku = (i: number) => `SKU-${String(i).padStart(3, '0')}`;
const itemKey = (skuId: string, location: string) => `${skuId}|${location}`;

type Line = { sku: string; qty: number };
type Event = { id: string; type: string; location: string; lines: Line[] };

/**
 * `events` events of `linesPerEvent` lines each at `location`, over `skus` SKUs (the first lines cover every
 * SKU): mostly receipts and sales, some signed adjustments, and with `hasCounts` some stock counts.
 */
function generate(
  rand: () => number,
  location: string,
  events: number,
  linesPerEvent: number,
  skus: number,
  hasCounts: boolean,
): Event[] {
  const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
  let line = 0;
  return Array.from({ length: events }, (_, e) => {
    const u = rand();
    const type = hasCounts && u < 0.05 ? 'count' : u < 0.1 ? 'adjustment' : u < 0.6 ? 'receipt' : 'sale';
    const lines = Array.from({ length: linesPerEvent }, () => {
      const index = line < skus ? line : int(0, skus - 1);
      line += 1;
      const qty =
        type === 'receipt'
          ? int(1, 10)
          : type === 'sale'
            ? int(1, 6)
            : type === 'count'
              ? int(0, 40)
              : (rand() < 0.5 ? -1 : 1) * int(1, 3);
      return { sku: sku(index), qty };
    });
    return { id: `${location}-${e}`, type, location, lines };
  });
}

/** On hand and the number of deltas per (sku, location) after `events`, applied in capture order. */
function replay(events: readonly Event[]): Map<string, { onHand: number; deltas: number }> {
  const levels = new Map<string, { onHand: number; deltas: number }>();
  for (const event of events) {
    for (const line of event.lines) {
      const key = itemKey(line.sku, event.location);
      const level = levels.get(key) ?? { onHand: 0, deltas: 0 };
      const delta =
        event.type === 'count' ? line.qty - level.onHand : event.type === 'sale' ? -line.qty : line.qty;
      levels.set(key, { onHand: level.onHand + delta, deltas: level.deltas + 1 });
    }
  }
  return levels;
}

/** The last update the sink applied per (sku, location), in the order applied. */
function lastApplied(sink: FaultSink): Map<string, SinkEvent> {
  const last = new Map<string, SinkEvent>();
  for (const { body } of sink.applied) last.set(itemKey(String(body['sku']), String(body['location'])), body);
  return last;
}

async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A level sink and an agent publishing to it through the `web` channel; both stop when the test ends. */
async function setup(
  t: TestContext,
  sinkOptions: FaultSinkOptions = {},
): Promise<{ sink: FaultSink; agent: TestAgent }> {
  const dir = tempDir();
  t.after(dir.cleanup);
  const sink = await FaultSink.start({ secret: SECRET, ...sinkOptions });
  t.after(() => sink.stop());
  const config: ConfigInput = testConfig(dir.path, {
    stock: { safetyStock: SAFETY_STOCK, safetyStockBySku: SAFETY_STOCK_BY_SKU },
    channels: [{ id: CHANNEL, buffer: BUFFER }],
    destinations: [
      {
        id: DESTINATION,
        type: 'level_webhook',
        url: `${sink.url}/levels`,
        secret: SECRET,
        channel: CHANNEL,
        requestsPerSecond: 20,
      },
    ],
    delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 50, maxAgeHours: 1 },
  });
  const agent = await startAgent(config);
  t.after(() => agent.stop());
  return { sink, agent };
}

async function capture(agent: TestAgent, events: readonly Event[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const chunk = events.slice(i, i + 1000).map((e) => makeEvent(e));
    const { status, body } = await agent.post({ events: chunk });
    assert.equal(status, 200);
    const refused = body.results.filter((r) => r.status !== 'accepted');
    assert.deepEqual(refused, [], 'every event is accepted');
  }
}

async function channelAvailability(agent: TestAgent, location: string): Promise<Map<string, number>> {
  const { status, body } = await agent.get(`/api/v1/stock?location=${location}&limit=10000`);
  assert.equal(status, 200);
  const levels = (body as unknown as StockResponse).levels;
  return new Map(
    levels.map((l) => [l.sku, l.channels.find((c) => c.channel === CHANNEL)?.available ?? Number.NaN]),
  );
}

test('10,000 deltas over 100 SKUs captured while the marketplace is down reach it as at most one update per SKU and location, with the final available-to-sell', async (t) => {
  const seed = Number(process.env.LEVEL_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`seed ${seed} (replay with LEVEL_SEED=${seed})`);
  const rand = seededRandom(seed);
  const s1 = generate(rand, 'S1', 2000, 5, 100, false);
  const s2 = generate(rand, 'S2', 300, 2, 30, true);
  assert.equal(
    s1.reduce((n, e) => n + e.lines.length, 0),
    10_000,
  );
  const { sink, agent } = await setup(t, { down: true });

  await capture(agent, s1);
  await capture(agent, s2);
  assert.equal(sink.applied.length, 0, 'nothing reached the marketplace while it was down');
  await sink.setDown(false);

  const expected = replay([...s1, ...s2]);
  assert.equal(expected.size, 130);
  const isCurrent = () => {
    const last = lastApplied(sink);
    return [...expected].every(
      ([key, level]) => last.get(key)?.['available'] === expectedAvailable(key.split('|')[0]!, level.onHand),
    );
  };
  await until('the marketplace to hold every final level', isCurrent, 60_000);
  await agent.agent.dispatchers[0]!.waitForIdle();

  const perLocation = new Map<string, number>();
  for (const { body } of sink.applied) {
    const location = String(body['location']);
    perLocation.set(location, (perLocation.get(location) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(perLocation), { S1: 100, S2: 30 }, 'one update per SKU and location');

  const last = lastApplied(sink);
  const available = new Map([
    ...[...(await channelAvailability(agent, 'S1'))].map(([k, v]) => [itemKey(k, 'S1'), v] as const),
    ...[...(await channelAvailability(agent, 'S2'))].map(([k, v]) => [itemKey(k, 'S2'), v] as const),
  ]);
  for (const [key, level] of expected) {
    const update = last.get(key)!;
    const want = expectedAvailable(key.split('|')[0]!, level.onHand);
    assert.equal(update['available'], want, `${key}: on hand ${level.onHand}`);
    assert.equal(available.get(key), want, `${key}: GET /api/v1/stock, channel ${CHANNEL}`);
    assert.equal(update['version'], level.deltas, `${key}: the update covers all ${level.deltas} deltas`);
  }
});

test('a level that changes while its update is in flight is sent again with the newer quantity', async (t) => {
  const { sink, agent } = await setup(t, { latencyMs: 1500 });
  const line = { sku: 'SKU-IN-FLIGHT', qty: 10 };
  await capture(agent, [{ id: 'r1', type: 'receipt', location: 'S1', lines: [line] }]);
  // The update for the receipt (available 10 − 2 − 3 = 5) is held by the sink's latency ...
  await until(
    'the first update to be in flight',
    () => sink.log.some((r) => r.outcome === 'pending'),
    10_000,
  );
  // ... while a sale changes the level.
  await capture(agent, [{ id: 's1', type: 'sale', location: 'S1', lines: [{ sku: line.sku, qty: 4 }] }]);
  assert.equal(sink.log[0]?.outcome, 'pending', 'the sale was captured while the first update was in flight');

  await until('a second update', () => sink.applied.length >= 2, 10_000);
  await agent.agent.dispatchers[0]!.waitForIdle();
  const updates = sink.applied.map(({ body }) => ({
    available: body['available'],
    version: body['version'],
  }));
  assert.deepEqual(updates, [
    { available: 5, version: 1 },
    { available: 1, version: 2 },
  ]);
  assert.equal((await channelAvailability(agent, 'S1')).get(line.sku), 1);
});

test('while the marketplace is down, the agent does not spin on its dirty marks: each is rescheduled at most once a second', async (t) => {
  const { sink, agent } = await setup(t, { down: true });
  const marks = 150;
  await capture(
    agent,
    Array.from({ length: marks }, (_, i) => ({
      id: `r${i}`,
      type: 'receipt',
      location: 'S1',
      lines: [{ sku: sku(i), qty: 20 }],
    })),
  );
  const dispatcher = agent.agent.dispatchers[0]!;
  await until('the breaker to open', () => dispatcher.state === 'open', 15_000);
  const sqlite = agent.agent.db.sqlite;
  const changes = () => (sqlite.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  const before = changes();
  const startedAt = Date.now();
  await sleep(3000);
  const rows = changes() - before;
  const seconds = (Date.now() - startedAt) / 1000;
  const bound = marks * Math.ceil(seconds + 1);
  t.diagnostic(`${rows} rows written in ${seconds} s for ${marks} marks`);
  assert.ok(rows <= bound, `${rows} rows written in ${seconds} s for ${marks} marks (at most ${bound})`);
  assert.equal(sink.applied.length, 0);
});
