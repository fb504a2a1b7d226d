#!/usr/bin/env node
// Runs node's test runner over test files (Node 20 has no globs for --test), after refusing focused tests.
// Usage: node scripts/test.mjs [folder or file ...]   (default: test/unit test/integration)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test/unit', 'test/integration'];

function collect(path) {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => {
    const full = join(path, entry.name);
    if (entry.isDirectory()) return collect(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const files = roots.flatMap(collect).sort();
const focused = files.filter((f) =>
  /\b(it|test|describe)\.only\s*\(|\{\s*only:\s*true/.test(readFileSync(f, 'utf8')),
);
if (focused.length > 0) {
  console.error(`Focused tests (.only) are not allowed; they hide the others:\n  ${focused.join('\n  ')}`);
  process.exit(1);
}
if (files.length === 0) {
  console.error(`No test files under ${roots.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    '--test-timeout=600000',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
