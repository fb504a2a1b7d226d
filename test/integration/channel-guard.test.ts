import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import type { ChannelCondition } from '../../src-main/ledger/channel-guard.js';
import { FaultSink } from '../simulators/fault-sink.js';
import { ShopifyFake } from '../simulators/shopify-fake.js';
import { contractsMissing } from '../support/contracts.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

const SECRET = 'guard-secret-0123456789';
/** Tightened: half of what is available (afterMinutes is tiny, so a failure counts at the next evaluation). */
const TIGHTEN = { afterMinutes: 0.0001, holdBackPercent: 50, holdBackUnits: 0 };
/** The guard evaluates every 5 s (its timer, as in production); a condition must show within two rounds. */
const GUARD_ROUNDS_MS = 12_000;

/** Polls `check` until it holds; fails naming `what` and the last value seen. */
async function until<T>(
  what: string,
  read: () => T,
  check: (value: T) => boolean,
  timeoutMs = GUARD_ROUNDS_MS,
) {
  const deadline = Date.now() + timeoutMs;
  let value = read();
  while (!check(value)) {
    if (Date.now() > deadline) assert.fail(`${what}; last seen: ${JSON.stringify(value)}`);
    await sleep(50);
    value = read();
  }
  return value;
}

type Setup = { agent: TestAgent; shop: ShopifyFake; sink: FaultSink; shopItem: string; shopStore: string };

/**
 * An agent with three guarded channels: `shop` (the Shopify fake, whose orders are pulled, at S1), `web` (a level
 * webhook also selling S1's stock) and `other` (a level webhook selling only S2's). 10 units of SKU-A at each.
 */
async function setUp(t: TestContext): Promise<Setup> {
  const shop = await ShopifyFake.start();
  t.after(() => shop.stop());
  const shopStore = shop.addLocation('Store one');
  const shopItem = shop.addItem('SKU-A', { [shopStore]: 0 });
  const sink = await FaultSink.start({ secret: SECRET });
  t.after(() => sink.stop());
  const dir = tempDir();
  t.after(dir.cleanup);
  const levels = (id: string, location: string) => ({
    id,
    type: 'level_webhook' as const,
    url: `${sink.url}/${id}`,
    secret: SECRET,
    channel: id,
    locations: [location],
    requestsPerSecond: 1000,
  });
  const agent = await startAgent(
    testConfig(dir.path, {
      channels: ['shop', 'web', 'other'].map((id) => ({ id, buffer: 0, tighten: TIGHTEN })),
      destinations: [
        {
          id: 'shop',
          type: 'shopify',
          url: shop.url,
          accessToken: shop.accessToken,
          channel: 'shop',
          locations: ['S1'],
          // Pulled by hand below (pullNow), never by the poll within the test.
          orders: { location: 'S1', pollSeconds: 3600 },
        },
        levels('web', 'S1'),
        levels('other', 'S2'),
      ],
      delivery: { baseDelayMs: 10, maxDelayMs: 100 },
    }),
  );
  t.after(() => agent.stop());
  for (const location of ['S1', 'S2']) {
    const res = await agent.post(
      makeEvent({ id: `receipt-${location}`, type: 'receipt', location, lines: [{ sku: 'SKU-A', qty: 10 }] }),
    );
    assert.equal(res.body.results[0]!.status, 'accepted');
  }
  return { agent, shop, sink, shopItem, shopStore };
}

/** The newest level of SKU-A each level webhook (`web`, `other`) was sent. */
function sentTo(sink: FaultSink, destination: string): number | null {
  const sent = sink.applied.filter((a) => a.path === `/${destination}` && a.body['sku'] === 'SKU-A');
  return sent.length === 0 ? null : Number(sent.at(-1)!.body['available']);
}

function conditionOf(agent: TestAgent, channel: string): ChannelCondition | undefined {
  return agent.agent.channelGuard.conditions().find((c) => c.channel === channel);
}

