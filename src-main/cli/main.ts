import { Command, CommanderError, Option } from 'commander';
import { ConfigError, UsageError } from '../platform/errors.js';
import { VERSION } from '../platform/version.js';
import { channelsCommand, parseUnits } from './channels-command.js';
import { defaultIo, EXIT, type Io } from './cli-io.js';
import { backup, restore, verify } from './database-commands.js';
import { exportCommand, type ExportOptions } from './export-command.js';
import { fleetServe, type FleetServeOptions } from './fleet-command.js';
import { importCommand } from './import-command.js';
import { mappingsImport } from './mappings-command.js';
import { parseCount, parsePort, serve, type ServeOptions } from './serve-command.js';
import { status, unsynced } from './status-command.js';

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
    .command('fleet')
    .description('the central fleet service of head office')
    .command('serve')
    .description(
      "consume the stores' events and statuses from NATS JetStream into PostgreSQL and serve the fleet view",
    )
    .requiredOption('-c, --config <file>', 'the fleet service config file (JSON)')
    .option('--port <port>', 'listen on this port instead of the config one', (v) => parsePort(v))
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent', 'info')
    .action(async (opts: FleetServeOptions) => {
      code = await fleetServe(opts, io);
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
