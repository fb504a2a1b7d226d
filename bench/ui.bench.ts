/*
 * `npm run bench:ui`: how the exceptions page holds up with 100,000 open exceptions, in Chromium.
 *
 * For each size (1,000 as the same-run baseline, then 100,000) a real agent is started in this process on a data
 * folder of its own whose database was seeded with that many open exceptions (through `ExceptionsRepo.raise`,
 * as the agent raises them: mixed kinds, destinations, SKUs and ages over the last week). Debian's Chromium
 * (`/usr/bin/chromium`, or CHROMIUM_PATH), driven by Playwright, logs in once and then:
 *
 *   (a) first render: opens `/#/exceptions` in a fresh tab, RUNS times after one warm-up (which loads the UI's
 *       hashed assets into the cache, as for any returning user); the figure is navigation start → the first
 *       table row with its message painted (a MutationObserver sees the row; a second animation frame means the
 *       frame holding it was painted). Median and worst are reported.
 *   (b) scrolling: in the last tab, the table is scrolled from the top by a fixed step every animation frame
 *       for SCROLL_MS, twice: a brisk wheel scroll (120 px a frame, about 2 rows) and a scrollbar drag (1,200 px a
 *       frame, about 21 rows, so a new page of 100 rows is fetched every few frames). Frame times are the deltas
 *       between requestAnimationFrame callbacks; long frames are those over 50 ms, and Chromium's own
 *       long-animation-frame entries (PerformanceObserver) are counted too.
 *
 * The ratio 100,000 / 1,000 shows what the size costs; targets (issue 5): first render at most 1.5 s, no long
 * frames while scrolling. Only 127.0.0.1 is contacted. Results: bench/RESULTS.md, meanings: bench/README.md.
 *
 * Environment: BENCH_UI_ROWS (default 100000), BENCH_UI_BASELINE_ROWS (default 1000), BENCH_UI_RUNS (default 5),
 * CHROMIUM_PATH.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { DATABASE_FILE } from '../src-main/agent/agent.js';
import { AgentDatabase } from '../src-main/db/agent-database.js';
import { ExceptionsRepo, type RaiseException } from '../src-main/exceptions/exceptions-repo.js';
import { startAgent, tempDir, testConfig, type TestAgent } from '../test/support/harness.js';
import {
  alignedTable,
  firstRenderRows,
  headRow,
  launchChromium,
  measureFirstRenders,
  ms,
  OPERATOR,
  ratio,
  startPageBench,
  type FirstRenders,
} from './page-bench.js';

const ROWS = Number(process.env.BENCH_UI_ROWS ?? 100_000);
const BASELINE_ROWS = Number(process.env.BENCH_UI_BASELINE_ROWS ?? 1000);
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 5);
const SCROLL_MS = 4000;
const LONG_FRAME_MS = 50;

type ScrollResult = {
  frames: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  longFrames: number;
  /** Chromium's long-animation-frame (or longtask) entries during the scroll. */
  loafCount: number;
  loafMax: number;
  loafType: string;
  scrolledPx: number;
  /** The longest long-animation-frame: its duration, time in scripts, time in style, layout and paint. */
  worst: { duration: number; script: number; layout: number; by: string };
};

type SizeResult = FirstRenders & {
  rows: number;
  seedMs: number;
  wheel: ScrollResult;
  drag: ScrollResult;
};

const KINDS = [
  'delivery_rejected',
  'unmapped_sku',
  'negative_stock',
  'delivery_dead_letter',
  'unknown_sku',
] as const;
const DESTINATIONS = ['erp', 'shopify', 'broker'] as const;

/** The `i`-th seeded exception: what the agent would raise, spread over the last week. */
function exceptionAt(i: number, now: number): RaiseException & { at: number } {
  const kind = KINDS[i % KINDS.length]!;
  const destinationId = DESTINATIONS[i % DESTINATIONS.length]!;
  const sku = `SKU-${String(i % 20_000).padStart(5, '0')}`;
  const reference = `R-${String(i).padStart(7, '0')}`;
  const at = now - Math.floor(((i * 7919) % 604_800) * 1000);
  const message = {
    delivery_rejected: `Sale ${reference} was not accepted by ${destinationId}: 422 product ${sku} is archived. Fix the cause and retry it, or discard it with a reason.`,
    unmapped_sku: `${destinationId} has no item mapped to SKU ${sku}: no inventory item with this SKU. Map it (Mappings, or a mapping CSV); what waits for it is then sent by itself.`,
    negative_stock: `Stock of ${sku} at S1 fell to -${(i % 9) + 1} after Sale ${reference}. Count it, or record the receipt that is missing.`,
    delivery_dead_letter: `Sale ${reference} could not be delivered to ${destinationId} after 50 attempts (last: connect ECONNREFUSED). Retry it once ${destinationId} works again, or discard it with a reason.`,
    unknown_sku: `Sale ${reference} names SKU ${sku}, which is not in the catalog. It was captured; add the item to the catalog.`,
  }[kind];
  return {
    kind,
    // No key: every row is its own exception (no counting up), as 100,000 distinct problems would be.
    dedupeKey: null,
    message,
    details: { reference, sku, error: '422 product archived' },
    source: 'pos-1',
    sku,
    location: 'S1',
    destinationId: kind === 'negative_stock' || kind === 'unknown_sku' ? null : destinationId,
    at,
  };
}

