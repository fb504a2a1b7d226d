/*
 * `npm run bench:prices`: prices out to three channels, coalesced, against the time their rate limits allow.
 *
 * The item master of BENCH_SKUS (default 5,000) items takes BENCH_CHANGES (default 10,000) price changes, spread
 * evenly over the SKUs, stored the way a catalog pull stores them (pages of 500 through `Catalog.apply`, one after
 * the other, before the senders' next turn). Three marketplaces take the retail price, each with every SKU mapped
 * (as after a first sync):
 *
 *   shopify  the Shopify fake (full Admin 2025-01 schema + 2026 changes), cost-based throttle: a bucket of
 *            SHOPIFY_BUCKET points restoring SHOPIFY_RATE a second. Each SKU costs 3 points to read its variant
 *            and product once, and 10 points for its product's productVariantsBulkUpdate.
 *   amazon   the Amazon fake (Listings Items 2021-08-01 models), patchListingsItem's usage plan set to
 *            AMAZON_PLAN: one purchasable_offer patch per SKU.
 *   vendure  a Vendure stand-in: an HTTP sink on 127.0.0.1 answering the Admin API operations the connector sends
 *            (login, activeChannel, updateProductVariants), with a limit of VENDURE_PLAN requests (Vendure itself
 *            states no API limit; the destination's `prices.requestsPerSecond` paces to it). Real Vendure is not
 *            used here: seeding 5,000 products into it through its Admin API takes longer than the whole run.
 *
 * For each channel: the time from the last change stored to every price there, against the least time its
 * limits allow for the same work, computed from the configured limits in this run; updates per SKU (at most
 * one each); requests refused or early under the limit (0 expected); and the prices each channel ends with.
 * The channels run in a child process of their own (bench/prices-fakes.ts), the agent in this one.
 *
 * Environment: BENCH_SKUS (default 5000), BENCH_CHANGES (default 10000), BENCH_ONLY=shopify|amazon|vendure (that
 * channel alone). Traffic only to 127.0.0.1.
 */
import { fork, type ChildProcess, type Serializable } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { startAgent, tempDir, testConfig } from '../test/support/harness.js';
import type { FakesReady, FakesReport, FakesSetup } from './prices-fakes.js';

const SKUS = Number(process.env.BENCH_SKUS ?? 5000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 10_000);
if (!(Number.isInteger(SKUS) && SKUS > 0 && Number.isInteger(CHANGES) && CHANGES >= SKUS))
  throw new Error('BENCH_SKUS must be a whole number above 0 and BENCH_CHANGES at least as many');
const SHOPIFY_BUCKET = 2000;
const SHOPIFY_RATE = 2000;
const AMAZON_PLAN = { rate: 100, burst: 10 } as const;
/** Requests a second and no burst: what the destination's `prices.requestsPerSecond` states, and the sink enforces. */
const VENDURE_PLAN = { rate: 20, burst: 1 } as const;
const VENDURE_BATCH = 50;
const TARGET_RATIO = 1.15;
const PAGE = 500;
const MAX_SECONDS = 600;
const ALL_CHANNELS = ['shopify', 'amazon', 'vendure'] as const;
type Channel = (typeof ALL_CHANNELS)[number];
/** BENCH_ONLY=shopify|amazon|vendure: that channel alone takes prices (the others are not configured to). */
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && !(ALL_CHANNELS as readonly string[]).includes(ONLY))
  throw new Error('BENCH_ONLY must be shopify, amazon or vendure');
const CHANNELS: readonly Channel[] = ONLY === undefined ? ALL_CHANNELS : [ONLY as Channel];

const sku = (n: number) => `P-${String(n).padStart(5, '0')}`;
/** The `k`th change of SKU `n`: distinct cents, never under half the one before (no floor hold). */
const amountOf = (n: number, k: number) => `${10 + (n % 90)}.${String((k * 7 + n) % 100).padStart(2, '0')}`;

