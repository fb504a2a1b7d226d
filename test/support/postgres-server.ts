import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { tempDir } from './harness.js';
import { freePort, stopProcess } from './server-process.js';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** The newest Debian PostgreSQL's binaries (`/usr/lib/postgresql/<version>/bin`), or null when none is installed. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], 'bin');
}

/**
 * Whether the test must be skipped for want of PostgreSQL: skipped with the reason printed on a developer
 * machine, failing in CI (`CI=true`, where `.ci/run` installs `postgresql`).
 */
export function missingPostgres(): string | false {
  if (postgresBin() !== null) return false;
  if (process.env.CI === 'true')
    throw new Error('PostgreSQL is not installed, and CI must run this test (.ci/run installs it)');
  const reason = 'PostgreSQL is not installed (apt-get install postgresql to run this test)';
  console.log(`skipping: ${reason}`);
  return reason;
}

/**
 * A throwaway PostgreSQL cluster for a test: `initdb` into a temporary folder, the server on a free loopback
 * port (its socket in that folder too), trust authentication for the one superuser `postgres`; never the
 * system's instance. `initdb` refuses to run as root, so as root (CI) the cluster belongs to `nobody` and both
 * `initdb` and the server run as `nobody` through `setpriv` (util-linux; it execs, so signals reach postgres
 * itself); as any other user they run as that user.
 *
 * @example
 * const pgServer = await PostgresServer.start();
 * t.after(() => pgServer.dispose());
 * const url = await pgServer.createDatabase('fleet');
 */
export class PostgresServer {
  readonly port: number;
  readonly #dir: { path: string; cleanup: () => void };
  readonly #bin: string;
  #proc: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #log = '';

  private constructor(port: number, dir: { path: string; cleanup: () => void }, bin: string) {
    this.port = port;
    this.#dir = dir;
    this.#bin = bin;
  }

  static async start(): Promise<PostgresServer> {
    const bin = postgresBin();
    if (bin === null) throw new Error('PostgreSQL is not installed');
    const server = new PostgresServer(await freePort(), tempDir('backroom-pg-'), bin);
    try {
      if (isRoot()) chownSync(server.#dir.path, uid('nobody'), gid('nobody'));
      execFileSync(
        ...asTestUser(join(bin, 'initdb'), [
          '-D',
          server.#data,
          '-A',
          'trust',
          '-U',
          'postgres',
          '--no-sync',
          '-E',
          'UTF8',
          '--locale',
          'C',
        ]),
        {
          stdio: 'pipe',
        },
      );
      await server.#run();
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  get #data(): string {
    return join(this.#dir.path, 'data');
  }

  /** A connection string for database `name` of this server. */
  url(name = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${name}`;
  }

  /** Creates an empty database and returns its connection string. */
  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  get log(): string {
    return this.#log;
  }

  #run(): Promise<void> {
    return new Promise((resolve, reject) => {
      const [cmd, args] = asTestUser(join(this.#bin, 'postgres'), [
        ...['-D', this.#data, '-p', String(this.port), '-h', '127.0.0.1', '-k', this.#dir.path],
        // A test database: durability off (fsync, full pages) for speed; nothing here outlives the test.
        ...[
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=200',
        ],
      ]);
      const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      this.#proc = proc;
      let isReady = false;
      this.#exited = new Promise((done) =>
        proc.once('exit', (code, signal) => {
          this.#proc = null;
          if (!isReady) {
            clearTimeout(timer);
            reject(new Error(`postgres exited (${code ?? signal}) before it was ready:\n${this.#log}`));
          }
          done();
        }),
      );
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`postgres was not ready within ${START_TIMEOUT_MS} ms:\n${this.#log}`));
      }, START_TIMEOUT_MS);
      proc.stderr.on('data', (chunk: Buffer) => {
        this.#log += chunk.toString();
        if (!isReady && this.#log.includes('database system is ready to accept connections')) {
          isReady = true;
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Stops the server (SIGTERM: a smart shutdown, then SIGKILL past a bound) and removes its folder. */
  async dispose(): Promise<void> {
    if (this.#proc) await stopProcess(this.#proc, this.#exited, STOP_TIMEOUT_MS);
    this.#dir.cleanup();
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}

/** The command that runs `cmd` as the user the cluster belongs to: `nobody` under root, else ourselves. */
function asTestUser(cmd: string, args: readonly string[]): [string, string[]] {
  // setpriv execs the command itself (no process in between), so a signal to the child reaches postgres.
  return isRoot()
    ? ['setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', '--', cmd, ...args]]
    : [cmd, [...args]];
}
