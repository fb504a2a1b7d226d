import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../shared/config.js';
import { DATABASE_FILE } from '../agent/agent.js';
import { AgentDatabase } from '../db/agent-database.js';
import { AgentError } from '../platform/errors.js';

/** The error of a command that needs the database of an agent that never ran with this config. */
export function noDatabase(config: ResolvedConfig): AgentError {
  return new AgentError(
    'no_database',
    `No database at ${join(config.dataDir, DATABASE_FILE)}: the agent has not run with this config yet.`,
  );
}

/** Opens the database read-only (safe while the agent runs), or says why it cannot. */
export function openReadonly(config: ResolvedConfig): AgentDatabase {
  const file = join(config.dataDir, DATABASE_FILE);
  if (!existsSync(file)) throw noDatabase(config);
  return AgentDatabase.open(file, { isReadonly: true });
}

/**
 * For commands that only read the database (`unsynced`, `export --unsynced`): they need no secrets, and whoever
 * runs them (an uninstaller, support) may not have them, since the desktop app keeps them in the user's OS
 * keychain. Every `{ "env" }` secret resolves to a placeholder (distinct per name) so the config loads; `{ "file" }`
 * secrets are still read.
 */
export const NO_SECRETS_ENV: NodeJS.ProcessEnv = new Proxy<NodeJS.ProcessEnv>(
  {},
  { get: (_env, name) => (typeof name === 'string' ? `(not read: ${name})` : undefined) },
);
