import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent } from '../agent/agent.js';
import { AgentError } from '../agent/agent-error.js';
import { loadConfig } from '../agent/config-loader.js';
import { readLock } from '../agent/data-dir-lock.js';
import { createLogger } from '../agent/logger.js';
import type { MappingImportReport } from '../connectors/id-mapping-repo.js';

type Io = { out: (text: string) => void; err: (text: string) => void };

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
  const lock = readLock(config.dataDir);
  let report: MappingImportReport;
  if (lock?.address) {
    const response = await fetch(`${lock.address}/api/v1/control/mappings/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${lock.controlToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ csv, origin }),
      signal: AbortSignal.timeout(120_000),
    });
    if (!response.ok)
      throw new AgentError(
        'import_failed',
        `The agent answered ${response.status}: ${await response.text()}`,
      );
    report = (await response.json()) as MappingImportReport;
  } else {
    const agent = await Agent.start({
      config,
      logger: createLogger({ level: 'warn', fd: 2 }),
      isServing: false,
    });
    try {
      report = agent.importMappings(csv, origin);
    } finally {
      await agent.stop();
    }
  }
  if (opts.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
  else {
    io.out(
      `${file}: ${report.imported} mapping(s) set, ${report.unchanged} unchanged, ${report.errors.length} bad row(s)\n`,
    );
    for (const e of report.errors) io.out(`  line ${e.line}, ${e.field}: ${e.message}\n`);
  }
  return report.errors.length > 0 ? 1 : 0;
}
