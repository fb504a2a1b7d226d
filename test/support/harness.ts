import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { IngestResponse } from '../../shared/api.js';
import type { ConfigInput } from '../../shared/config.js';
import { Agent } from '../../src-main/agent/agent.js';
import { parseConfig } from '../../src-main/agent/config-loader.js';
import { createLogger } from '../../src-main/platform/logger.js';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

export const TOKEN = 'test-token-pos-1-0123456789abcdef';
export const TOKEN_2 = 'test-token-pos-2-0123456789abcdef';

/** A fresh temporary folder, removed by `cleanup()`. */
export function tempDir(prefix = 'backroom-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A valid config for tests: two sources, two locations, port 0; `overrides` replace top-level keys. */
export function testConfig(dataDir: string, overrides: Partial<ConfigInput> = {}): ConfigInput {
  return {
    agentId: 'store-test',
    dataDir,
    listen: { host: '127.0.0.1', port: 0 },
    sources: [
      { id: 'pos-1', token: TOKEN },
      { id: 'pos-2', token: TOKEN_2 },
    ],
    locations: [
      { id: 'S1', name: 'Store one' },
      { id: 'S2', name: 'Store two' },
    ],
    ...overrides,
  };
}

/** Writes `config` as JSON into `dir` and returns the file path. */
export function writeConfig(
  dir: string,
  config: ConfigInput | Record<string, unknown>,
  name = 'config.json',
): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** An event with sensible defaults (a sale of 1 × SKU-1 at S1). */
export function makeEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `e-${Math.random().toString(36).slice(2)}`,
    type: 'sale',
    location: 'S1',
    occurredAt: '2026-11-24T10:15:00+01:00',
    lines: [{ sku: 'SKU-1', qty: 1 }],
    ...overrides,
  };
}

export type TestAgent = {
  agent: Agent;
  url: string;
  /** POSTs events (or any body) to the ingest API with a token; returns status and parsed body. */
  post: (
    body: unknown,
    token?: string,
  ) => Promise<{ status: number; body: IngestResponse & Record<string, unknown> }>;
  get: (path: string, token?: string) => Promise<{ status: number; body: Record<string, unknown> }>;
  stop: () => Promise<void>;
};

/** Test-only options of `startAgent`, beyond what the config file can say. */
export type TestAgentOptions = Readonly<{
  /**
   * Runs the reconciliation schedule every this many milliseconds, on the reconciler's real timer, instead of the
   * config's `reconcile.everyMinutes` (whose least value, 1 minute, is too slow for a test). Test-only: the public
   * config keeps whole minutes.
   */
  reconcileEveryMs?: number;
}>;

/** Starts an agent in this process on a free port, logging nothing. */
export async function startAgent(
  config: ConfigInput,
  baseDir = process.cwd(),
  options: TestAgentOptions = {},
): Promise<TestAgent> {
  const agent = await Agent.start({
    config: parseConfig(config, baseDir),
    logger: createLogger({ level: 'silent' }),
  });
  if (options.reconcileEveryMs !== undefined) {
    // Replaces the config's schedule (if any) with the short one.
    agent.reconciler.startSchedule(options.reconcileEveryMs / 60_000);
  }
  const url = agent.address;
  return {
    agent,
    url,
    post: async (body, token = TOKEN) => {
      const response = await fetch(`${url}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return {
        status: response.status,
        body: (await response.json()) as IngestResponse & Record<string, unknown>,
      };
    },
    get: async (path, token = TOKEN) => {
      const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const text = await response.text();
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { text };
      }
      return { status: response.status, body };
    },
    stop: () => agent.stop(),
  };
}

export type ServeProcess = {
  proc: ChildProcess;
  address: string;
  /** Resolves with the exit code (or signal) once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: () => string;
  stderr: () => string;
};

/** Runs the CLI (`backroom ...`) as a child process from the TypeScript sources; resolves when it exits. */
export function runBackroom(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src-main/cli/index.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`backroom ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/**
 * Spawns the real `backroom serve --config FILE` and resolves once it prints its address.
 * The caller stops it (SIGTERM for a clean stop, SIGKILL for a crash) and awaits `exited`.
 */
export function spawnServe(configFile: string, extraArgs: readonly string[] = []): Promise<ServeProcess> {
  return new Promise((resolveStart, reject) => {
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src-main/cli/index.ts'),
        'serve',
        '--config',
        configFile,
        '--log-level',
        'warn',
        ...extraArgs,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      proc.on('exit', (code, signal) => r({ code, signal })),
    );
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`backroom serve did not start in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 30_000);
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolveStart({ proc, address: match[1]!, exited, stdout: () => stdout, stderr: () => stderr });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(
        new Error(`backroom serve exited (${code}) before it listened\nstdout: ${stdout}\nstderr: ${stderr}`),
      );
    });
  });
}
