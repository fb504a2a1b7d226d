#!/usr/bin/env node
// Runs the built CLI when there is one (npm run build), else the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

const built = new URL('../dist/src-main/cli/index.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  register();
  await import(new URL('../src-main/cli/index.ts', import.meta.url).href);
}
