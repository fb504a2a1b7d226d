import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../platform/errors.js';

/** What the lock file says about the agent that holds a data directory. */
export type LockInfo = {
  pid: number;
  agentId: string;
  version: string;
  startedAt: string;
  /** `http://host:port` once the agent listens; null while it starts. */
  address: string | null;
  /** A per-run token the local CLI uses to talk to this agent (the file is readable by its owner only). */
  controlToken: string;
};

export const LOCK_FILE = 'agent.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the lock of `dataDir`; `undefined` when no live agent holds it. */
export function readLock(dataDir: string): LockInfo | undefined {
  let info: LockInfo;
  try {
    info = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
  return isAlive(info.pid) ? info : undefined;
}

/**
 * One writer per data directory: the agent takes this lock before it opens the database. A lock left by an
 * agent that died (its pid is gone) is taken over; a live one is refused with a message naming it.
 */
export class DataDirLock {
  readonly #file: string;
  #info: LockInfo;

  private constructor(file: string, info: LockInfo) {
    this.#file = file;
    this.#info = info;
  }

  static acquire(dataDir: string, agentId: string, version: string): DataDirLock {
    const file = join(dataDir, LOCK_FILE);
    const info: LockInfo = {
      pid: process.pid,
      agentId,
      version,
      startedAt: new Date().toISOString(),
      address: null,
      controlToken: randomBytes(24).toString('base64url'),
    };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, JSON.stringify(info));
        closeSync(fd);
        return new DataDirLock(file, info);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = readLock(dataDir);
        if (holder) {
          throw new AgentError(
            'data_dir_locked',
            `Another Backroom agent (pid ${holder.pid}, ${holder.address ?? 'starting'}) already runs on ${dataDir}. ` +
              'Stop it first, or use its address.',
            { pid: holder.pid, address: holder.address },
          );
        }
        rmSync(file, { force: true }); // stale: its agent is gone
      }
    }
    throw new AgentError('data_dir_locked', `Could not take the lock ${file}.`);
  }

  get info(): LockInfo {
    return this.#info;
  }

  /** Records the address the agent listens on, for the CLI and the desktop app. */
  setAddress(address: string): void {
    this.#info = { ...this.#info, address };
    writeFileSync(this.#file, JSON.stringify(this.#info), { mode: 0o600 });
  }

  release(): void {
    rmSync(this.#file, { force: true });
  }
}
