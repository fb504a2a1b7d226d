import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SenderLoop } from '../../src-main/platform/sender-loop.js';

test('a sender loop never runs twice at once: a wake during a run makes it go round again, run joins it, stop aborts it', async () => {
  let runs = 0;
  let active = 0;
  let release: (() => void) | null = null;
  const errors: unknown[] = [];
  const loop = new SenderLoop(
    async () => {
      runs += 1;
      active += 1;
      assert.equal(active, 1, 'one run at a time');
      if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
      active -= 1;
      return 2;
    },
    { everyMs: 60_000, onError: (error) => errors.push(error) },
  );
  const first = loop.run();
  loop.wake();
  const joined = loop.run();
  assert.equal(joined, first, 'a run asked for during a run joins it');
  release!();
  assert.equal(await first, 4, 'the run went round once more for the wake, trying 2 + 2');
  assert.equal(runs, 2);
  loop.start();
  await loop.stop();
  assert.equal(loop.signal.aborted, true);
  assert.deepEqual(errors, []);
});
