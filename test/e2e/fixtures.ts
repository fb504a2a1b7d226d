import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test as base } from '@playwright/test';
import type { StatusResponse } from '../../shared/api.js';
import type { ConfigInput } from '../../shared/config.js';
import { unsyncedReport } from '../../src-main/cli/unsynced-report.js';
import { startAgent, tempDir, testConfig, type TestAgent } from '../support/harness.js';
import { FaultSink, type FaultSinkOptions } from '../simulators/fault-sink.js';

export const OPERATOR = { name: 'Maria', password: 'maria-e2e-token-0123456789' };
export const WEBHOOK_SECRET = 'e2e-webhook-secret';
const SECRET = WEBHOOK_SECRET;

export type Backroom = {
  agent: TestAgent;
  /** The ERP stand-in the `erp` webhook destination delivers to. */
  sink: FaultSink;
  dataDir: string;
  /** Sends sales (or any events) through the ingest API as POS `pos-1`. */
  send: (events: Record<string, unknown>[]) => Promise<void>;
  /** The drop folder watched for `pos-1`'s export files (with `dropFolder: true`), else null. */
  dropFolder: string | null;
};

type StartOptions = {
  sink?: FaultSinkOptions;
  config?: Partial<ConfigInput>;
  catalogCsv?: string;
  /** Destinations besides `erp` (a Shopify fake's shop). */
  destinations?: NonNullable<ConfigInput['destinations']>;
  /** Watch a drop folder (`<dir>/drop`) for `pos-1`'s export files, read once stable for 200 ms. */
  dropFolder?: boolean;
  /** Run the reconciliation schedule every this many ms (test-only, see `TestAgentOptions`). */
  reconcileEveryMs?: number;
};

/** A sale with a receipt number. */
export function sale(reference: string, sku = 'SKU-1', qty = 1): Record<string, unknown> {
  return {
    id: `pos-1:${reference}`,
    type: 'sale',
    location: 'S1',
    occurredAt: '2026-11-24T10:15:00+01:00',
    reference,
    lines: [{ sku, qty, unitPrice: '9.99', currency: 'EUR' }],
  };
}

/**
 * `backroom(options)` starts an agent with its own data folder, an operator and a webhook destination `erp`
 * delivering to a FaultSink; both stop, and the folder is removed, when the test ends.
 */
export const test = base.extend<{ backroom: (options?: StartOptions) => Promise<Backroom> }>({
  // Playwright reads which fixtures a fixture needs from this pattern; this one needs none.
  // eslint-disable-next-line no-empty-pattern
  backroom: async ({}, use) => {
    const started: { agent: TestAgent; sink: FaultSink; cleanup: () => void }[] = [];
    await use(async (options = {}) => {
      const dir = tempDir('backroom-e2e-');
      const sink = await FaultSink.start({ secret: SECRET, ...options.sink });
      const catalog =
        options.catalogCsv === undefined
          ? {}
          : (writeFileSync(join(dir.path, 'items.csv'), options.catalogCsv),
            { catalog: { path: join(dir.path, 'items.csv') } });
      const drop = options.dropFolder === true ? join(dir.path, 'drop') : null;
      const agent = await startAgent(
        testConfig(join(dir.path, 'data'), {
          operators: [{ name: OPERATOR.name, token: OPERATOR.password }],
          destinations: [
            { id: 'erp', type: 'webhook', url: `${sink.url}/events`, secret: SECRET },
            ...(options.destinations ?? []),
          ],
          delivery: { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 50, maxAgeHours: 1 },
          ...catalog,
          ...(drop !== null ? { dropFolders: [{ path: drop, source: 'pos-1', stableMs: 200 }] } : {}),
          ...options.config,
        }),
        dir.path,
        options.reconcileEveryMs !== undefined ? { reconcileEveryMs: options.reconcileEveryMs } : {},
      );
      started.push({ agent, sink, cleanup: dir.cleanup });
      return {
        agent,
        sink,
        dataDir: dir.path,
        dropFolder: drop,
        send: async (events) => {
          const { status, body } = await agent.post({ events });
          if (status !== 200 || body.results.some((r) => r.status === 'rejected')) {
            throw new Error(`ingest failed: ${status} ${JSON.stringify(body)}`);
          }
        },
      };
    });
    for (const s of started.reverse()) {
      await s.agent.stop();
      await s.sink.stop();
      s.cleanup();
    }
  },
});

export { expect } from '@playwright/test';

/** The agent's status as `backroom unsynced` reads it, reduced to what that report says. */
export async function unsynced(backroom: Backroom): Promise<{ openExceptions: number; pending: number }> {
  const { status, body } = await backroom.agent.get('/api/v1/status');
  expect(status).toBe(200);
  const report = unsyncedReport(body as unknown as StatusResponse, {
    configFile: 'config.json',
    dataDir: backroom.dataDir,
  });
  return { openExceptions: report.openExceptions, pending: report.pending };
}

/** Where the README's screenshots are kept. */
export function screenshotPath(name: string): string {
  return join(import.meta.dirname, '../../docs/screenshots', name);
}
