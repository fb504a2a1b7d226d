import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../agent/config-loader.js';
import { AgentError } from '../platform/errors.js';
import { EXIT, type Io } from './cli-io.js';
import { withAgent } from './with-agent.js';

/** `backroom import`: captures a CSV or JSON export file once (same rules as the drop folder). */
export async function importCommand(
  path: string,
  opts: { config: string; source?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const config = loadConfig(opts.config);
  const source = opts.source ?? config.dropFolders[0]?.source ?? 'import';
  const file = resolve(path);
  if (!existsSync(file)) throw new AgentError('not_found', `No file at ${file}.`);
  // The running agent is the only writer: it is handed the file when it runs.
  const report = await withAgent(
    config,
    { path: '/api/v1/import', body: { path: file, source }, timeoutMs: 600_000 },
    (agent) => agent.importFile(file, source),
  );
  if (opts.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    io.out(
      `${report.file}: ${report.outcome}; ${report.accepted} event(s) captured, ${report.duplicate} already there, ` +
        `${report.problems.length} row problem(s)\n`,
    );
    if (report.error) io.out(`  ${report.error}\n`);
    for (const p of report.problems) io.out(`  line ${p.line}, ${p.field}: ${p.message}\n`);
  }
  return report.outcome === 'failed' ? EXIT.failure : EXIT.ok;
}
