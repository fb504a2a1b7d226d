import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { StatusResponse } from '../../shared/api.js';
import type { ResolvedConfig } from '../../shared/config.js';
import { Agent, DATABASE_FILE } from '../agent/agent.js';
import { AgentError, ConfigError, UsageError } from '../platform/errors.js';
import { backupDatabase, restoreDatabase } from '../agent/backup.js';
import { loadConfig } from '../agent/config-loader.js';
import { readLock } from '../agent/data-dir-lock.js';
import { createLogger } from '../platform/logger.js';
import { readStatus } from '../health/status.js';
import {
  decryptBundle,
  encryptBundle,
  readPassphrase,
  readUnsynced,
  type UnsyncedBundle,
} from '../agent/support-bundle.js';
import { VERSION } from '../platform/version.js';
import { listenForStopRequests } from './stop-request.js';
import { unsyncedReport } from './unsynced-report.js';
import type { ImportReport } from '../capture/import-file.js';
import { verifyChain } from '../capture/hash-chain.js';
import { channelsCommand, parseUnits } from './channels-command.js';
import { mappingsImport } from './mappings-command.js';
import { withAgent } from './with-agent.js';
import { AgentDatabase } from '../db/agent-database.js';

/** Exit codes of CONTRACT.md; `unsynced` (3) only from `backroom unsynced`, when something is not yet synced. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unsynced: 3 } as const;

type Io = { out: (text: string) => void; err: (text: string) => void };

const configOption = () =>
  new Option('-c, --config <file>', 'the agent config file (JSON)').makeOptionMandatory();

/**
 * The `backroom` command. Returns the exit code rather than exiting, so tests can run it in-process;
 * `serve` resolves only once the agent has stopped.
 */
