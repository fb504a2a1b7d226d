import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './harness.js';

/**
 * The official API models, read from `../shared/contracts/` beside the repository (never copied in). When the
 * folder is absent, `contractsMissing` is the reason to skip, printed once.
 */
export const CONTRACTS_DIR = join(ROOT, '..', 'shared', 'contracts');

let hasPrinted = false;

/** False when the contracts are there; else the skip reason (printed). */
export function contractsMissing(): string | false {
  if (existsSync(CONTRACTS_DIR)) return false;
  const reason = `the official API models are not at ${CONTRACTS_DIR} (../shared/contracts beside the repo)`;
  if (!hasPrinted) console.log(`skipping: ${reason}`);
  hasPrinted = true;
  return reason;
}
