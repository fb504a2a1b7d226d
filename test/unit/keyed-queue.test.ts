import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedQueue } from '../../src-main/platform/keyed-queue.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('work under one key runs one at a time in order; other keys run alongside; a failure does not stop the queue', async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const step =
    (name: string, fail = false) =>
    async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
  const a1 = queue.run('a', step('a1', true));
  const a2 = queue.run('a', step('a2'));
  const b1 = queue.run('b', step('b1'));
  await assert.rejects(a1, /a1 failed/);
  assert.equal(await a2, 'a2');
  assert.equal(await b1, 'b1');
  // a2 starts only after a1 ended; b1 started before a1 ended.
  assert.ok(log.indexOf('a2 start') > log.indexOf('a1 end'));
  assert.ok(log.indexOf('b1 start') < log.indexOf('a1 end'));
  await tick();
  assert.equal(queue.size, 0, 'no key is kept once its work is done');
});
