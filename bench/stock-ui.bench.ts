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
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { ROOT, startAgent, tempDir, testConfig, type TestAgent } from '../test/support/harness.js';
import { BENCH_LOCATIONS, seedStock } from './stock-seed.js';

const ROWS = Number(process.env.BENCH_STOCK_ROWS ?? 150_000);
const BASELINE_ROWS = Number(process.env.BENCH_STOCK_BASELINE_ROWS ?? 1000);
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 5);
const QUERY_RUNS = Number(process.env.BENCH_STOCK_QUERY_RUNS ?? 5);
const TARGET_FIRST_RENDER_MS = 1500;
const OPERATOR = { name: 'Bench', token: 'bench-operator-token-0123456789' };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The whole run is stopped after this, whatever hangs. */
const WATCHDOG_MS = 15 * 60_000;

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
type SizeResult = {
  rows: number;
  seedMs: number;
  firstRender: number[];
  /** Navigation start → the first page of rows answered (resource timing), per run. */
  firstPageApi: number[];
  totalShown: string;
  queries: QueryResult[];
};

/** Marks when the first stock row with its SKU was painted (double rAF), as `window.__firstRow`. */
const FIRST_ROW_PROBE = `
  window.__firstRow = null;
  new MutationObserver((_, observer) => {
    if (!document.querySelector('[data-testid="stock-grid"] [role="row"][data-index] [role="rowheader"]')) return;
    observer.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => { window.__firstRow = performance.now(); }));
  }).observe(document, { subtree: true, childList: true });
`;

// The code that runs in the page is kept as text: this project type-checks Node code without the DOM's types.
const READ_FIRST_RENDER = `(() => {
  const api = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/stock/list'));
  return { ms: window.__firstRow, api: api ? api.responseEnd : -1 };
})()`;

async function firstRender(page: Page, url: string): Promise<{ ms: number; api: number }> {
  await page.goto(`${url}/#/stock`);
  await page.waitForFunction('window.__firstRow !== null', null, { timeout: 60_000, polling: 50 });
  return page.evaluate<{ ms: number; api: number }>(READ_FIRST_RENDER);
}

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
    // The agent's CSP forbids eval, which Playwright uses to run the probes given as text; the UI itself is unchanged.
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, bypassCSP: true });
    const firstRenders: number[] = [];
    const apis: number[] = [];
    let totalShown = '';
    try {
      const login = await context.request.post(`${agent.url}/api/v1/session`, {
        data: { name: OPERATOR.name, token: OPERATOR.token },
      });
      if (!login.ok()) throw new Error(`login failed: ${login.status()} ${await login.text()}`);
      await context.addInitScript(FIRST_ROW_PROBE);
      let page: Page | null = null;
      for (let run = 0; run <= RUNS; run += 1) {
        await page?.close();
        page = await context.newPage();
        const { ms, api } = await firstRender(page, agent.url);
        if (run === 0) continue; // warm-up: fills the asset cache
        firstRenders.push(ms);
        apis.push(api);
      }
      totalShown = (await page!.getByTestId('stock-count').textContent()) ?? '';
    } finally {
      await context.close();
    }
    const queries = await timeQueries(agent.url);
    return { rows, seedMs, firstRender: firstRenders, firstPageApi: apis, totalShown, queries };
  } finally {
    await agent?.stop();
    dir.cleanup();
  }
}

const median = (values: readonly number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0
    ? 0
    : s.length % 2 === 1
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
const ratio = (a: number, b: number) => (b === 0 ? '—' : `${(a / b).toFixed(2)}x`);

function table(base: SizeResult, big: SizeResult): string {
  const lines: string[][] = [
    [
      'figure',
      `${base.rows.toLocaleString('en-US')} (baseline)`,
      big.rows.toLocaleString('en-US'),
      'ratio',
      'target',
      '',
    ],
  ];
  const firstBig = median(big.firstRender);
  lines.push([
    '(a) first rows painted, median',
    ms(median(base.firstRender)),
    ms(firstBig),
    ratio(firstBig, median(base.firstRender)),
    `<= ${TARGET_FIRST_RENDER_MS} ms`,
    firstBig <= TARGET_FIRST_RENDER_MS ? 'PASS' : 'MISS',
  ]);
  const worstBig = Math.max(...big.firstRender);
  lines.push([
    '    first rows painted, worst',
    ms(Math.max(...base.firstRender)),
    ms(worstBig),
    ratio(worstBig, Math.max(...base.firstRender)),
    `<= ${TARGET_FIRST_RENDER_MS} ms`,
    worstBig <= TARGET_FIRST_RENDER_MS ? 'PASS' : 'MISS',
  ]);
  lines.push([
    '    first page of rows answered',
    ms(median(base.firstPageApi)),
    ms(median(big.firstPageApi)),
    ratio(median(big.firstPageApi), median(base.firstPageApi)),
    '(context)',
    '',
  ]);
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
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const row = (l: string[]) =>
    l
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [row(lines[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(row)].join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'src-renderer/dist/index.html')))
    throw new Error('The UI is not built: run `npm run build:ui` (npm run bench:ui does).');
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`);
  const watchdog = setTimeout(() => {
    console.error(`the Stock page bench did not finish within ${WATCHDOG_MS / 60_000} minutes; stopping.`);
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  console.log(
    `Backroom Stock page benchmark: ${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPU(s) (${
      cpus()[0]?.model ?? '?'
    }), load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
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
