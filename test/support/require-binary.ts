import { execFileSync } from 'node:child_process';

/**
 * Whether a server binary the test needs is installed. On a developer machine without it the test is skipped
 * with the reason printed; in CI (`CI=true`, where `.ci/run` installs it) a missing binary fails the test.
 *
 * @example test('...', { skip: missingBinary('nats-server') }, async () => { ... })
 */
export function missingBinary(name: string): string | false {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return false;
  } catch {
    if (process.env.CI === 'true')
      throw new Error(`${name} is not installed, and CI must run this test (.ci/run installs it)`);
    const reason = `${name} is not installed (apt-get install it to run this test)`;
    console.log(`skipping: ${reason}`);
    return reason;
  }
}
