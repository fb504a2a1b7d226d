import { expect, type Locator, type Page } from '@playwright/test';
import { scan } from './scanner.js';
import { screenshotPath } from '../fixtures.js';

export type EntryTab = 'Receive' | 'Count' | 'Adjust' | 'Transfer';

/** The Stock entry page: its tabs, the line entry (scans and typed SKUs), the lines and the outcome. */
export class EntryPage {
  readonly page: Page;
  /** What the last scan or typed code did (aria-live). */
  readonly scanMessage: Locator;
  readonly lineEntry: Locator;
  readonly lines: Locator;
  readonly outcome: Locator;
  readonly problems: Locator;

  constructor(page: Page) {
    this.page = page;
    this.lineEntry = page.getByTestId('line-entry').first();
    this.scanMessage = page.getByTestId('scan-message').first();
    this.lines = page.getByTestId('entry-lines');
    this.outcome = page.getByTestId('entry-outcome');
    this.problems = page.getByTestId('entry-problems');
  }

  /** Opens the page from the navigation, then the tab. */
  async open(tab: EntryTab = 'Receive'): Promise<void> {
    await this.page
      .getByRole('navigation', { name: 'Pages' })
      .getByRole('link', { name: 'Stock entry' })
      .click();
    await expect(this.page.getByRole('heading', { level: 1, name: 'Stock entry' })).toBeVisible();
    await this.tab(tab);
  }

  async tab(tab: EntryTab): Promise<void> {
    const link = this.page
      .getByRole('navigation', { name: 'Kinds of stock entry' })
      .getByRole('link', { name: tab });
    await link.click();
    await expect(link).toHaveAttribute('aria-current', 'page');
  }

  /** Opens a link as another page would (`#/entry?tab=count&location=S1&sku=MUG-M`). */
  async follow(baseUrl: string, hash: string): Promise<void> {
    await this.page.goto(`${baseUrl}${hash}`);
    await expect(this.page.getByRole('heading', { level: 1, name: 'Stock entry' })).toBeVisible();
  }

  form(name: string): Locator {
    return this.page.getByRole('form', { name });
  }

  /** The count being taken (after "Start count"): its heading says where, and whether it was posted. */
  get countSession(): Locator {
    return this.page.getByTestId('count-session');
  }

  /** Starts the count the "Start a count" form describes (filled in, or prefilled by a link). */
  async startCount(): Promise<void> {
    await this.form('Start a count').getByRole('button', { name: 'Start count' }).click();
    await expect(this.countSession.getByRole('heading', { level: 2 })).toBeVisible();
  }

  /** Records the counted quantity of `sku` as staff type it: the SKU and Enter, then the quantity and Enter. */
  async recordCount(sku: string, counted: number): Promise<void> {
    const code = this.lineEntry.getByLabel('SKU or barcode');
    await code.fill(sku);
    await code.press('Enter');
    await expect(this.lineEntry.getByLabel('Counted')).toBeFocused();
    await this.page.keyboard.type(String(counted));
    await this.page.keyboard.press('Enter');
    await expect(this.page.getByTestId(`count-line-${sku}`).getByRole('textbox')).toHaveValue(
      String(counted),
    );
  }

  /** Opens the count's review and posts it. */
  async reviewAndPostCount(): Promise<void> {
    await this.countSession.getByRole('button', { name: 'Review and post…' }).click();
    await this.page.getByTestId('count-review').getByRole('button', { name: 'Post count' }).click();
  }

  /** Scans `code` as a barcode scanner does (see `scan`); with `gapMs` of 100 or more, a person typing instead. */
  async scan(code: string, gapMs = 0): Promise<void> {
    await scan(this.page, code, gapMs);
  }

  /** Types a SKU and a quantity into the line entry and presses Enter. */
  async typeLine(code: string, qty: string, within: Locator = this.lineEntry): Promise<void> {
    await within.getByLabel(/^(Quantity|Counted|Change)/).fill(qty);
    await within.getByLabel('SKU or barcode').fill(code);
    await within.getByLabel('SKU or barcode').press('Enter');
  }

  line(sku: string): Locator {
    return this.lines
      .getByRole('row')
      .filter({ has: this.page.getByRole('rowheader', { name: sku, exact: true }) });
  }

  /** The quantity field of a line of the lines table. */
  qtyOf(sku: string): Locator {
    return this.lines.getByRole('textbox', { name: new RegExp(`^(Quantity|Change) of ${sku}$`) });
  }

  /** Screenshots of the page at 1280 and 1024 px wide (`<name>-1280.png`, `<name>-1024.png`). */
  async screenshots(name: string): Promise<void> {
    const size = this.page.viewportSize() ?? { width: 1024, height: 768 };
    for (const width of [1280, 1024]) {
      await this.page.setViewportSize({ width, height: 800 });
      await this.page.screenshot({ path: screenshotPath(`${name}-${width}.png`), fullPage: true });
    }
    await this.page.setViewportSize(size);
  }
}
