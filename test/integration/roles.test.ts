import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ApiName } from '../../shared/agent-api.js';
import { parseConfig } from '../../src-main/agent/config-loader.js';
import { readLock } from '../../src-main/agent/data-dir-lock.js';
import { FaultSink } from '../simulators/fault-sink.js';
import { startAgent, tempDir, testConfig } from '../support/harness.js';
import { callRoute } from '../support/rpc-client.js';

const SECRET = 'roles-secret-0123456789';
const TOKENS = {
  clerk: 'clerk-token-0123456789',
  manager: 'manager-token-0123456789',
  admin: 'admin-token-0123',
};

type Answer = { status: number; body: Record<string, unknown> };

async function setUp(t: TestContext) {
  const dir = tempDir();
  t.after(dir.cleanup);
  const sink = await FaultSink.start({ secret: SECRET });
  t.after(() => sink.stop());
  const dataDir = join(dir.path, 'data');
  const agent = await startAgent(
    testConfig(dataDir, {
      operators: [
        { name: 'Cleo', token: TOKENS.clerk, role: 'clerk' },
        { name: 'Maria', token: TOKENS.manager, role: 'manager' },
        { name: 'Ada', token: TOKENS.admin, role: 'admin' },
      ],
      destinations: [{ id: 'hq', type: 'webhook', url: `${sink.url}/events`, secret: SECRET }],
    }),
  );
  t.after(() => agent.stop());
  const call = async (name: ApiName, input: Record<string, unknown>, token: string): Promise<Answer> => {
    return callRoute(agent.url, name, input, token);
  };
  const controlToken = readLock(dataDir)!.controlToken;
  return { agent, call, controlToken };
}

/** One route of each role, with an input it accepts. */
const BY_ROLE = {
  clerk: { name: 'exceptions.page', input: { status: 'open' } },
  manager: { name: 'outbox.discard', input: { ids: [999_999], reason: 'a test of roles' } },
  admin: { name: 'sources.list', input: {} },
} as const;

test('each role may call its own routes and those of the roles below it; above it the answer is 403 naming both roles', async (t) => {
  const { call } = await setUp(t);
  const allowed: Record<keyof typeof TOKENS, (keyof typeof BY_ROLE)[]> = {
    clerk: ['clerk'],
    manager: ['clerk', 'manager'],
    admin: ['clerk', 'manager', 'admin'],
  };
  for (const [who, token] of Object.entries(TOKENS) as [keyof typeof TOKENS, string][]) {
    for (const [needed, { name, input }] of Object.entries(BY_ROLE) as [
      keyof typeof BY_ROLE,
      (typeof BY_ROLE)[keyof typeof BY_ROLE],
    ][]) {
      const answer = await call(name, input, token);
      if (allowed[who].includes(needed))
        assert.equal(answer.status, 200, `${who} → ${name}: ${JSON.stringify(answer.body)}`);
      else {
        assert.equal(answer.status, 403, `${who} → ${name}`);
        assert.equal(answer.body['reason'], 'forbidden');
        assert.match(String(answer.body['message']), new RegExp(`is a ${who}: this needs a ${needed}`));
      }
    }
  }
});

test('a refused call changes nothing: a clerk cannot discard a delivery, set a mapping or change a buffer', async (t) => {
  const { agent, call } = await setUp(t);
  const before = agent.agent.audit.list().length;
  for (const [name, input] of [
    ['outbox.discard', { ids: [1], reason: 'no' }],
    ['mappings.set', { destination: 'hq', kind: 'item', local: 'A', remote: 'B' }],
    ['channels.setBuffer', { channel: 'web', buffer: 3, reason: 'no' }],
    ['settings.get', {}],
  ] as const) {
    const answer = await call(name, input, TOKENS.clerk);
    assert.equal(answer.status, 403, `${name}: ${JSON.stringify(answer.body)}`);
  }
  assert.equal(agent.agent.audit.list().length, before, 'nothing was audited, since nothing was done');
});

test('the session tells the UI its role; the local CLI (control token) may call every role’s routes', async (t) => {
  const { agent, call, controlToken } = await setUp(t);
  const login = await fetch(`${agent.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Cleo', token: TOKENS.clerk }),
  });
  assert.deepEqual(await login.json(), { operator: 'Cleo', role: 'clerk' });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const me = await fetch(`${agent.url}/api/v1/session`, { headers: { cookie } });
  assert.deepEqual(await me.json(), { operator: 'Cleo', role: 'clerk' });
  const refused = await fetch(`${agent.url}/api/v1/settings`, { headers: { cookie } });
  assert.equal(refused.status, 403, 'a session is held to its role too');

  // The operator API's routes of each role (the UI's own routes are for sessions and operator tokens only).
  for (const [name, input] of [
    ['exceptions.list', {}],
    ['outbox.discard', { ids: [999_999], reason: 'a test of roles' }],
    ['destinations.resume', { id: 'hq' }],
  ] as const) {
    const answer = await call(name, { ...input, operator: 'IT' }, controlToken);
    assert.equal(answer.status, 200, `control → ${name}: ${JSON.stringify(answer.body)}`);
  }
});

test('the audit log records the role each action was taken in', async (t) => {
  const { agent, call, controlToken } = await setUp(t);
  for (const [token, extra] of [
    [TOKENS.manager, {}],
    [TOKENS.admin, {}],
    [controlToken, { operator: 'cli:root' }],
  ] as const) {
    const answer = await call('destinations.resume', { id: 'hq', reason: 'roles', ...extra }, token);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }
  const entries = agent.agent.audit.list().map((e) => ({ operator: e.operator, role: e.role }));
  assert.deepEqual(entries.reverse(), [
    { operator: 'Maria', role: 'manager' },
    { operator: 'Ada', role: 'admin' },
    { operator: 'cli:root', role: null },
  ]);
  const listed = await call('audit.list', {}, TOKENS.clerk);
  assert.deepEqual(
    (listed.body['entries'] as { role: string | null }[]).map((e) => e.role),
    ['manager', 'admin', null].reverse(),
  );
});

test('an operator without a role is an admin (as before roles existed); an unknown role is a config error naming it', () => {
  const base = testConfig('/tmp/roles-config');
  const parsed = parseConfig(
    { ...base, operators: [{ name: 'Old', token: 'old-token-0123456789' }] },
    '/tmp',
  );
  assert.equal(parsed.operators[0]!.role, 'admin');
  assert.throws(
    () =>
      parseConfig({ ...base, operators: [{ name: 'X', token: 'x-token-0123456789', role: 'boss' }] }, '/tmp'),
    (error: Error) => /operators\.0\.role/.test(error.message),
  );
  // The README documents the roles this test relies on.
  assert.match(
    readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8'),
    /`clerk`, `manager` or `admin`/,
  );
});
