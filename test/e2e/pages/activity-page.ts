import type { Locator, Page } from '@playwright/test';

export class ActivityPage {
  readonly page: Page;
  readonly table: Locator;

  constructor(page: Page) {
    this.page = page;
    this.table = page.getByTestId('audit');
  }

  entry(text: string | RegExp): Locator {
    return this.table.getByRole('row').filter({ hasText: text });
  }
}
