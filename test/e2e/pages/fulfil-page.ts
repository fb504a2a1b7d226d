import type { Locator, Page } from '@playwright/test';
import { scan } from './scanner.js';

/** The Fulfil page: the open orders of a location, the pick of one order and its shipment. */
export class FulfilPage {
  readonly page: Page;
  readonly location: Locator;
  readonly orders: Locator;
  /** What the last order scan or shipment did (aria-live). */
  readonly message: Locator;
  readonly pick: Locator;
  /** What the last item scan did in the pick (aria-live). */
  readonly scanMessage: Locator;
  readonly shipForm: Locator;

  constructor(page: Page) {
    this.page = page;
    this.location = page.getByLabel('Location');
    this.orders = page.locator('table.fulfil-orders');
    this.message = page.getByTestId('fulfil-message');
    this.pick = page.getByTestId('pick-panel');
    this.scanMessage = this.pick.getByTestId('scan-message');
    this.shipForm = this.pick.getByRole('form', { name: /^Ship / });
  }

  /** The row of the order named `name` in the list. */
  order(name: string): Locator {
    return this.orders
      .getByRole('row')
      .filter({ has: this.page.getByRole('rowheader', { name, exact: true }) });
  }

  /** Units picked of `sku` in the open pick. */
  picked(sku: string): Locator {
    return this.pick.getByTestId(`picked-${sku}`);
  }

  /**
   * Scans `code` as a barcode scanner does: fast keys then Enter, with focus on the page (no field), so the
   * page-wide scanner takes it.
   */
  async scan(code: string): Promise<void> {
    await scan(this.page, code);
  }
}
