import { expect, type Locator, type Page } from '@playwright/test';

export class OverviewPage {
  readonly page: Page;
  readonly threshold: Locator;

  constructor(page: Page) {
    this.page = page;
    this.threshold = page.getByLabel(/Show “data at risk” when anything unsynced is older than/);
  }

  destination(id: string): Locator {
    return this.page.getByTestId(`destination-${id}`);
  }

  async expectDestinationState(id: string, state: string | RegExp): Promise<void> {
    await expect(this.destination(id).getByRole('cell').nth(0)).toHaveText(state);
  }

  async setRiskThresholdSeconds(seconds: number): Promise<void> {
    await this.threshold.fill(String(seconds));
    await expect(this.threshold).toHaveValue(String(seconds));
  }
}
