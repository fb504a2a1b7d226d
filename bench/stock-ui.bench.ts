/*
 * `npm run bench:ui` (second part): how the Stock page holds up with 150,000 item-location rows, in Chromium.
 *
 * For each size (1,000 rows as the same-run baseline, then 150,000: 50,000 items × 3 locations) a real agent is
 * started in this process on a data folder of its own, seeded by `seedStock` (bench/stock-seed.ts: plain SQL in one
 * transaction; two movements per level, each with its event, received over the last 30 days, so last movement
 * times exist and about one level in 30 moved today). Config: locations S1 to S3, safety stock 1, channels `web`
 * (buffer 2) and `marketplace` (buffer 0). Then:
 *
 *   (a) first render: Debian's Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH), driven by Playwright, logs in
 *       once and opens `/#/stock` in a fresh tab, RUNS times after one warm-up; the figure is navigation start →
 *       the first table row with its SKU painted (a MutationObserver sees the row; a second animation frame means
 *       the frame holding it was painted), the same method as the exceptions page's figure in bench/ui.bench.ts.
 *   (b) server: `GET /api/v1/stock/list` (100 rows, as the page asks) for every sort both ways and every filter,
 *       QUERY_RUNS times each over HTTP with the operator's token, after one warm-up call; median and worst.
 *
 * Target (issue 11): first rows within 1.5 s at 150,000. Only 127.0.0.1 is contacted. Results: bench/RESULTS.md,
 * meanings: bench/README.md.
 *
 * Environment: BENCH_STOCK_ROWS (default 150000), BENCH_STOCK_BASELINE_ROWS (default 1000), BENCH_UI_RUNS
 * (default 5), BENCH_STOCK_QUERY_RUNS (default 5), CHROMIUM_PATH.
 */
import { join } from 'node:path';
import type { Browser } from '@playwright/test';
import { startAgent, tempDir, testConfig, type TestAgent } from '../test/support/harness.js';
import {
  alignedTable,
  firstRenderRows,
  headRow,
  launchChromium,
  measureFirstRenders,
  median,
  ms,
  OPERATOR,
  ratio,
  startPageBench,
  type FirstRenders,
} from './page-bench.js';
import { BENCH_LOCATIONS, seedStock } from './stock-seed.js';

const ROWS = Number(process.env.BENCH_STOCK_ROWS ?? 150_000);
const BASELINE_ROWS = Number(process.env.BENCH_STOCK_BASELINE_ROWS ?? 1000);
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 5);
const QUERY_RUNS = Number(process.env.BENCH_STOCK_QUERY_RUNS ?? 5);

/** The `stock.list` queries timed server-side: every sort both ways, then every filter (and a search). */
const QUERIES: readonly Readonly<{ label: string; params: Record<string, string> }>[] = [
  ...['sku', 'name', 'onHand', 'reserved', 'available', 'lastMovement'].flatMap((sort) =>
    ['asc', 'desc'].map((dir) => ({ label: `sort ${sort} ${dir}`, params: { sort, dir } })),
  ),
  { label: 'filter negative', params: { filter: 'negative' } },
  { label: 'filter zero', params: { filter: 'zero' } },
  { label: 'filter below 5', params: { filter: 'below', threshold: '5' } },
  { label: 'filter changed_today', params: { filter: 'changed_today' } },
  { label: 'location S2, sort onHand', params: { location: 'S2', sort: 'onHand' } },
  { label: 'search a barcode', params: { q: '4000000000777' } },
  { label: 'search a name ("mug")', params: { q: 'mug' } },
  { label: 'page at offset 100,000', params: { offset: '100000' } },
];

type QueryResult = { label: string; ms: number[]; total: number };
type SizeResult = FirstRenders & {
  rows: number;
  seedMs: number;
  queries: QueryResult[];
};