export async function runCli(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('backroom')
    .description('Backroom: offline-first sync agent for stores and warehouses')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();

  program
    .command('serve')
    .description('run the agent in the foreground until SIGTERM or SIGINT')
    .addOption(configOption())
    .option('--port <port>', 'listen on this port instead of the config one', (v) => parsePort(v))
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent', 'info')
    .option(
      '--log-file <file>',
      'write logs to this file instead of stderr, rotated (agent.log is written as agent.1.log, agent.2.log, ...)',
    )
    .option('--log-max-size <size>', 'rotate the log file at this size (e.g. 10m, 512k)', '10m')
    .option('--log-keep <count>', 'rotated log files to keep', (v) => parseCount(v, '--log-keep'), 10)
    .action(async (opts: ServeOptions) => {
      code = await serve(opts, io);
    });

  program
    .command('status')
    .description("print the agent's health, queue depth and age per destination, open exceptions")
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      code = await status(opts, io);
    });

  program
    .command('unsynced')
    .description(
      'say what has not reached every destination yet (exit 0: nothing; 3: something); the uninstallers run it',
    )
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      code = await unsynced(opts, io);
    });

  program
    .command('import')
    .description('capture a CSV or JSON export file once (same rules as the drop folder)')
    .addOption(configOption())
    .option(
      '--source <id>',
      'the source id to capture under (default: the first drop folder source, or "import")',
    )
    .option('--json', 'print the report as JSON')
    .argument('<path>', 'the file to import')
    .action(async (path: string, opts: { config: string; source?: string; json?: boolean }) => {
      code = await importCommand(path, opts, io);
    });

  program
    .command('mappings')
    .description('identifier mappings of the destinations (SKU and location to their remote ids)')
    .command('import')
    .description('import mappings from a CSV: destination, kind (item|location), local, remote')
    .addOption(configOption())
    .option('--json', 'print the report as JSON')
    .argument('<path>', 'the CSV file')
    .action(async (path: string, opts: { config: string; json?: boolean }) => {
      code = await mappingsImport(path, opts, io);
    });

  const channels = program
    .command('channels')
    .description('sales channels and their buffers (units held back from what marketplaces are sent)');
  channels
    .command('list')
    .description(
      "each channel's buffer and where it comes from (the config file, or Settings: who, when, why)",
    )
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      code = await channelsCommand(opts, io);
    });
  channels
    .command('buffer')
    .description('set a channel\'s buffer over the config file\'s (audited), or back to it with "config"')
    .addOption(configOption())
    .addOption(new Option('--reason <text>', 'why (kept in the audit log)').makeOptionMandatory())
    .option('--operator <name>', 'who makes the change (default: cli:<your user name>)')
    .option('--json', 'print JSON')
    .argument('<channel>', 'the channel id')
    .argument('<units>', 'units to hold back, or "config" for the config file\'s buffer', parseUnits)
    .action(
      async (
        channel: string,
        units: number | null,
        opts: { config: string; reason: string; operator?: string; json?: boolean },
      ) => {
        code = await channelsCommand(opts, io, {
          channel,
          units,
          reason: opts.reason,
          ...(opts.operator !== undefined ? { operator: opts.operator } : {}),
        });
      },
    );

  program
    .command('verify')
    .description('check the hash chain of the event log and that stock levels match their movements')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      code = verify(opts, io);
    });

  program
    .command('backup')
    .description(
      'copy the database while the agent runs (a consistent snapshot, verified with the hash chain)',
    )
    .addOption(configOption())
    .option('--out <path>', 'the backup file (default: <dataDir>/backups/backroom-<agentId>-<time>.db)')
    .action(async (opts: { config: string; out?: string }) => {
      code = backup(opts, io);
    });

  program
    .command('restore')
    .description(
      'replace the database with a backup (the agent must be stopped; the old database is kept aside)',
    )
    .addOption(configOption())
    .option('--force', 'restore even if the current database holds newer events than the backup')
    .argument('<path>', 'the backup file')
    .action(async (path: string, opts: { config: string; force?: boolean }) => {
      code = restore(path, opts, io);
    });

  program
    .command('export')
    .description(
      'write what is not yet synced to an encrypted bundle for support (--unsynced), or read one back (--decrypt)',
    )
    .option('-c, --config <file>', 'the agent config file (JSON); needed with --unsynced')
    .option(
      '--unsynced',
      'events not yet delivered everywhere, their outbox state, pending levels, open exceptions',
    )
    .option('--decrypt <bundle>', 'decrypt a bundle and print its JSON (or write it to --out)')
    .option('--out <file>', 'where to write (the bundle with --unsynced, the JSON with --decrypt)')
    .option('--passphrase-env <name>', 'read the passphrase from this environment variable')
    .option('--passphrase-file <path>', 'read the passphrase from this file')
    .action(async (opts: ExportOptions) => {
      code = await exportCommand(opts, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof ConfigError || error instanceof UsageError) {
      io.err(`${error.message}\n`);
      return EXIT.usage;
    }
    io.err(`${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failure;
  }
  return code;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    // InvalidArgumentError, not a bare CommanderError: commander prints it (naming the option) before it exits.
    throw new InvalidArgumentError('--port must be a whole number from 0 to 65535.');
  }
  return port;
}

type ServeOptions = {
  config: string;
  port?: number;
  logLevel: string;
  logFile?: string;
  logMaxSize: string;
  logKeep: number;
};

function parseCount(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a whole number of 1 or more.`);
  return n;
}

async function serve(opts: ServeOptions, io: Io): Promise<number> {
  const config = loadConfig(opts.config);
  if (!/^\d+(\.\d+)?[kmg]?$/.test(opts.logMaxSize)) {
    io.err('--log-max-size must be a size like 10m, 512k or 1g.\n');
    return EXIT.usage;
  }
  const logger = createLogger({
    level: opts.logLevel,
    ...(opts.logFile
      ? { file: resolve(opts.logFile), rotate: { maxSize: opts.logMaxSize, keep: opts.logKeep } }
      : { fd: 2 }),
  });
  let agent: Agent;
  try {
    agent = await Agent.start({ config, logger, ...(opts.port !== undefined ? { port: opts.port } : {}) });
  } catch (error) {
    if (error instanceof AgentError && error.reason === 'invalid_config')
      throw new ConfigError(error.message);
    throw error;
  }
  // A parent process may ask by message instead of a signal (the desktop app, on Windows always).
  let stopRequests: ReturnType<typeof listenForStopRequests> | undefined;
  await new Promise<void>((resolveStop) => {
    let isStopping = false;
    const stop = (reason: string) => {
      isStopping = true;
      io.out(`${reason}: stopping\n`);
      agent.stop().then(resolveStop, (error: unknown) => {
        io.err(`stop failed: ${String(error)}\n`);
        resolveStop();
      });
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (isStopping) {
        io.err(`${signal} again: exiting without a clean stop\n`);
        process.exit(EXIT.failure);
      }
      stop(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // Windows: Ctrl+Break from a service wrapper (never raised elsewhere).
    process.on('SIGBREAK', onSignal);
    stopRequests = listenForStopRequests(() => {
      if (!isStopping) stop('stop requested');
    });
    // Announced only once the handlers are in place: whoever reads the address may stop the agent at once.
    io.out(`Backroom ${VERSION} agent "${config.agentId}" listening on ${agent.address}\n`);
  });
  stopRequests?.notifyStopped();
  stopRequests?.close();
  io.out('stopped\n');
  return EXIT.ok;
}

function noDatabase(config: ResolvedConfig): AgentError {
  return new AgentError(
    'no_database',
    `No database at ${join(config.dataDir, DATABASE_FILE)}: the agent has not run with this config yet.`,
  );
}

/** Opens the database read-only (safe while the agent runs), or says why it cannot. */
function openReadonly(config: ResolvedConfig): AgentDatabase {
  const file = join(config.dataDir, DATABASE_FILE);
  if (!existsSync(file)) throw noDatabase(config);
  return AgentDatabase.open(file, { isReadonly: true });
}

/**
 * The agent's status: asked of the running agent through its lock (the live states of its destinations), else
 * read from the database; null when there is no database yet (the agent never ran, so nothing is pending).
 */
async function currentStatus(config: ResolvedConfig): Promise<StatusResponse | null> {
  const lock = readLock(config.dataDir);
  if (lock?.address) {
    const response = await fetch(`${lock.address}/api/v1/status`, {
      headers: { authorization: `Bearer ${lock.controlToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      throw new AgentError('status_failed', `The agent at ${lock.address} answered ${response.status}.`);
    return (await response.json()) as StatusResponse;
  }
  if (!existsSync(join(config.dataDir, DATABASE_FILE))) return null;
  const db = openReadonly(config);
  try {
    return readStatus(db, config, false);
  } finally {
    db.close();
  }
}

async function status(opts: { config: string; json?: boolean }, io: Io): Promise<number> {
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

/**
 * For commands that only read the database (`unsynced`, `export --unsynced`): they need no secrets, and whoever
 * runs them (an uninstaller, support) may not have them, since the desktop app keeps them in the user's OS
 * keychain. Every `{ "env" }` secret resolves to a placeholder (distinct per name) so the config loads; `{ "file" }`
 * secrets are still read.
 */
const NO_SECRETS_ENV: NodeJS.ProcessEnv = new Proxy<NodeJS.ProcessEnv>(
  {},
  { get: (_env, name) => (typeof name === 'string' ? `(not read: ${name})` : undefined) },
);

async function unsynced(opts: { config: string; json?: boolean }, io: Io): Promise<number> {
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

async function importCommand(
  path: string,
  opts: { config: string; source?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const config = loadConfig(opts.config);
  const source = opts.source ?? config.dropFolders[0]?.source ?? 'import';
  const file = resolve(path);
  if (!existsSync(file)) throw new AgentError('not_found', `No file at ${file}.`);
  // The running agent is the only writer: it is handed the file when it runs.
  const report = await withAgent<ImportReport>(
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

function verify(opts: { config: string }, io: Io): number {
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

function backup(opts: { config: string; out?: string }, io: Io): number {
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

function restore(path: string, opts: { config: string; force?: boolean }, io: Io): number {
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

type ExportOptions = {
  config?: string;
  unsynced?: boolean;
  decrypt?: string;
  out?: string;
  passphraseEnv?: string;
  passphraseFile?: string;
};

async function exportCommand(opts: ExportOptions, io: Io): Promise<number> {
  const usage = (message: string) => {
    io.err(`${message}\n`);
    return EXIT.usage;
  };
  if ((opts.passphraseEnv === undefined) === (opts.passphraseFile === undefined))
    return usage('export: give exactly one of --passphrase-env NAME or --passphrase-file PATH.');
  const passphrase = readPassphrase(opts);
  if (opts.decrypt !== undefined) {
    if (opts.unsynced) return usage('export: --decrypt and --unsynced do not go together.');
    const bundle = await decryptBundle(readFileSync(opts.decrypt, 'utf8'), passphrase);
    const json = `${JSON.stringify(bundle, null, 2)}\n`;
    if (opts.out === undefined) io.out(json);
    else writeFileSync(opts.out, json, { mode: 0o600, flag: 'wx' });
    return EXIT.ok;
  }
  if (!opts.unsynced)
    return usage('export: say what to export: --unsynced (or --decrypt BUNDLE to read one).');
  if (opts.config === undefined) return usage('export: --config is required with --unsynced.');
  if (opts.out === undefined) return usage('export: --out FILE is required with --unsynced.');
  // Reads the database only: a desktop config whose secrets sit in the OS keychain loads too.
  const config = loadConfig(opts.config, NO_SECRETS_ENV);
  // A read-only snapshot: safe while the agent runs, which stays the only writer.
  const db = openReadonly(config);
  let bundle: UnsyncedBundle;
  try {
    bundle = readUnsynced(db, config);
  } finally {
    db.close();
  }
  // Readable by its owner only, and never over an existing file.
  writeFileSync(opts.out, await encryptBundle(bundle, passphrase), { mode: 0o600, flag: 'wx' });
  io.out(
    `wrote ${resolve(opts.out)}: ${bundle.events.length} unsynced event(s), ${bundle.pendingLevels.length} pending level update(s), ` +
      `${bundle.openExceptions.length} open exception(s); encrypted (scrypt + AES-256-GCM)\n`,
  );
  return EXIT.ok;
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};
