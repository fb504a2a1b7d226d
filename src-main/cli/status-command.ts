import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StatusResponse } from '../../shared/api.js';
import type { ResolvedConfig } from '../../shared/config.js';
import { DATABASE_FILE } from '../agent/agent.js';
import { loadConfig } from '../agent/config-loader.js';
import { readLock } from '../agent/data-dir-lock.js';
import { readStatus } from '../health/status.js';
import { AgentError } from '../platform/errors.js';
import { callAgent } from './agent-client.js';
import { EXIT, type Io } from './cli-io.js';
import { NO_SECRETS_ENV, noDatabase, openReadonly } from './readonly-database.js';
import { unsyncedReport } from './unsynced-report.js';

/**
 * The agent's status: asked of the running agent through its lock (the live states of its destinations), else
 * read from the database; null when there is no database yet (the agent never ran, so nothing is pending).
 */
export async function currentStatus(config: ResolvedConfig): Promise<StatusResponse | null> {
  const lock = readLock(config.dataDir);
  if (lock?.address) {
    const agent = { address: lock.address, controlToken: lock.controlToken };
    try {
      return await callAgent(agent, 'status.get', {}, 10_000);
    } catch (error) {
      if (error instanceof AgentError && typeof error.details['status'] === 'number')
        throw new AgentError(
          'status_failed',
          `The agent at ${lock.address} answered ${error.details['status']}.`,
        );
      throw error;
    }
  }
  if (!existsSync(join(config.dataDir, DATABASE_FILE))) return null;
  const db = openReadonly(config);
  try {
    return readStatus(db, config, false);
  } finally {
    db.close();
  }
}

/** `backroom status`: the agent's health, queue depth and age per destination, open exceptions. */
export async function status(opts: { config: string; json?: boolean }, io: Io): Promise<number> {
  const config = loadConfig(opts.config);
  const lock = readLock(config.dataDir);
  const report = await currentStatus(config);
  if (report === null) throw noDatabase(config);
  if (opts.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT.ok;
  }
  const lines = [
    `agent     ${report.agentId} (${report.running ? `running at ${lock?.address ?? '?'}` : 'not running'}), version ${report.version}`,
    `events    ${report.events} captured, last seq ${report.lastSeq}`,
    'queues:',
    ...(report.destinations.length === 0
      ? ['  (no destinations configured)']
      : report.destinations.map(
          (d) =>
            `  ${d.id.padEnd(16)} ${d.type.padEnd(13)} ${d.state.padEnd(12)} ${String(d.pending).padStart(8)} pending` +
            (d.oldestPendingAgeSeconds === null ? '' : `, oldest ${formatAge(d.oldestPendingAgeSeconds)}`),
        )),
    'open exceptions:',
    ...(report.openExceptions.length === 0
      ? ['  none']
      : report.openExceptions.map((e) => `  ${e.kind.padEnd(20)} ${e.count}`)),
  ];
  io.out(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

/** `backroom unsynced`: what has not reached every destination yet (exit 0: nothing; 3: something). */
export async function unsynced(opts: { config: string; json?: boolean }, io: Io): Promise<number> {
  const configFile = resolve(opts.config);
  const config = loadConfig(configFile, NO_SECRETS_ENV);
  const current = await currentStatus(config);
  const report =
    current === null
      ? { pending: 0, openExceptions: 0, isClear: true, text: '' }
      : unsyncedReport(current, { configFile, dataDir: config.dataDir });
  if (opts.json) {
    io.out(
      `${JSON.stringify({ agentId: config.agentId, dataDir: config.dataDir, ...report, destinations: current?.destinations ?? [] }, null, 2)}\n`,
    );
  } else {
    io.out(report.isClear ? `nothing unsynced in ${config.dataDir}\n` : `${report.text}\n`);
  }
  return report.isClear ? EXIT.ok : EXIT.unsynced;
}
