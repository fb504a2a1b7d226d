import { expect, type Locator, type Page } from '@playwright/test';

export class ExceptionsPage {
  readonly page: Page;
  readonly grid: Locator;
  readonly detail: Locator;
  readonly matchCount: Locator;
  /** What the last fix of the open exception did (a live region of the detail panel). */
  readonly fixOutcome: Locator;

  constructor(page: Page) {
    this.page = page;
    this.grid = page.getByRole('grid', { name: 'Exceptions' });
    this.detail = page.getByTestId('exception-detail');
    this.matchCount = page.getByTestId('match-count');
    this.fixOutcome = page.getByTestId('fix-outcome');
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
    return this.mapThis('SKU', remoteId, reason);
  }

  /**
   * Fills the detail panel's "Map this SKU" or "Map this location" form (destination and local id are
   * prefilled) with the id the destination knows it by, and saves it.
   */
  async mapThis(what: 'SKU' | 'location', remoteId: string, reason = ''): Promise<Locator> {
    const form = this.detail.getByRole('form', { name: `Map this ${what}` });
    await form.getByLabel('Remote id').fill(remoteId);
    await form.getByLabel('Reason (optional)').fill(reason);
    await form.getByRole('button', { name: 'Save mapping' }).click();
    return form;
  }

  /** A paused destination: the panel's "Resume delivery" once its credentials or setup are fixed. */
  async resume(destination: string, reason: string): Promise<void> {
    const form = this.detail.getByRole('form', { name: `Resume ${destination}` });
    await form.getByLabel('Reason (optional)').fill(reason);
    await form.getByRole('button', { name: `Resume ${destination}` }).click();
  }

  /** Negative stock: follows the panel's "Count now" to the Stock entry page, the count prefilled. */
  async countNow(): Promise<void> {
    await this.detail.getByRole('link', { name: 'Count now' }).click();
    await expect(this.page.getByRole('heading', { level: 1, name: 'Stock entry' })).toBeVisible();
  }

  async retryAllMatching(reason: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Retry all matching…' }).click();
    const confirm = this.page.getByRole('group', { name: 'Confirm bulk retry' });
    await confirm.getByLabel('Reason (optional)').fill(reason);
    await confirm.getByRole('button', { name: /^Retry [\d,]+ now$/ }).click();
  }

  /** A form of the detail panel's fixes, by its name (`Add to catalog`, `Fix the row`, `Close with a reason`). */
  fixForm(name: string): Locator {
    return this.detail.getByRole('form', { name, exact: true });
  }

  /** Unknown SKU: "Add to catalog" (the SKU is prefilled). */
  async addToCatalog(name: string, barcode = ''): Promise<void> {
    const form = this.fixForm('Add to catalog');
    await form.getByLabel('Item name').fill(name);
    await form.getByLabel('Barcode (optional)').fill(barcode);
    await form.getByRole('button', { name: 'Add item' }).click();
  }

  /** Unknown SKU or location: "Correct the SKU" / "Move to a known location". */
  async correct(what: 'SKU' | 'location', to: string, reason: string): Promise<void> {
    const form = this.fixForm(what === 'SKU' ? 'Correct the SKU' : 'Move to a known location');
    if (what === 'SKU') await form.getByLabel('Right SKU').fill(to);
    else await form.getByLabel('Known location').selectOption(to);
    await form.getByLabel('Reason (required)').fill(reason);
    await form.getByRole('button', { name: what === 'SKU' ? 'Correct' : 'Move' }).click();
  }

  /** Unknown location: "Add location" (the id is prefilled). */
  async addLocation(name: string, reason: string): Promise<void> {
    const form = this.fixForm('Add location');
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Reason (required)').fill(reason);
    await form.getByRole('button', { name: 'Add location' }).click();
  }

  /** Bad import row: the fix form's field of `line` (0-based) or of the event (`Type`, `Location`…). */
  rowField(label: string, line?: number): Locator {
    const form = this.fixForm('Fix the row');
    return line === undefined
      ? form.getByLabel(label, { exact: true })
      : form.getByTestId(`event-line-${line}`).getByLabel(label, { exact: true });
  }

  async captureFixedRow(): Promise<void> {
    await this.fixForm('Fix the row').getByRole('button', { name: 'Capture fixed row' }).click();
  }

  /** Bad import file: chooses the fixed file and re-imports it. */
  async reimport(name: string, content: string): Promise<void> {
    const form = this.fixForm('Re-import fixed file');
    await form.getByLabel('Fixed file').setInputFiles({
      name,
      mimeType: 'text/csv',
      buffer: Buffer.from(content),
    });
    await form.getByRole('button', { name: 'Re-import' }).click();
  }

  /** Every kind: close (or for an import row or file, discard) with a reason. */
  async closeWithReason(
    reason: string,
    label: 'Close' | 'Discard row' | 'Discard file' = 'Close',
  ): Promise<void> {
    const form = this.fixForm(`${label} with a reason`);
    await form.getByLabel('Reason (required)').fill(reason);
    await form.getByRole('button', { name: label, exact: true }).click();
  }

  async acknowledge(note = ''): Promise<void> {
    const form = this.fixForm('Acknowledge');
    await form.getByLabel('Note (optional)').fill(note);
    await form.getByRole('button', { name: 'Acknowledge' }).click();
  }

  /** With a filter applied: closes every matching open exception with one reason. */
  async closeAllMatching(reason: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Close all matching…' }).click();
    const confirm = this.page.getByRole('form', { name: 'Confirm bulk close' });
    await confirm.getByLabel('Reason (required)').fill(reason);
    await confirm.getByRole('button', { name: /^Close [\d,]+ now$/ }).click();
  }
}
