import { expect, type Locator, type Page } from '@playwright/test';

export class ExceptionsPage {
  readonly page: Page;
  readonly grid: Locator;
  readonly detail: Locator;
  readonly matchCount: Locator;

  constructor(page: Page) {
    this.page = page;
    this.grid = page.getByRole('grid', { name: 'Exceptions' });
    this.detail = page.getByTestId('exception-detail');
    this.matchCount = page.getByTestId('match-count');
  }

  row(text: string | RegExp): Locator {
    return this.grid.getByRole('row').filter({ hasText: text });
  }

  async filterBySku(sku: string): Promise<void> {
    await this.page.getByRole('search', { name: 'Filter exceptions' }).getByLabel('SKU').fill(sku);
  }

  async filterByKind(label: string): Promise<void> {
    await this.page
      .getByRole('search', { name: 'Filter exceptions' })
      .getByLabel('Kind')
      .selectOption({ label });
  }

  async open(text: string | RegExp): Promise<void> {
    await this.row(text).click();
    await expect(this.detail).toBeVisible();
  }

  async detailAction(name: 'Retry now' | 'Replay as new' | 'Discard', reason = ''): Promise<void> {
    await this.detail.getByLabel(/Reason/).fill(reason);
    await this.detail.getByRole('button', { name }).click();
  }

  /** Fills the detail panel's "Map this SKU" form (destination and SKU are prefilled) and saves it. */
  async mapThisSku(remoteId: string, reason = ''): Promise<Locator> {
    const form = this.detail.getByRole('form', { name: 'Map this SKU' });
    await form.getByLabel('Remote id').fill(remoteId);
    await form.getByLabel('Reason (optional)').fill(reason);
    await form.getByRole('button', { name: 'Save mapping' }).click();
    return form;
  }

  async retryAllMatching(reason: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Retry all matching…' }).click();
    const confirm = this.page.getByRole('group', { name: 'Confirm bulk retry' });
    await confirm.getByLabel('Reason (optional)').fill(reason);
    await confirm.getByRole('button', { name: /^Retry [\d,]+ now$/ }).click();
  }
}
