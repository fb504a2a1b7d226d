import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { createLogger } from '../../src-main/platform/logger.js';
import { createHttpServer } from '../../src-main/server/http-server.js';

test('closing the server while a keep-alive request is answered ends that connection with it, so the stop does not wait out the keep-alive', async () => {
  const app = createHttpServer({ logger: createLogger({ level: 'silent' }), maxBodyBytes: 1024 });
  let isAnswering = false;
  app.get('/slow', async () => {
    isAnswering = true;
    await sleep(300);
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');

  // A keep-alive request (fetch pools its connection), in flight when the stop begins.
  const answer = fetch(`http://127.0.0.1:${address.port}/slow`);
  while (!isAnswering) await sleep(5);
  const closed = app.close().then(() => 'closed' as const);

  const response = await answer;
  assert.deepEqual(await response.json(), { ok: true }, 'the request in flight is answered');
  assert.equal(response.headers.get('connection'), 'close', 'its answer ends the connection');
  // Without that, close() waits for the client to drop the idle connection: fastify's keep-alive is 72 s.
  const outcome = await Promise.race([closed, sleep(20_000).then(() => 'still closing' as const)]);
  assert.equal(outcome, 'closed');
});
