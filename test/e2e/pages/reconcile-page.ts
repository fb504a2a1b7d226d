import type { Locator, Page } from '@playwright/test';

/** The reconciliation page: a destination, "Run now", the rows per SKU and location and their fixes. */
export class ReconcilePage {
  readonly page: Page;
  readonly rows: Locator;
  readonly summary: Locator;
  readonly lastRun: Locator;

  constructor(page: Page) {
    this.page = page;
    this.rows = page.getByTestId('reconcile-rows');
    this.summary = page.getByTestId('reconcile-summary');
    this.lastRun = page.getByTestId('last-run');
  }

  row(sku: string, location: string): Locator {
    return this.page.getByTestId(`drift-${sku}-${location}`);
  }

  async run(destination?: string): Promise<void> {
    const form = this.page.getByRole('form', { name: 'Reconcile a destination' });
    if (destination !== undefined) await form.getByLabel('Destination').selectOption(destination);
    await form.getByRole('button', { name: 'Run now' }).click();
  }

  /** Chooses a fix that asks for a reason, and confirms it with `reason` (may be empty, to see it refused). */
  async fixWithReason(
    sku: string,
    location: string,
    fix: 'Adopt remote' | 'Ignore',
    reason: string,
  ): Promise<Locator> {
    const name = `${fix}: ${sku} at ${location}`;
    const form = this.page.getByRole('form', { name });
    if (!(await form.isVisible())) await this.page.getByRole('button', { name }).click();
    await form.getByLabel('Reason (required)').fill(reason);
    await form
      .getByRole('button', { name: fix === 'Adopt remote' ? /^Adopt / : 'Ignore this drift' })
      .click();
    return form;
  }
}
