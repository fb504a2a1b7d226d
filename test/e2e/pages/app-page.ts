import { expect, type Locator, type Page } from '@playwright/test';

/** The shell every page shares: navigation, the operator, the banners. */
export class AppPage {
  readonly page: Page;
  readonly dataAtRisk: Locator;

  constructor(page: Page) {
    this.page = page;
    this.dataAtRisk = page.getByTestId('data-at-risk');
  }

  async open(baseUrl: string): Promise<void> {
    await this.page.goto(baseUrl);
  }

  async login(name: string, password: string): Promise<void> {
    await this.page.getByLabel('Name').fill(name);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Log in' }).click();
  }

  async expectLoggedInAs(name: string): Promise<void> {
    await expect(this.page.getByText(`Signed in as ${name}`)).toBeVisible();
  }

  async goTo(
    label:
      | 'Overview'
      | 'Exceptions'
      | 'Reconcile'
      | 'Mappings'
      | 'Stock'
      | 'Prices'
      | 'Activity'
      | 'Settings'
      | 'Fulfil'
      | 'Day close',
  ): Promise<void> {
    await this.page
      .getByRole('navigation', { name: 'Pages' })
      .getByRole('link', { name: label, exact: true })
      .click();
    const heading = label === 'Reconcile' ? 'Reconciliation' : label === 'Fulfil' ? 'Fulfil orders' : label;
    await expect(this.page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
  }
}