/** Starts the channels' child process and waits for its servers. */
async function startFakes(skus: readonly string[]): Promise<{ child: ChildProcess; ready: FakesReady }> {
  const child = fork(join(import.meta.dirname, 'prices-fakes.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await ask<FakesReady>(child, {
    kind: 'setup',
    setup: {
      skus,
      shopify: { bucket: SHOPIFY_BUCKET, rate: SHOPIFY_RATE },
      amazon: AMAZON_PLAN,
      vendure: VENDURE_PLAN,
    } satisfies FakesSetup,
  });
  return { child, ready };
}

/** Sends a message to the child and resolves with the `ready` or `report` it answers. */
function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown) => {
      const answer = raw as { kind: string; ready?: T; report?: T };
      child.off('exit', onExit);
      resolve((answer.ready ?? answer.report) as T);
    };
    const onExit = (code: number | null) => reject(new Error(`the channels' process exited (${code})`));
    child.once('message', onMessage);
    child.once('exit', onExit);
    child.send(message as Serializable);
  });
}

async function main(): Promise<void> {
  console.log(
    `bench:prices: ${CHANGES} price changes over ${SKUS} SKUs; ${cpus().length} CPUs, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const dir = tempDir('backroom-bench-prices-');
  const skus = Array.from({ length: SKUS }, (_, n) => sku(n));
  const { child, ready } = await startFakes(skus);
  const prices = { list: 'retail' };
  const pricesOf = (channel: Channel, extra: Record<string, unknown> = {}) =>
    CHANNELS.includes(channel) ? { prices: { ...prices, ...extra } } : {};
  const agent = await startAgent(
    testConfig(dir.path, {
      destinations: [
        {
          id: 'shopify',
          type: 'shopify',
          url: ready.shopify.url,
          accessToken: ready.shopify.accessToken,
          locations: ['S1'],
          ...pricesOf('shopify'),
        },
        {
          id: 'amazon',
          type: 'amazon',
          endpoint: ready.amazon.endpoint,
          tokenUrl: ready.amazon.tokenUrl,
          ...ready.amazon.credentials,
          locations: ['S1'],
          ...pricesOf('amazon'),
        },
        {
          id: 'vendure',
          type: 'vendure',
          url: ready.vendureUrl,
          username: 'bench',
          password: 'bench',
          locations: ['S1'],
          ...pricesOf('vendure', { requestsPerSecond: VENDURE_PLAN.rate }),
        },
      ],
    }),
  );
  const watchdog = setTimeout(() => {
    console.error(`bench:prices: still running after ${MAX_SECONDS} s; giving up`);
    child.kill('SIGKILL');
    process.exit(1);
  }, MAX_SECONDS * 1000);
  try {
    const mappings = agent.agent.mappings;
    agent.agent.db.transaction(() => {
      skus.forEach((s, n) => {
        mappings.set({
          destinationId: 'shopify',
          kind: 'item',
          localId: s,
          remoteId: ready.shopify.items[n]!,
          origin: 'bench',
        });
        mappings.set({ destinationId: 'amazon', kind: 'item', localId: s, remoteId: s, origin: 'bench' });
        mappings.set({
          destinationId: 'vendure',
          kind: 'item',
          localId: s,
          remoteId: `V${n}`,
          origin: 'bench',
        });
      });
    });

    // The changes: round k gives every SKU its k-th price, in pages of 500, with no turn of the loop between.
    const started = performance.now();
    const expected: Record<string, string> = {};
    const rounds = Math.ceil(CHANGES / SKUS);
    let stored = 0;
    for (let k = 0; k < rounds && stored < CHANGES; k += 1)
      for (let first = 0; first < SKUS && stored < CHANGES; first += PAGE) {
        const page = [];
        for (let n = first; n < Math.min(SKUS, first + PAGE) && stored < CHANGES; n += 1, stored += 1) {
          const amount = amountOf(n, k);
          expected[sku(n)] = amount;
          page.push({
            sku: sku(n),
            name: `Item ${n}`,
            prices: [{ list: 'retail', amount, currency: 'USD' }],
          });
        }
        const report = agent.agent.catalog.apply(page, 'erp');
        if (report.refused.length > 0) throw new Error(`refused: ${report.refused[0]!.message}`);
      }
    const storedMs = performance.now() - started;
    // The clock of each channel starts once every change is stored: from then on only its limits stand between
    // the prices and the channel (storing is shown on its own line).
    const sending = performance.now();

    // Each channel's time until its last price was taken.
    const doneAt = new Map<string, number>();
    const pending = agent.agent.db.sqlite.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM price_marks WHERE destination_id = ? AND (version > sent_version OR held IS NOT NULL)',
    );
    for (let tick = 0; doneAt.size < CHANNELS.length && tick < MAX_SECONDS * 50; tick += 1) {
      for (const d of CHANNELS)
        if (!doneAt.has(d) && pending.get(d)!.n === 0) doneAt.set(d, (performance.now() - sending) / 1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const report = await ask<FakesReport>(child, { kind: 'report', expected });

    // The least time each channel's limits allow for this work.
    const readRequests = Math.ceil(SKUS / 50);
    const shopifyPoints = SKUS * 10 + SKUS * 3 + readRequests;
    const vendureRequests = Math.ceil(SKUS / VENDURE_BATCH) + 2;
    const floors: Record<Channel, { limit: string; work: string; seconds: number }> = {
      shopify: {
        limit: `bucket ${SHOPIFY_BUCKET} pts, ${SHOPIFY_RATE} pts/s`,
        work: `${shopifyPoints} pts`,
        seconds: Math.max(0, shopifyPoints - SHOPIFY_BUCKET) / SHOPIFY_RATE,
      },
      amazon: {
        limit: `${AMAZON_PLAN.rate}/s, burst ${AMAZON_PLAN.burst}`,
        work: `${SKUS} patches`,
        seconds: Math.max(0, SKUS - AMAZON_PLAN.burst) / AMAZON_PLAN.rate,
      },
      vendure: {
        limit: `${VENDURE_PLAN.rate}/s, burst ${VENDURE_PLAN.burst}`,
        work: `${vendureRequests} requests`,
        seconds: Math.max(0, vendureRequests - VENDURE_PLAN.burst) / VENDURE_PLAN.rate,
      },
    };
    console.log(
      `changes stored in ${(storedMs / 1000).toFixed(2)} s (${Math.round(CHANGES / (storedMs / 1000))}/s)`,
    );
    console.log(
      '| channel | limit | least work | floor (s) | took (s) | ratio | updates | max per SKU | requests | limit violations | wrong prices |',
    );
    console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    let isOk = true;
    for (const channel of CHANNELS) {
      const r = report[channel];
      const floor = floors[channel];
      const took = doneAt.get(channel) ?? Number.NaN;
      const ratio = took / floor.seconds;
      isOk &&= ratio <= TARGET_RATIO && r.maxPerSku <= 1 && r.violations === 0 && r.wrong === 0;
      console.log(
        `| ${channel} | ${floor.limit} | ${floor.work} | ${floor.seconds.toFixed(2)} | ${took.toFixed(2)} | ${ratio.toFixed(3)}x | ${r.updates} | ${r.maxPerSku} | ${r.requests} | ${r.violations} | ${r.wrong} |`,
      );
    }
    console.log(
      isOk
        ? `every channel within ${TARGET_RATIO}x of its limits, at most one update per SKU, no violation`
        : `TARGET MISSED (within ${TARGET_RATIO}x, at most one update per SKU, 0 violations, right prices)`,
    );
    process.exitCode = isOk ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    await agent.stop();
    child.send({ kind: 'stop' });
    dir.cleanup();
  }
}

await main();
