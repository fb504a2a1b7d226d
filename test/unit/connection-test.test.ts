import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectorError } from '../../src-main/connectors/port/connector-error.js';
import { runProbe } from '../../src-main/server/handlers/destinations-handlers.js';

test('a connection test with no answer in time is aborted and answered as unreachable', async () => {
  let signal: AbortSignal | undefined;
  const found = await runProbe(
    (s) => {
      signal = s;
      return new Promise(() => {});
    },
    50,
    () => assert.fail('not a bug'),
  );
  assert.deepEqual(found, {
    ok: false,
    reason: 'unreachable',
    detail: 'no answer within 0.05 s; the destination is down or too slow to work with',
  });
  assert.equal(signal?.aborted, true, 'the probe is told to stop');
});

test('a classified failure thrown by a probe is its answer; anything else is reported as a bug and answered', async () => {
  const refused = await runProbe(
    () => Promise.reject(new ConnectorError('auth_failed', 'HTTP 401: wrong token')),
    1000,
    () => assert.fail('not a bug'),
  );
  assert.deepEqual(refused, { ok: false, reason: 'auth_failed', detail: 'HTTP 401: wrong token' });

  const bugs: unknown[] = [];
  const broken = await runProbe(
    () => Promise.reject(new TypeError('x is undefined')),
    1000,
    (error) => bugs.push(error),
  );
  assert.deepEqual(broken, {
    ok: false,
    reason: 'invalid_response',
    detail: 'the test failed unexpectedly: x is undefined',
  });
  assert.equal(bugs.length, 1);
});
