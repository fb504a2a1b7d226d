import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests of the UI in Debian's Chromium (`apt-get install chromium`; Playwright's own browser
 * download is never used), against a real agent and a FaultSink started per test (test/e2e/fixtures.ts).
 * Generous timeouts: the suite must pass on a loaded two-core machine; assertions wait, tests never sleep.
 */
export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  timeout: 90_000,
  expect: { timeout: 20_000 },
  // Each test runs its own agent in the worker; one worker keeps a two-core machine responsive.
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1024, height: 768 },
    // The page formats numbers and times for its locale and zone: fixed here, so no test depends on the machine's.
    locale: 'en-US',
    timezoneId: 'UTC',
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
