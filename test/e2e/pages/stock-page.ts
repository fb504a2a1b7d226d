import { expect, type Locator, type Page } from '@playwright/test';

/** The Stock page: the table of every item at every location, and an item's page (`#/stock?sku=...`). */
export class StockPage {
  readonly page: Page;
  /** The table of item-location rows. */
  readonly grid: Locator;
  /** "3 rows": how many rows match. */
  readonly count: Locator;
  /** An item's page: its levels per location, the orders holding it, its ledger history. */
  readonly levels: Locator;
  readonly movements: Locator;
  /** An item's page: its item master fields (with who set each) and its prices per list. */
  readonly master: Locator;
  readonly prices: Locator;
  /** Orders holding the item. */
  readonly reservations: Locator;

  constructor(page: Page) {
    this.page = page;
    this.grid = page.getByTestId('stock-grid');
    this.count = page.getByTestId('stock-count');
    this.levels = page.getByTestId('levels');
    this.movements = page.getByTestId('movements');
    this.master = page.getByTestId('master');
    this.prices = page.getByTestId('prices');
    this.reservations = page.getByTestId('reservations');
  }

  /** The table's rows with data (not the head, not a row still loading). */
  get rows(): Locator {
    return this.grid.getByRole('row').filter({ has: this.page.getByRole('rowheader') });
  }

  /** The row of `sku` at `location`. */
  row(sku: string, location: string): Locator {
    return this.rows.filter({ has: this.page.getByRole('rowheader', { name: sku, exact: true }) }).filter({
      has: this.page.getByRole('gridcell', { name: location, exact: true }),
    });
  }

  /** Types a search and waits until the table shows its answer (it applies after a pause in typing). */
  async search(query: string): Promise<void> {
    await this.page.getByRole('searchbox', { name: 'Search' }).fill(query);
    await expect(this.grid).toHaveAttribute('data-search', query.trim());
    await expect(this.grid).toHaveAttribute('aria-busy', 'false');
  }

  /** Shows only rows of one filter chip: 'Negative', 'Zero', 'Below 5', 'Changed today' or 'All'. */
  async show(chip: string): Promise<void> {
    const button = this.page.getByRole('group', { name: 'Show' }).getByRole('button', { name: chip });
    await button.click();
    await expect(button).toHaveAttribute('aria-pressed', 'true');
  }

  /** Sorts by a column's header button; clicking it again turns the order round. */
  async sortBy(column: string): Promise<void> {
    await this.grid.getByRole('columnheader', { name: column }).getByRole('button').click();
  }

  /** Searches for an item by SKU, name or barcode and opens the first row found: the item's page. */
  async find(query: string): Promise<void> {
    await this.search(query);
    await this.rows.first().click();
    await expect(this.page.getByRole('heading', { level: 2 })).toBeVisible();
  }
}
