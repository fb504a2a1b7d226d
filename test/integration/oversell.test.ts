import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { tighten } from '../../src-main/ledger/channel-guard.js';
import { FaultSink, type SinkEvent } from '../simulators/fault-sink.js';
import { makeEvent, startAgent, tempDir, testConfig } from '../support/harness.js';

/*
 * Issue 4, "Must show", Oversell: the quantity published to any marketplace never exceeds on hand − reserved −
 * buffers (safety stock and the channel's buffer), over random event sequences, with the oversell guard
 * tightening and restoring the channel at random moments.
 */

const SECRET = 'oversell-secret';
const SKUS = ['A', 'B'] as const;

type Step =
  | { kind: 'event'; type: string; sku: (typeof SKUS)[number]; qty: number; order: number }
  | { kind: 'degrade' }
  | { kind: 'recover' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      type: fc.constantFrom('sale', 'receipt', 'count', 'adjustment', 'reserve', 'release', 'ship', 'return'),
      sku: fc.constantFrom(...SKUS),
      qty: fc.integer({ min: 1, max: 12 }),
      order: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'degrade' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'recover' as const }) },
);

test('tightening never publishes more than the plain available-to-sell, nor less than zero', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 0, max: 1000 }),
      (available, holdBackPercent, holdBackUnits) => {
        const q = tighten(available, { afterMinutes: 1, holdBackPercent, holdBackUnits });
        assert.ok(q >= 0 && q <= available && Number.isInteger(q));
        if (holdBackPercent === 0 && holdBackUnits === 0) assert.equal(q, available);
        if (holdBackPercent === 100) assert.equal(q, 0);
      },
    ),
    { numRuns: 2000 },
  );
});

test('what a marketplace is sent never exceeds on hand − reserved − safety stock − buffer, over random event sequences', async () => {
  const sink = await FaultSink.start({ secret: SECRET });
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(stepArb, { minLength: 1, maxLength: 14 }),
        async (buffer, safetyStock, holdBackPercent, holdBackUnits, steps) => {
          run += 1;
          const dir = tempDir();
          const destination = `mkt-${run}`;
          const agent = await startAgent(
            testConfig(dir.path, {
              stock: { safetyStock, safetyStockBySku: {} },
              // afterMinutes is tiny so a failure degrades the channel at the next evaluation.
              channels: [
                { id: 'web', buffer, tighten: { afterMinutes: 0.00001, holdBackPercent, holdBackUnits } },
              ],
              destinations: [
                {
                  id: destination,
                  type: 'level_webhook',
                  url: `${sink.url}/${destination}`,
                  secret: SECRET,
                  channel: 'web',
                  requestsPerSecond: 1000,
                },
              ],
              delivery: { baseDelayMs: 10, maxDelayMs: 100, maxAttempts: 50, maxAgeHours: 1 },
            }),
          );
          const dispatcher = agent.agent.dispatchers[0]!;
          let isDegraded = false;
          try {
            for (const [i, step] of steps.entries()) {
              if (step.kind === 'degrade') {
                agent.agent.channelGuard.report(destination, 'publish', false);
                await new Promise((r) => setTimeout(r, 2));
                agent.agent.channelGuard.evaluate();
                isDegraded = true;
              } else if (step.kind === 'recover') {
                agent.agent.channelGuard.report(destination, 'publish', true);
                agent.agent.channelGuard.evaluate();
                isDegraded = false;
              } else {
                const type = step.type;
                const qty = type === 'adjustment' && i % 2 === 0 ? -step.qty : step.qty;
                const res = await agent.post(
                  makeEvent({
                    id: `e${i}`,
                    type,
                    reference: `order-${step.order}`,
                    lines: [{ sku: step.sku, qty }],
                  }),
                );
                assert.equal(res.body.results[0]!.status, 'accepted', JSON.stringify(res.body));
              }
              dispatcher.wake();
              await dispatcher.waitForIdle();
              const published = new Map<string, SinkEvent>();
              for (const { body, path } of sink.applied)
                if (path === `/${destination}`) published.set(String(body['sku']), body);
              for (const sku of SKUS) {
                const level: { onHand: number; reserved: number } = agent.agent.stock.levels({
                  sku,
                  location: 'S1',
                })[0] ?? {
                  onHand: 0,
                  reserved: 0,
                };
                const sent = published.get(sku);
                if (
                  sent === undefined &&
                  !steps.slice(0, i + 1).some((s) => s.kind === 'event' && s.sku === sku)
                )
                  continue;
                const bound: number = Math.max(0, level.onHand - level.reserved - safetyStock - buffer);
                const quantity = Number(sent?.['available']);
                assert.ok(sent !== undefined, `${sku}: a level was published`);
                assert.ok(
                  quantity <= bound,
                  `${sku}: published ${quantity} > on hand ${level.onHand} − reserved ${level.reserved} − safety ${safetyStock} − buffer ${buffer}`,
                );
                // And it is not needlessly low: exactly the bound while synced, the tightened bound while degraded.
                const want: number = isDegraded
                  ? tighten(bound, { afterMinutes: 1, holdBackPercent, holdBackUnits })
                  : bound;
                assert.equal(
                  quantity,
                  want,
                  `${sku}: published ${quantity}, expected ${want} (degraded: ${isDegraded})`,
                );
              }
            }
          } finally {
            await agent.stop();
            dir.cleanup();
          }
        },
      ),
      { numRuns: 25 },
    );
  } finally {
    await sink.stop();
  }
});
