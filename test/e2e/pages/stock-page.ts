import type { Locator, Page } from '@playwright/test';

export class StockPage {
  readonly page: Page;
  readonly levels: Locator;
  readonly movements: Locator;
  /** Orders holding the item. */
  readonly reservations: Locator;

  constructor(page: Page) {
    this.page = page;
    this.levels = page.getByTestId('levels');
    this.movements = page.getByTestId('movements');
    this.reservations = page.getByTestId('reservations');
  }

  async find(query: string): Promise<void> {
    await this.page.getByLabel('SKU or barcode').fill(query);
    await this.page.getByRole('button', { name: 'Find' }).click();
  }
}