function seed(dataDir: string, rows: number): number {
  const started = performance.now();
  mkdirSync(dataDir, { recursive: true });
  const db = AgentDatabase.open(join(dataDir, DATABASE_FILE));
  try {
    const exceptions = new ExceptionsRepo(db);
    const now = Date.now();
    // Oldest first, so ids grow with time as they would in a real database.
    const all = Array.from({ length: rows }, (_, i) => exceptionAt(i, now)).sort((a, b) => a.at - b.at);
    for (let i = 0; i < all.length; i += 10_000) {
      db.transaction(() => {
        for (const e of all.slice(i, i + 10_000)) exceptions.raise(e, e.at);
      });
    }
  } finally {
    db.close();
  }
  return performance.now() - started;
}

// The code that runs in the page is kept as text: this project type-checks Node code without the DOM's types.

/** Scrolls the table every animation frame for a while and reports the frame times (see the file's comment). */
function scrollScript(pxPerFrame: number): string {
  return `(async () => {
    const body = document.querySelector('.grid-body');
    if (!body) throw new Error('no table to scroll');
    const type = PerformanceObserver.supportedEntryTypes.includes('long-animation-frame') ? 'long-animation-frame' : 'longtask';
    const loaf = [];
    const worst = { duration: 0, script: 0, layout: 0, by: '' };
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        loaf.push(e.duration);
        if (e.duration <= worst.duration) continue;
        // Where the worst frame's time went: scripts (event handlers, React) and style + layout + paint.
        worst.duration = e.duration;
        worst.script = (e.scripts ?? []).reduce((n, x) => n + x.duration, 0);
        worst.layout = e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0;
        worst.by = (e.scripts ?? []).filter((x) => x.duration >= 5)
          .map((x) => x.invokerType + ' ' + x.invoker + (x.sourceFunctionName ? ' (' + x.sourceFunctionName + ')' : '') + ' ' + Math.round(x.duration) + ' ms')
          .join('; ');
      }
    });
    observer.observe({ type, buffered: false });
    const deltas = [];
    let moved = 0;
    await new Promise((resolve) => {
      let last = -1;
      let end = Infinity;
      const step = (t) => {
        if (last >= 0) deltas.push(t - last);
        else end = t + ${SCROLL_MS};
        last = t;
        // At the bottom it starts again from the top, so a short table keeps drawing rows the whole time.
        if (body.scrollTop + body.clientHeight >= body.scrollHeight - 1) body.scrollTop = 0;
        else { body.scrollTop += ${pxPerFrame}; moved += ${pxPerFrame}; }
        if (t < end) requestAnimationFrame(step); else resolve();
      };
      requestAnimationFrame(step);
    });
    // Entries of the last frames arrive a little later.
    await new Promise((r) => setTimeout(r, 200));
    observer.disconnect();
    const sorted = [...deltas].sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return {
      frames: deltas.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? 0,
      longFrames: deltas.filter((d) => d > ${LONG_FRAME_MS}).length,
      loafCount: loaf.length, loafMax: loaf.length === 0 ? 0 : Math.max(...loaf), loafType: type, scrolledPx: moved, worst,
    };
  })()`;
}

async function scroll(page: Page, pxPerFrame: number): Promise<ScrollResult> {
  await page.evaluate(`document.querySelector('.grid-body').scrollTop = 0`);
  await page.waitForTimeout(500);
  return page.evaluate<ScrollResult>(scrollScript(pxPerFrame));
}