test(
  'a marketplace whose orders cannot be read tightens every channel selling the same stock, though its publishes work; read again, all are restored',
  { skip: contractsMissing() },
  async (t) => {
    const { agent, shop, sink, shopItem, shopStore } = await setUp(t);
    await until(
      'every channel published 10',
      () => [sentTo(sink, 'web'), sentTo(sink, 'other'), shop.available(shopItem, shopStore)],
      (v) => v.every((n) => n === 10),
    );

    // The shop's orders endpoint goes down; its inventory mutations keep working.
    shop.failOperation('BackroomOrders');
    await assert.rejects(agent.agent.orders.pullNow('shop'));

    const degraded = await until(
      'the channels selling S1 tightened',
      () => ['shop', 'web', 'other'].map((c) => conditionOf(agent, c)),
      (v) => v[0]?.isDegraded === true && v[1]?.isDegraded === true,
    );
    assert.deepEqual(
      degraded.map((c) => c && { channel: c.channel, reason: c.reason, destination: c.destinationId }),
      [
        { channel: 'shop', reason: 'orders_unread', destination: 'shop' },
        { channel: 'web', reason: 'orders_unread', destination: 'shop' },
        { channel: 'other', reason: null, destination: null },
      ],
    );
    // Tightened to half, on the marketplace whose orders are unread (its publishes succeed) and on the web shop.
    await until(
      'web and the shop were sent the tightened level',
      () => [sentTo(sink, 'web'), shop.available(shopItem, shopStore)],
      (v) => v[0] === 5 && v[1] === 5,
    );
    assert.equal(sentTo(sink, 'other'), 10, 'a channel selling other stock is not tightened');
    // A publish that works says nothing of the orders: still degraded after the shop took the tightened level.
    await sleep(5_500);
    assert.equal(conditionOf(agent, 'shop')?.reason, 'orders_unread');

    shop.restoreOperation('BackroomOrders');
    await agent.agent.orders.pullNow('shop');
    await until(
      'every channel restored',
      () => [sentTo(sink, 'web'), shop.available(shopItem, shopStore), conditionOf(agent, 'web')?.isDegraded],
      (v) => v[0] === 10 && v[1] === 10 && v[2] === false,
    );
  },
);

test('a destination that cannot be published to tightens its own channel only (unreachable), through the dispatcher', async (t) => {
  const sink = await FaultSink.start({ secret: SECRET });
  t.after(() => sink.stop());
  const down = await FaultSink.start({ secret: SECRET });
  t.after(() => down.stop());
  const dir = tempDir();
  t.after(dir.cleanup);
  const agent = await startAgent(
    testConfig(dir.path, {
      channels: ['web', 'app'].map((id) => ({ id, buffer: 0, tighten: TIGHTEN })),
      destinations: [
        { id: 'web', type: 'level_webhook', url: `${sink.url}/web`, secret: SECRET, channel: 'web' },
        { id: 'app', type: 'level_webhook', url: `${down.url}/app`, secret: SECRET, channel: 'app' },
      ],
      delivery: { baseDelayMs: 10, maxDelayMs: 100 },
    }),
  );
  t.after(() => agent.stop());
  await down.setDown(true);
  const res = await agent.post(makeEvent({ id: 'r1', type: 'receipt', lines: [{ sku: 'SKU-A', qty: 8 }] }));
  assert.equal(res.body.results[0]!.status, 'accepted');

  const app = await until(
    'the channel whose destination is down tightened',
    () => conditionOf(agent, 'app'),
    (c) => c?.isDegraded === true,
  );
  assert.deepEqual([app?.reason, app?.destinationId], ['unreachable', 'app']);
  assert.deepEqual(
    [conditionOf(agent, 'web')?.isDegraded, sentTo(sink, 'web')],
    [false, 8],
    'the other channel publishes in full',
  );

  await down.setDown(false);
  await until(
    'the channel back in sync',
    () => conditionOf(agent, 'app')?.isDegraded,
    (d) => d === false,
  );
  await until(
    'the restored level reaches it',
    () => sentTo(down, 'app'),
    (n) => n === 8,
  );
});