async function timeQueries(url: string): Promise<QueryResult[]> {
  const results: QueryResult[] = [];
  for (const q of QUERIES) {
    const search = new URLSearchParams({ ...q.params, limit: '100' }).toString();
    const ms: number[] = [];
    let total = -1;
    for (let run = 0; run <= QUERY_RUNS; run += 1) {
      const started = performance.now();
      const response = await fetch(`${url}/api/v1/stock/list?${search}`, {
        headers: { authorization: `Bearer ${OPERATOR.token}` },
      });
      const body = (await response.json()) as { total?: number };
      const elapsed = performance.now() - started;
      if (!response.ok) throw new Error(`${q.label}: ${response.status} ${JSON.stringify(body)}`);
      total = body.total ?? -1;
      if (run > 0) ms.push(elapsed); // the first call warms the statement cache and the page cache
    }
    results.push({ label: q.label, ms, total });
  }
  return results;
}

async function measure(browser: Browser, rows: number): Promise<SizeResult> {
  const dir = tempDir('backroom-bench-stock-');
  let agent: TestAgent | null = null;
  try {
    const dataDir = join(dir.path, 'data');
    const seedMs = seedStock(dataDir, rows);
    agent = await startAgent(
      testConfig(dataDir, {
        operators: [{ name: OPERATOR.name, token: OPERATOR.token }],
        locations: BENCH_LOCATIONS.map((id) => ({ id, name: `Store ${id}` })),
        stock: { safetyStock: 1, safetyStockBySku: {} },
        channels: [
          { id: 'web', buffer: 2 },
          { id: 'marketplace', buffer: 0 },
        ],
      }),
      dir.path,
    );
    const renders = await measureFirstRenders(
      browser,
      agent.url,
      {
        route: '/#/stock',
        rowSelector: '[data-testid="stock-grid"] [role="row"][data-index] [role="rowheader"]',
        apiPath: '/api/v1/stock/list',
        countTestId: 'stock-count',
        runs: RUNS,
      },
      async () => {},
    );
    const queries = await timeQueries(agent.url);
    const { firstRender, firstPageApi, totalShown } = renders;
    return { rows, seedMs, firstRender, firstPageApi, totalShown, queries };
  } finally {
    await agent?.stop();
    dir.cleanup();
  }
}

function table(base: SizeResult, big: SizeResult): string {
  const lines = [headRow(base.rows, big.rows), ...firstRenderRows('first rows painted', base, big)];
  big.queries.forEach((q, i) => {
    const b = base.queries[i]!;
    lines.push([
      `(b) ${q.label}: median / worst`,
      `${ms(median(b.ms))} / ${ms(Math.max(...b.ms))}`,
      `${ms(median(q.ms))} / ${ms(Math.max(...q.ms))}`,
      ratio(median(q.ms), median(b.ms)),
      `${q.total.toLocaleString('en-US')} rows`,
      '',
    ]);
  });
  return alignedTable(lines);
}

async function main(): Promise<void> {
  startPageBench('the Stock page bench', 'Backroom Stock page benchmark');
  const browser = await launchChromium();
  try {
    console.log(
      `Chromium ${browser.version()}, viewport 1024 x 768, ${RUNS} first renders after a warm-up; ${QUERY_RUNS} calls per query after a warm-up`,
    );
    const base = await measure(browser, BASELINE_ROWS);
    const big = await measure(browser, ROWS);
    console.log('');
    console.log(table(base, big));
    console.log('');
    console.log(
      `details: seeding ${base.rows.toLocaleString('en-US')} rows in ${ms(base.seedMs)}, ${big.rows.toLocaleString('en-US')} in ${ms(big.seedMs)}; ` +
        `the page showed "${base.totalShown}" and "${big.totalShown}"`,
    );
    console.log(
      `         first rows painted (ms): baseline ${base.firstRender.map((v) => v.toFixed(0)).join(', ')}; ${big.rows.toLocaleString('en-US')}: ${big.firstRender
        .map((v) => v.toFixed(0))
        .join(', ')}`,
    );
  } finally {
    await browser.close();
  }
}

await main();