async function measure(browser: Browser, rows: number): Promise<SizeResult> {
  const dir = tempDir('backroom-bench-ui-');
  let agent: TestAgent | null = null;
  try {
    const dataDir = join(dir.path, 'data');
    const seedMs = seed(dataDir, rows);
    agent = await startAgent(
      testConfig(dataDir, {
        operators: [{ name: OPERATOR.name, token: OPERATOR.token }],
        // A destination nothing listens for: no outbox rows exist, so it never sends; it names the filter's list.
        destinations: [{ id: 'erp', type: 'webhook', url: 'http://127.0.0.1:9/x', secret: 'bench-secret' }],
      }),
      dir.path,
    );
    const renders = await measureFirstRenders(
      browser,
      agent.url,
      {
        route: '/#/exceptions',
        rowSelector: '[data-testid="exceptions-grid"] [role="row"][data-index] .message',
        apiPath: '/api/v1/exceptions/page',
        countTestId: 'match-count',
        runs: RUNS,
      },
      async (page) => ({ wheel: await scroll(page, 120), drag: await scroll(page, 1200) }),
    );
    const { firstRender, firstPageApi, totalShown } = renders;
    return { rows, seedMs, firstRender, firstPageApi, totalShown, ...renders.then };
  } finally {
    await agent?.stop();
    dir.cleanup();
  }
}

function table(base: SizeResult, big: SizeResult): string {
  const lines = [headRow(base.rows, big.rows), ...firstRenderRows('first render', base, big)];
  for (const [label, key] of [
    ['(b) wheel scroll 120 px/frame', 'wheel'],
    ['(c) scrollbar drag 1200 px/frame', 'drag'],
  ] as const) {
    const a = base[key];
    const b = big[key];
    lines.push([`${label}: frame p50`, ms(a.p50), ms(b.p50), ratio(b.p50, a.p50), '', '']);
    lines.push([
      '    frame p95 / p99',
      `${ms(a.p95)} / ${ms(a.p99)}`,
      `${ms(b.p95)} / ${ms(b.p99)}`,
      ratio(b.p99, a.p99),
      '',
      '',
    ]);
    lines.push([
      '    longest frame',
      ms(a.max),
      ms(b.max),
      ratio(b.max, a.max),
      `<= ${LONG_FRAME_MS} ms`,
      b.max <= LONG_FRAME_MS ? 'PASS' : 'MISS',
    ]);
    lines.push([
      `    frames > ${LONG_FRAME_MS} ms / all`,
      `${a.longFrames} / ${a.frames}`,
      `${b.longFrames} / ${b.frames}`,
      '',
      '0',
      b.longFrames === 0 ? 'PASS' : 'MISS',
    ]);
    lines.push([
      `    ${b.loafType} entries (max)`,
      `${a.loafCount} (${ms(a.loafMax)})`,
      `${b.loafCount} (${ms(b.loafMax)})`,
      '',
      '0',
      b.loafCount === 0 ? 'PASS' : 'MISS',
    ]);
  }
  return alignedTable(lines);
}

async function main(): Promise<void> {
  startPageBench('bench:ui', 'Backroom UI benchmark');
  const browser = await launchChromium();
  try {
    console.log(
      `Chromium ${browser.version()}, viewport 1024 x 768, ${RUNS} first renders after a warm-up, ${SCROLL_MS / 1000} s per scroll`,
    );
    const base = await measure(browser, BASELINE_ROWS);
    const big = await measure(browser, ROWS);
    console.log('');
    console.log(table(base, big));
    console.log('');
    console.log(
      `details: seeding ${base.rows.toLocaleString('en-US')} in ${ms(base.seedMs)}, ${big.rows.toLocaleString('en-US')} in ${ms(big.seedMs)}; ` +
        `the page showed "${base.totalShown}" and "${big.totalShown}"`,
    );
    console.log(
      `         first renders (ms): baseline ${base.firstRender.map((v) => v.toFixed(0)).join(', ')}; ${big.rows.toLocaleString('en-US')}: ${big.firstRender
        .map((v) => v.toFixed(0))
        .join(', ')}`,
    );
    const worst = (r: ScrollResult) =>
      r.worst.duration === 0
        ? 'none'
        : `${ms(r.worst.duration)} (scripts ${ms(r.worst.script)}${r.worst.by === '' ? '' : `: ${r.worst.by}`}, style/layout/paint ${ms(r.worst.layout)})`;
    console.log(
      `         longest animation frame: wheel ${worst(base.wheel)} / ${worst(big.wheel)}; drag ${worst(base.drag)} / ${worst(big.drag)}`,
    );
    console.log(
      `         scrolled: wheel ${base.wheel.scrolledPx.toLocaleString('en-US')} / ${big.wheel.scrolledPx.toLocaleString('en-US')} px, drag ${base.drag.scrolledPx.toLocaleString('en-US')} / ${big.drag.scrolledPx.toLocaleString('en-US')} px (baseline / large; the baseline table starts again from the top when it reaches the end)`,
    );
  } finally {
    await browser.close();
  }
}

await main();
