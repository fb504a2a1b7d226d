import { join, resolve } from 'node:path';
import { backupDatabase, restoreDatabase } from '../agent/backup.js';
import { loadConfig } from '../agent/config-loader.js';
import { verifyChain } from '../capture/hash-chain.js';
import { EXIT, type Io } from './cli-io.js';
import { openReadonly } from './readonly-database.js';

/** `backroom verify`: checks the event log's hash chain and that stock levels match their movements. */
export function verify(opts: { config: string }, io: Io): number {
  const config = loadConfig(opts.config);
  const db = openReadonly(config);
  try {
    const report = verifyChain(db);
    if (report.isOk) {
      io.out(
        `ok: ${report.events} events, hash chain intact up to seq ${report.lastSeq}, levels match movements\n`,
      );
      return EXIT.ok;
    }
    io.err(`verify FAILED: ${report.problems.length} problem(s)\n`);
    for (const p of report.problems) io.err(`  ${p.seq === null ? '' : `event ${p.seq}: `}${p.problem}\n`);
    return EXIT.failure;
  } finally {
    db.close();
  }
}

/** `backroom backup`: a consistent, verified copy of the database while the agent runs. */
export function backup(opts: { config: string; out?: string }, io: Io): number {
  const config = loadConfig(opts.config);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = resolve(opts.out ?? join(config.dataDir, 'backups', `backroom-${config.agentId}-${stamp}.db`));
  const report = backupDatabase(config.dataDir, out);
  io.out(
    `backup ${report.file}: ${report.end.events} events up to seq ${report.end.lastSeq}, ` +
      `${report.bytes} bytes, hash chain verified\n`,
  );
  return EXIT.ok;
}

/** `backroom restore`: replaces the database with a backup (the agent stopped; the old one kept aside). */
export function restore(path: string, opts: { config: string; force?: boolean }, io: Io): number {
  const config = loadConfig(opts.config);
  const report = restoreDatabase({
    dataDir: config.dataDir,
    agentId: config.agentId,
    backup: resolve(path),
    isForced: opts.force === true,
  });
  io.out(
    `restored ${report.database} from ${resolve(path)}: ${report.restored.events} events up to seq ${report.restored.lastSeq}\n`,
  );
  if (report.keptAside !== null)
    io.out(
      `the replaced database (events up to seq ${report.replaced?.lastSeq ?? 0}) is kept as ${report.keptAside}\n`,
    );
  io.out(
    'Start the agent: items not delivered at the time of the backup are sent again with their same keys.\n',
  );
  return EXIT.ok;
}
