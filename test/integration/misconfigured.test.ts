import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src-main/platform/logger.js';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { ExceptionsRepo } from '../../src-main/exceptions/exceptions-repo.js';
import type { LedgerItem } from '../../src-main/connectors/port/connector.js';
import { DeliveryRepo } from '../../src-main/outbox/delivery-repo.js';
import { Dispatcher } from '../../src-main/outbox/dispatcher.js';
import { TokenBucket } from '../../src-main/outbox/token-bucket.js';
import { makeEvent, startAgent, tempDir, testConfig } from '../support/harness.js';

/*
 * A destination set up so that nothing can be applied (a NATS stream that does not exist) pauses with one
 * exception, however deep its queue, instead of rejecting every item; resumed, the queue flows in order.
 */
test('a misconfigured destination pauses with one exception and flows in order once resumed', async () => {
  const dir = tempDir();
  try {
    const agent = await startAgent(
      testConfig(dir.path, {
        destinations: [{ id: 'fleet', type: 'webhook', url: 'http://127.0.0.1:9/none', secret: 's' }],
      }),
    );
    for (let i = 1; i <= 30; i += 1)
      await agent.post(makeEvent({ id: `e${i}`, location: i % 2 ? 'S1' : 'S2' }));
    await agent.stop();

    const db = AgentDatabase.open(join(dir.path, 'backroom.db'));
    const exceptions = new ExceptionsRepo(db);
    const repo = new DeliveryRepo(db);
    repo.resetLeases();
    db.sqlite.prepare(`UPDATE outbox SET next_attempt_at = 0, attempts = 0`).run();
    let isStreamThere = false;
    const applied: string[] = [];
    const dispatcher = new Dispatcher({
      destinationId: 'fleet',
      connector: {
        mode: 'ledger',
        maxBatch: 5,
        send: async (items: readonly LedgerItem[]) => ({
          results: items.map((item) => {
            if (!isStreamThere)
              return { kind: 'misconfigured', detail: 'NATS stream "BACKROOM" does not exist' } as const;
            applied.push(item.event.id);
            return { kind: 'delivered' } as const;
          }),
        }),
      },
      db,
      repo,
      exceptions,
      policy: { baseDelayMs: 10, maxDelayMs: 100, maxAttempts: 3, maxAgeMs: 3600_000 },
      bucket: new TokenBucket(1000, 1000),
      logger: createLogger({ level: 'silent' }),
      tickMs: 50,
    });
    dispatcher.start();
    try {
      const deadline = Date.now() + 10_000;
      while (dispatcher.state !== 'paused' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(dispatcher.state, 'paused');
      await new Promise((r) => setTimeout(r, 300));
      const open = exceptions.list({ status: 'open' }).filter((e) => e.destination_id === 'fleet');
      assert.deepEqual(
        open.map((e) => e.kind),
        ['destination_misconfigured'],
        'one exception, not one per item',
      );
      assert.match(
        open[0]!.message,
        /fleet cannot take anything as it is set up: NATS stream "BACKROOM" does not exist/,
      );
      const states = db.sqlite
        .prepare(`SELECT state, SUM(attempts) AS attempts, COUNT(*) AS n FROM outbox GROUP BY state`)
        .all();
      assert.deepEqual(
        states,
        [{ state: 'pending', attempts: 0, n: 30 }],
        'every item still queued, no attempt spent',
      );

      isStreamThere = true;
      dispatcher.resume('stream created');
      await new Promise((r) => setTimeout(r, 20));
      await dispatcher.waitForIdle();
      assert.equal(applied.length, 30);
      for (const location of [1, 0]) {
        const lane = applied.filter((id) => Number(id.slice(1)) % 2 === location);
        assert.deepEqual(
          lane,
          [...lane].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
          'capture order per lane',
        );
      }
      assert.equal(
        exceptions.list({ status: 'open', kind: 'destination_misconfigured' }).length,
        0,
        'resuming resolved it',
      );
    } finally {
      await dispatcher.stop();
      db.close();
    }
  } finally {
    dir.cleanup();
  }
});
