import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AgentError } from '../platform/errors.js';
import { loadConfig } from '../agent/config-loader.js';
import { withAgent } from './with-agent.js';
import type { Io } from './cli-io.js';

/**
 * `backroom mappings import --config FILE PATH`: imports identifier mappings from a CSV (`destination`, `kind`,
 * `local`, `remote`). While the agent runs it is handed the file (it is the only writer); otherwise the
 * database is opened here. Items held for the mapped SKUs are released either way. Exit 1 when a row was bad
 * (the good rows are still imported).
 */
export async function mappingsImport(
  path: string,
  opts: { config: string; json?: boolean },
  io: Io,
): Promise<number> {
  const config = loadConfig(opts.config);
  const file = resolve(path);
  if (!existsSync(file)) throw new AgentError('not_found', `No file at ${file}.`);
  const csv = readFileSync(file, 'utf8');
  const origin = `cli:${file}`.slice(0, 100);
  const report = await withAgent(
    config,
    { path: '/api/v1/control/mappings/import', body: { csv, origin }, timeoutMs: 120_000 },
    (agent) => agent.importMappings(csv, origin),
  );
  if (opts.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
  else {
    io.out(
      `${file}: ${report.imported} mapping(s) set, ${report.unchanged} unchanged, ${report.errors.length} bad row(s)\n`,
    );
    for (const e of report.errors) io.out(`  line ${e.line}, ${e.field}: ${e.message}\n`);
  }
  return report.errors.length > 0 ? 1 : 0;
}
