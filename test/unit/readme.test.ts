import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/harness.js';

test('.ci/run runs exactly the test command the README gives', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
  const readmeCommand = readme.split('\n').find((line) => line.includes('npm test'));
  assert.ok(readmeCommand, 'the README names a test command');
  const ciCommand = ci.split('\n').find((line) => line.includes('npm test'));
  assert.equal(ciCommand?.trim(), readmeCommand.trim());
});
