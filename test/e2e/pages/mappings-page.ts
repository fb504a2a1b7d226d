import { expect, type Locator, type Page } from '@playwright/test';

/** The mappings page: filter, the add form, the table with inline change and remove, the CSV import. */
export class MappingsPage {
  readonly page: Page;
  readonly table: Locator;
  readonly addForm: Locator;
  readonly importForm: Locator;
  readonly count: Locator;

  constructor(page: Page) {
    this.page = page;
    this.table = page.getByTestId('mappings');
    this.addForm = page.getByRole('form', { name: 'Add a mapping' });
    this.importForm = page.getByRole('form', { name: 'Import mappings from CSV' });
    this.count = page.getByTestId('mapping-count');
  }

  row(localId: string): Locator {
    return this.table
      .getByRole('row')
      .filter({ has: this.page.getByRole('rowheader', { name: localId, exact: true }) });
  }

  async chooseDestination(id: string): Promise<void> {
    await this.page
      .getByRole('search', { name: 'Filter mappings' })
      .getByLabel('Destination')
      .selectOption(id);
  }

  async filter(text: string): Promise<void> {
    await this.page
      .getByRole('search', { name: 'Filter mappings' })
      .getByLabel('Local or remote id contains')
      .fill(text);
  }

  async add(local: string, remote: string, reason = ''): Promise<void> {
    await this.addForm.getByLabel('Local SKU').fill(local);
    await this.addForm.getByLabel('Remote id').fill(remote);
    await this.addForm.getByLabel('Reason (optional)').fill(reason);
    await this.addForm.getByRole('button', { name: 'Save mapping' }).click();
  }

  async change(local: string, remote: string, reason = ''): Promise<void> {
    await this.page.getByRole('button', { name: `Change SKU ${local}` }).click();
    const form = this.page.getByRole('form', { name: `Change SKU ${local}` });
    await form.getByLabel('New remote id').fill(remote);
    await form.getByLabel('Reason (optional)').fill(reason);
    await form.getByRole('button', { name: 'Save' }).click();
  }

  /** Opens the remove form of a SKU's mapping and submits it with `reason` (may be empty, to see it refused). */
  async remove(local: string, reason: string): Promise<Locator> {
    const form = this.page.getByRole('form', { name: `Remove SKU ${local}` });
    if (!(await form.isVisible()))
      await this.page.getByRole('button', { name: `Remove SKU ${local}` }).click();
    await form.getByLabel('Reason (required)').fill(reason);
    await form.getByRole('button', { name: 'Remove mapping' }).click();
    return form;
  }

  async importCsv(csv: string, name = 'mappings.csv'): Promise<void> {
    await this.importForm
      .getByLabel('Mapping CSV file')
      .setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await this.importForm.getByRole('button', { name: 'Import' }).click();
    await expect(this.importForm.getByTestId('import-result')).toBeVisible();
  }
}
