import type { Page } from '@playwright/test';

/**
 * Scans `code` as a barcode scanner does, with focus on the page (no field) so the page-wide scanner takes it:
 * its keys then Enter as `keydown` events `gapMs` apart. The keys are dispatched inside the page in one go, not
 * one by one over the browser protocol: a scanner's burst must stay a burst on a loaded machine, where
 * Playwright's own typing can leave 50 ms and more between two keys. A `gapMs` of 100 or more is a person typing.
 */
export async function scan(page: Page, code: string, gapMs = 0): Promise<void> {
  await page.evaluate(
    async ({ keys, gap }) => {
      (document.activeElement as HTMLElement | null)?.blur();
      for (const key of keys) {
        if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
        document.body.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
      }
    },
    { keys: [...code, 'Enter'], gap: gapMs },
  );
}
