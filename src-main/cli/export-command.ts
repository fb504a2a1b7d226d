import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../agent/config-loader.js';
import {
  decryptBundle,
  encryptBundle,
  readPassphrase,
  readUnsynced,
  type UnsyncedBundle,
} from '../agent/support-bundle.js';
import { EXIT, type Io } from './cli-io.js';
import { NO_SECRETS_ENV, openReadonly } from './readonly-database.js';

/** The options of `backroom export`. */
export type ExportOptions = {
  config?: string;
  unsynced?: boolean;
  decrypt?: string;
  out?: string;
  passphraseEnv?: string;
  passphraseFile?: string;
};

/**
 * `backroom export`: writes what is not yet synced to an encrypted bundle for support (`--unsynced`), or reads
 * one back (`--decrypt`).
 */
export async function exportCommand(opts: ExportOptions, io: Io): Promise<number> {
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
