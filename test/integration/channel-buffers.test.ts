import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StockResponse } from '../../shared/api.js';
import type { ConfigInput } from '../../shared/config.js';
import type { AuditEntryView, ChannelSettings, SettingsView } from '../../shared/rpc-views.js';
import { UsageError } from '../../src-main/platform/errors.js';
import { withAgent } from '../../src-main/cli/with-agent.js';
import { FaultSink } from '../simulators/fault-sink.js';
import { makeEvent, startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';

/*
 * Issue 5, Settings, "buffers": a store manager changes a channel's buffer in the UI. It applies at once (the
 * marketplace is sent the new available-to-sell without any new stock movement), survives a restart, is audited
 * with operator and reason, and can be set back to the config file's value. Bad input changes nothing.
 */

const SECRET = 'buffers-hmac-secret';
const MARIA = 'operator-token-maria-0123456789abcdef';
const CHANNEL = 'web';
const CONFIG_BUFFER = 3;
const ON_HAND = 20;

type Reply = { status: number; body: Record<string, unknown> };

async function call(agent: TestAgent, method: 'GET' | 'POST', path: string, body?: unknown, token = MARIA) {
  const response = await fetch(`${agent.url}${path}`, {
    method,
    headers: {
      ...(token === '' ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
  } satisfies Reply;
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

test('a buffer changed in Settings is published at once, audited, kept over a restart, and set back', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const sink = await FaultSink.start({ secret: SECRET });
  t.after(() => sink.stop());
  const config: ConfigInput = testConfig(dir.path, {
    operators: [{ name: 'Maria', token: MARIA }],
    stock: { safetyStock: 0 },
    channels: [{ id: CHANNEL, buffer: CONFIG_BUFFER }],
    destinations: [
      { id: 'mkt', type: 'level_webhook', url: `${sink.url}/levels`, secret: SECRET, channel: CHANNEL },
      // No channel named: it is its own channel, with no buffer until someone sets one.
      { id: 'outlet', type: 'level_webhook', url: `${sink.url}/outlet`, secret: SECRET },
    ],
  });
  let agent = await startAgent(config);
  t.after(() => agent.stop());

  /** What the sink was last sent for SKU-1 at S1 by `destination` (the sink records each request's path). */
  const published = (path: string) =>
    sink.applied
      .filter((a) => a.path === path && a.body['sku'] === 'SKU-1')
      .map((a) => Number(a.body['available']))
      .at(-1);
  const channelOf = async (id: string) => {
    const { body } = await call(agent, 'GET', '/api/v1/settings');
    return (body as unknown as SettingsView).channels.find((c) => c.id === id);
  };
  const auditOf = async () => {
    const { body } = await call(agent, 'GET', '/api/v1/audit');
    return (body['entries'] as AuditEntryView[])
      .filter((e) => e.action.startsWith('channels.'))
      .map((e) => ({
        ...e,
        before: JSON.parse(e.before ?? 'null') as unknown,
        after: JSON.parse(e.after ?? 'null') as unknown,
      }));
  };

  const receipt = await agent.post(
    makeEvent({ id: 'r1', type: 'receipt', location: 'S1', lines: [{ sku: 'SKU-1', qty: ON_HAND }] }),
  );
  assert.equal(receipt.body.results[0]!.status, 'accepted');
  await until('the config buffer to be published', () => published('/levels') === ON_HAND - CONFIG_BUFFER);
  await until('the outlet to be published', () => published('/outlet') === ON_HAND);

  // Settings lists both channels, where their buffers come from, and who publishes to them.
  const web = await channelOf(CHANNEL);
  assert.deepEqual(
    { buffer: web?.buffer, from: web?.override, declared: web?.isDeclared, to: web?.destinations },
    { buffer: CONFIG_BUFFER, from: null, declared: true, to: ['mkt'] },
  );
  const outlet = await channelOf('outlet');
  assert.deepEqual([outlet?.buffer, outlet?.isDeclared], [0, false]);

  // Maria raises the buffer: published at once, with no stock movement behind it.
  const requestsToOutlet = sink.applied.filter((a) => a.path === '/outlet').length;
  const set = await call(agent, 'POST', '/api/v1/channels/buffer', {
    channel: CHANNEL,
    buffer: 8,
    reason: 'Black Friday: marketplace orders arrive late',
  });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const changed = set.body['channel'] as ChannelSettings;
  assert.equal(changed.buffer, 8);
  assert.equal(changed.override?.setBy, 'Maria');
  await until('the new buffer to be published', () => published('/levels') === ON_HAND - 8);
  const stock = (await agent.get('/api/v1/stock?sku=SKU-1')).body as unknown as StockResponse;
  assert.equal(stock.levels[0]!.channels.find((c) => c.channel === CHANNEL)?.available, ON_HAND - 8);
  assert.equal(
    sink.applied.filter((a) => a.path === '/outlet').length,
    requestsToOutlet,
    'the other channel is not sent again',
  );
  const [entry] = await auditOf();
  assert.deepEqual(
    [entry?.action, entry?.operator, entry?.reason, entry?.before, entry?.after],
    [
      'channels.buffer_set',
      'Maria',
      'Black Friday: marketplace orders arrive late',
      { buffer: CONFIG_BUFFER, from: 'config' },
      { buffer: 8, from: 'settings' },
    ],
  );

  // Bad input is refused naming the field; nothing changes and nothing is audited.
  const bad: [unknown, string][] = [
    [{ channel: CHANNEL, buffer: -1, reason: 'x' }, 'buffer'],
    [{ channel: CHANNEL, buffer: 2.5, reason: 'x' }, 'buffer'],
    [{ channel: CHANNEL, buffer: '7', reason: 'x' }, 'buffer'],
    [{ channel: CHANNEL, buffer: 10_000_000, reason: 'x' }, 'buffer'],
    [{ channel: CHANNEL, buffer: 5, reason: '   ' }, 'reason'],
    [{ channel: CHANNEL, buffer: 5 }, 'reason'],
    [{ channel: 'nowhere', buffer: 5, reason: 'x' }, 'channel'],
  ];
  for (const [body, field] of bad) {
    const reply = await call(agent, 'POST', '/api/v1/channels/buffer', body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    const errors = reply.body['errors'] as { path: string }[];
    assert.ok(
      errors.some((e) => e.path === field),
      `${JSON.stringify(body)} names ${field}: ${JSON.stringify(reply.body)}`,
    );
  }
  const anonymous = await call(
    agent,
    'POST',
    '/api/v1/channels/buffer',
    { channel: CHANNEL, buffer: 0, reason: 'x' },
    '',
  );
  assert.equal(anonymous.status, 401);
  assert.equal((await channelOf(CHANNEL))?.buffer, 8);
  assert.equal((await auditOf()).length, 1);

  // Setting what is in effect again changes nothing.
  await call(agent, 'POST', '/api/v1/channels/buffer', { channel: CHANNEL, buffer: 8, reason: 'again' });
  assert.equal((await auditOf()).length, 1);

  // A restart keeps it.
  await agent.stop();
  agent = await startAgent(config);
  assert.equal((await channelOf(CHANNEL))?.override?.buffer, 8);
  const after = (await agent.get('/api/v1/stock?sku=SKU-1')).body as unknown as StockResponse;
  assert.equal(after.levels[0]!.channels.find((c) => c.channel === CHANNEL)?.available, ON_HAND - 8);

  // Back to the config file's value.
  const reset = await call(agent, 'POST', '/api/v1/channels/buffer', {
    channel: CHANNEL,
    buffer: null,
    reason: 'Black Friday is over',
  });
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.deepEqual(
    [(reset.body['channel'] as ChannelSettings).buffer, (reset.body['channel'] as ChannelSettings).override],
    [CONFIG_BUFFER, null],
  );
  await until(
    'the config buffer to be published again',
    () => published('/levels') === ON_HAND - CONFIG_BUFFER,
  );
  const entries = await auditOf();
  assert.equal(entries.length, 2);
  assert.deepEqual(entries.map((e) => e.action).sort(), ['channels.buffer_reset', 'channels.buffer_set']);
});

test('a CLI change the running agent refuses is a usage error quoting the agent, and changes nothing', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const agent = await startAgent(
    testConfig(dir.path, {
      channels: [{ id: CHANNEL, buffer: CONFIG_BUFFER }],
      destinations: [
        {
          id: 'mkt',
          type: 'level_webhook',
          url: 'http://127.0.0.1:1/levels',
          secret: SECRET,
          channel: CHANNEL,
        },
      ],
    }),
  );
  t.after(() => agent.stop());
  const refused = withAgent(
    agent.agent.config,
    {
      path: '/api/v1/control/channels',
      body: { change: { channel: CHANNEL, buffer: -1, reason: 'x', operator: 'it' } },
      timeoutMs: 10_000,
    },
    () => assert.fail('the running agent is asked, not the database'),
  );
  await assert.rejects(refused, (error: Error) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.match(error.message, /^The running agent \(http:\/\/127\.0\.0\.1:\d+\) answered 400: /);
    assert.match(error.message, /change\.buffer: A buffer cannot be negative/);
    return true;
  });
  assert.equal(agent.agent.channelBuffers.bufferOf(CHANNEL), CONFIG_BUFFER);
});
