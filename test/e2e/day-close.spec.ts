import { startTrytonServer } from '../support/tryton-server.js';
import { AppPage } from './pages/app-page.js';
import { expect, OPERATOR, screenshotPath, test } from './fixtures.js';

/** `YYYY-MM-DD` of today plus `days` (UTC, as the test Tryton's company runs in UTC). */
const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

const event = (id: string, type: 'sale' | 'return', location: string, lines: unknown[], at = '10:15') => ({
  id: `pos-1:${id}`,
  type,
  location,
  occurredAt: `${day(-1)}T${at}:00+00:00`,
  reference: id,
  lines,
});

test('the manager closes a store day: its totals, the statement reaching Tryton, a late till’s supplementary statement and the money against the ERP', async ({
  page,
  backroom,
}) => {
  test.setTimeout(240_000);
  const tryton = await startTrytonServer();
  try {
    const started = await backroom({
      destinations: [
        {
          id: 'tryton',
          type: 'tryton',
          url: tryton.url,
          database: tryton.database,
          username: tryton.username,
          password: tryton.password,
          customerParty: 'WALKIN',
          supplierParty: 'SUPPLIER',
          postingMode: 'daily_statement',
          // A store open past midnight; the days here are closed by the manager.
          dayClose: { dayEndsAt: '04:00' },
        },
      ],
    });
    await started.send([
      event('R-1', 'sale', 'S1', [
        { sku: 'SKU-1', qty: 2, unitPrice: '2.50', currency: 'EUR' },
        { sku: 'SKU-2', qty: 1, unitPrice: '4.00', currency: 'EUR' },
      ]),
      event('R-2', 'sale', 'S1', [{ sku: 'SKU-1', qty: 1, unitPrice: '2.50', currency: 'EUR' }]),
      event('R-3', 'return', 'S1', [{ sku: 'SKU-2', qty: 1, unitPrice: '4.00', currency: 'EUR' }]),
      event('R-4', 'sale', 'S2', [{ sku: 'SKU-3', qty: 3, unitPrice: '9.99', currency: 'EUR' }]),
    ]);
    const app = new AppPage(page);
    await app.open(started.agent.url);
    await app.login(OPERATOR.name, OPERATOR.password);
    await app.goTo('Day close');
    await expect(page.getByTestId('day-schedules')).toHaveText(
      "tryton: a day ends at 04:00 by the tills' clock, so sales after midnight count for the day before; it closes only when a manager closes it.",
    );

    const s1 = page.getByTestId(`day-S1-${day(-1)}`);
    const s2 = page.getByTestId(`day-S2-${day(-1)}`);
    // The day's totals: 2 sales and a return, 4 units out and 1 back, 7.50 EUR net.
    await expect(s1.getByRole('cell')).toHaveText([
      'S1',
      'Open',
      '2',
      '1',
      '4 / −1',
      '7.50 EUR',
      '—',
      /Close the day/,
    ]);
    await expect(s2).toContainText('29.97 EUR');

    await s1.getByRole('button', { name: `Close the day ${day(-1)} at S1` }).click();
    await expect(page.getByRole('status')).toContainText(`S1 ${day(-1)} is closed`);
    // The statement reaches Tryton: one sale for the day, with its id.
    await expect(s1).toContainText('Posted', { timeout: 120_000 });
    await expect(s1.getByTestId(`statement-store-test:S1:${day(-1)}`)).toContainText(
      /In the ERP \(sale \d+\), 7\.50 EUR/,
    );
    await expect(s1).toContainText('Takes only supplementary events');
    await expect(s1.getByRole('button', { name: /Close the day/ })).toHaveCount(0);

    // A till that was offline sends a sale of that day now: it waits for, then goes in, a supplementary statement.
    await started.send([
      event('R-5', 'sale', 'S1', [{ sku: 'SKU-4', qty: 1, unitPrice: '7.00', currency: 'EUR' }], '18:00'),
    ]);
    await expect(s1.getByTestId(`statement-store-test:S1:${day(-1)}:s1`)).toContainText(/In the ERP/, {
      timeout: 120_000,
    });

    await page.getByRole('button', { name: 'Compare with the ERP' }).click();
    const money = page.getByTestId('money');
    await expect(money.getByTestId(`money-S1-${day(-1)}`).first()).toContainText('Matches');
    await expect(money.getByTestId(`money-S2-${day(-1)}`)).toContainText('Day still open');
    await page.screenshot({ path: screenshotPath('day-close.png'), fullPage: true });
  } finally {
    await tryton.stop();
  }
});
