import { expect, type Locator, type Page } from '@playwright/test';

export class SettingsPage {
  readonly page: Page;
  readonly channels: Locator;
  readonly sourceTokens: Locator;

  constructor(page: Page) {
    this.page = page;
    this.channels = page.getByTestId('channels');
    this.sourceTokens = page.getByTestId('source-tokens');
  }

  destination(id: string): Locator {
    return this.page.getByTestId(`settings-destination-${id}`);
  }

  /** The "Test connection" button of a destination. */
  testConnectionButton(id: string): Locator {
    return this.destination(id).getByRole('button', { name: 'Test connection' });
  }

  /** Where a destination's connection test result is shown (a live region). */
  connectionResult(id: string): Locator {
    return this.destination(id).getByTestId(`connection-test-${id}`);
  }

  /** Presses "Test connection" of a destination, by mouse or by keyboard; returns where its result is shown. */
  async testConnection(id: string, by: 'mouse' | 'keyboard' = 'mouse'): Promise<Locator> {
    const button = this.testConnectionButton(id);
    if (by === 'mouse') await button.click();
    else {
      await button.focus();
      await this.page.keyboard.press('Enter');
    }
    return this.connectionResult(id);
  }

  /** Creates a POS source token and returns it as the page shows it (once). */
  async createSourceToken(source: string, label: string): Promise<string> {
    const form = this.page.getByRole('form', { name: 'Create a source token' });
    await form.getByLabel('POS source id').fill(source);
    await form.getByLabel('For (till, system)').fill(label);
    await form.getByRole('button', { name: 'Create token' }).click();
    const value = this.page.getByTestId('token-value');
    await expect(value).toBeVisible();
    return (await value.textContent()) ?? '';
  }

  /** Opens the revoke form of a token and submits it with `reason` (may be empty, to see it refused). */
  async revokeSourceToken(source: string, hint: string, reason: string): Promise<Locator> {
    const name = `Revoke ${source} token …${hint}`;
    const form = this.page.getByRole('form', { name });
    if (!(await form.isVisible())) await this.page.getByRole('button', { name }).click();
    await form.getByLabel('Reason (required)').fill(reason);
    await form.getByRole('button', { name: 'Revoke token' }).click();
    return form;
  }

  /** A channel's row in the channels table. */
  channel(id: string): Locator {
    return this.page.getByTestId(`channel-${id}`);
  }

  /**
   * Opens a channel's buffer form (if it is not open) and fills it; `submit` saves the number, or sets it back to
   * the config file's value. Returns the form.
   */
  async changeBuffer(
    channel: string,
    units: string,
    reason: string,
    submit: 'save' | 'back to config' = 'save',
  ): Promise<Locator> {
    const name = `Change the buffer of ${channel}`;
    const form = this.page.getByRole('form', { name });
    if (!(await form.isVisible())) await this.page.getByRole('button', { name }).click();
    await form.getByLabel('Units held back').fill(units);
    await form.getByLabel('Reason (required)').fill(reason);
    if (submit === 'save') await form.getByRole('button', { name: 'Save buffer' }).click();
    else await form.getByRole('button', { name: /^Back to the config file/ }).click();
    return form;
  }

  /** A location's row in the locations table. */
  location(id: string): Locator {
    return this.page.getByTestId('locations').getByRole('row', { name: new RegExp(`^${id}\\b`) });
  }

  /** Fills the "Add a location" form and submits it; returns the form. */
  async addLocation(id: string, name: string, reason: string): Promise<Locator> {
    const form = this.page.getByRole('form', { name: 'Add a location' });
    await form.getByLabel('Location id').fill(id);
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Reason (required)').fill(reason);
    await form.getByRole('button', { name: 'Add location' }).click();
    return form;
  }
}
