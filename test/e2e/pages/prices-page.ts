import type { Locator, Page } from '@playwright/test';

/** The Prices page: the counts per channel, the price changes waiting or held, and a held one's decisions. */
export class PricesPage {
  readonly page: Page;
  readonly rows: Locator;
  readonly summary: Locator;

  constructor(page: Page) {
    this.page = page;
    this.rows = page.getByTestId('price-rows');
    this.summary = page.getByTestId('prices-summary');
  }

  row(destination: string, sku: string): Locator {
    return this.page.getByTestId(`price-${destination}-${sku}`);
  }

  async confirm(destination: string, sku: string): Promise<void> {
    await this.page.getByRole('button', { name: `Confirm and send: ${sku} at ${destination}` }).click();
  }

  /** Keeps the old price with `reason` (may be empty, to see it refused); returns the inline form. */
  async keep(destination: string, sku: string, reason: string): Promise<Locator> {
    const name = `Keep old price: ${sku} at ${destination}`;
    const form = this.page.getByRole('form', { name });
    if (!(await form.isVisible())) await this.page.getByRole('button', { name }).click();
    await form.getByLabel('Reason (required)').fill(reason);
    await form.getByRole('button', { name: /^Keep / }).click();
    return form;
  }
}
