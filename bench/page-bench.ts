/*
 * What the UI benches (bench/ui.bench.ts: the exceptions page; bench/stock-ui.bench.ts: the Stock page) measure
 * the same way: Debian's Chromium launched by Playwright, an operator logged in once, the first table row painted
 * after navigation (a MutationObserver sees the row; a second animation frame means the frame holding it was
 * painted), and the figures printed as one aligned table.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { ROOT } from '../test/support/harness.js';

/** The operator the benches' agents are configured with and the browser logs in as. */
export const OPERATOR = { name: 'Bench', token: 'bench-operator-token-0123456789' };
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Issue 5 and issue 11: the first rows within 1.5 s. */
export const TARGET_FIRST_RENDER_MS = 1500;
/** A whole bench is stopped after this, whatever hangs. */
const WATCHDOG_MS = 15 * 60_000;

/** The first rows of one page, as {@link measureFirstRenders} times them. */
export type FirstRenders = {
  /** Navigation start → the first row painted, per run. */
  firstRender: number[];
  /** Navigation start → the first page of rows answered (resource timing), per run. */
  firstPageApi: number[];
  /** The page's count of its rows (the text of `countTestId`) after the last run. */
  totalShown: string;
};

/**
 * Checks what a UI bench needs (the built UI, Chromium), starts a watchdog that stops the process when `name`
 * hangs, and prints the machine's line headed `title`.
 */
export function startPageBench(name: string, title: string): void {
  if (!existsSync(join(ROOT, 'src-renderer/dist/index.html')))
    throw new Error('The UI is not built: run `npm run build:ui` (npm run bench:ui does).');
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`);
  const watchdog = setTimeout(() => {
    console.error(`${name} did not finish within ${WATCHDOG_MS / 60_000} minutes; stopping.`);
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  console.log(
    `${title}: ${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPU(s) (${
      cpus()[0]?.model ?? '?'
    }), load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

/** Chromium, headless, with the flags of playwright.config.ts. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}

// The code that runs in the page is kept as text: this project type-checks Node code without the DOM's types.

/** Marks when the first element matching `rowSelector` was painted (double rAF), as `window.__firstRow`. */
function firstRowProbe(rowSelector: string): string {
  return `
  window.__firstRow = null;
  new MutationObserver((_, observer) => {
    if (!document.querySelector(${JSON.stringify(rowSelector)})) return;
    observer.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => { window.__firstRow = performance.now(); }));
  }).observe(document, { subtree: true, childList: true });
`;
}

/** Reads the first-row mark and when the first answer of `apiPath` came (resource timing), or -1. */
function readFirstRender(apiPath: string): string {
  return `(() => {
  const api = performance.getEntriesByType('resource').find((e) => e.name.includes(${JSON.stringify(apiPath)}));
  return { ms: window.__firstRow, api: api ? api.responseEnd : -1 };
})()`;
}

/**
 * Logs in to the agent at `url` in a fresh browser context, then opens `route` in a fresh tab `runs` times after
 * one warm-up (which loads the UI's hashed assets into the cache, as for any returning user), timing the first
 * row painted. `then` runs in the last tab before the context closes (the exceptions bench scrolls there).
 *
 * @example
 * const { firstRender } = await measureFirstRenders(browser, agent.url, { route: '/#/stock', … }, async () => {});
 */
export async function measureFirstRenders<T>(
  browser: Browser,
  url: string,
  options: Readonly<{
    /** The page, as the hash of its address (`/#/stock`). */
    route: string;
    /** A selector that matches once the first row is drawn with its content. */
    rowSelector: string;
    /** The path of the route that answers the first page of rows (`/api/v1/stock/list`). */
    apiPath: string;
    /** The test id of the page's count of its rows. */
    countTestId: string;
    runs: number;
  }>,
  then: (page: Page) => Promise<T>,
): Promise<FirstRenders & { then: T }> {
  // The agent's CSP forbids eval, which Playwright uses to run the probes given as text; the UI itself is unchanged.
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, bypassCSP: true });
  try {
    const login = await context.request.post(`${url}/api/v1/session`, {
      data: { name: OPERATOR.name, token: OPERATOR.token },
    });
    if (!login.ok()) throw new Error(`login failed: ${login.status()} ${await login.text()}`);
    await context.addInitScript(firstRowProbe(options.rowSelector));
    const firstRender: number[] = [];
    const firstPageApi: number[] = [];
    let page: Page | null = null;
    for (let run = 0; run <= options.runs; run += 1) {
      await page?.close();
      page = await context.newPage();
      await page.goto(`${url}${options.route}`);
      await page.waitForFunction('window.__firstRow !== null', null, { timeout: 60_000, polling: 50 });
      const { ms, api } = await page.evaluate<{ ms: number; api: number }>(readFirstRender(options.apiPath));
      if (run === 0) continue; // warm-up: fills the asset cache
      firstRender.push(ms);
      firstPageApi.push(api);
    }
    const totalShown = (await page!.getByTestId(options.countTestId).textContent()) ?? '';
    return { firstRender, firstPageApi, totalShown, then: await then(page!) };
  } finally {
    await context.close();
  }
}

export const median = (values: readonly number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0
    ? 0
    : s.length % 2 === 1
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
export const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
export const ratio = (a: number, b: number) => (b === 0 ? '—' : `${(a / b).toFixed(2)}x`);

/** The head row of a results table: the figure, the baseline's size and the large size, ratio, target. */
export function headRow(baseRows: number, bigRows: number): string[] {
  return [
    'figure',
    `${baseRows.toLocaleString('en-US')} (baseline)`,
    bigRows.toLocaleString('en-US'),
    'ratio',
    'target',
    '',
  ];
}

/** The rows of figure (a): the first row painted (median and worst, against the target) and the first answer. */
export function firstRenderRows(what: string, base: FirstRenders, big: FirstRenders): string[][] {
  const firstBig = median(big.firstRender);
  const worstBig = Math.max(...big.firstRender);
  return [
    [
      `(a) ${what}, median`,
      ms(median(base.firstRender)),
      ms(firstBig),
      ratio(firstBig, median(base.firstRender)),
      `<= ${TARGET_FIRST_RENDER_MS} ms`,
      firstBig <= TARGET_FIRST_RENDER_MS ? 'PASS' : 'MISS',
    ],
    [
      `    ${what}, worst`,
      ms(Math.max(...base.firstRender)),
      ms(worstBig),
      ratio(worstBig, Math.max(...base.firstRender)),
      `<= ${TARGET_FIRST_RENDER_MS} ms`,
      worstBig <= TARGET_FIRST_RENDER_MS ? 'PASS' : 'MISS',
    ],
    [
      '    first page of rows answered',
      ms(median(base.firstPageApi)),
      ms(median(big.firstPageApi)),
      ratio(median(big.firstPageApi), median(base.firstPageApi)),
      '(context)',
      '',
    ],
  ];
}

/** `lines` (the first the head) as text in aligned columns, with a rule under the head. */
export function alignedTable(lines: readonly string[][]): string {
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const row = (l: readonly string[]) =>
    l
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [row(lines[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(row)].join('\n');
}
