import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DATABASE_FILE } from '../../src-main/agent/agent.js';
import { readLock } from '../../src-main/agent/data-dir-lock.js';
import { stopAgent, type StoppableProcess } from '../../src-main/desktop/agent-stop.js';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { makeEvent, ROOT, tempDir, testConfig, TOKEN, writeConfig } from '../support/harness.js';

// The stop sequence runs against real processes with a Node IPC channel, the same protocol Electron's utility
// process carries in the app. Killing uses SIGKILL here, like TerminateProcess on Windows: no cooperation.

/** A Node child process as the stop sequence sees it. */
function stoppable(child: ChildProcess): StoppableProcess {
  return {
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
    postMessage: (message) => {
      child.send(message);
    },
    onMessage: (listener) => {
      child.on('message', listener);
      return () => child.off('message', listener);
    },
    onExit: (listener) => {
      const onExit = (code: number | null) => listener(code);
      child.on('exit', onExit);
      return () => child.off('exit', onExit);
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}

/** Runs `script` in a Node child with an IPC channel and resolves once it says it is ready. */
async function child(script: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['-e', `${script}; process.send('ready');`], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    proc.once('message', () => resolve());
    proc.once('exit', (code) => reject(new Error(`the child exited (${code}) before it was ready`)));
  });
  return proc;
}

/** Ends a test's child whatever happened. */
function cleanup(proc: ChildProcess): () => void {
  return () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
}

describe('desktop: stopping the agent without signals (the Windows path)', () => {
  test('the real agent finishes its work, closes the database, says so and exits 0', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const config = writeConfig(dir.path, testConfig(dataDir));
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src-main/cli/index.ts'),
        'serve',
        '--config',
        config,
        '--log-level',
        'warn',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    t.after(cleanup(proc));
    let stdout = '';
    proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const address = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on('data', () => {
        const match = /listening on (http:\/\/\S+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`serve exited (${code}) before it listened`)));
    });
    const answer = await fetch(`${address}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [makeEvent({ id: 'before-stop-1' }), makeEvent({ id: 'before-stop-2' })],
      }),
    });
    assert.equal(answer.status, 200);

    const outcome = await stopAgent(stoppable(proc), { graceMs: 20_000 });

    assert.deepEqual(outcome, { kind: 'stopped', isClean: true, exitCode: 0, wasKilled: false });
    assert.match(stdout, /stop requested: stopping\nstopped\n/);
    assert.equal(readLock(dataDir), undefined, 'the lock is released');
    const db = AgentDatabase.open(join(dataDir, DATABASE_FILE), { isReadonly: true });
    t.after(() => db.close());
    const { n } = db.sqlite.prepare('SELECT count(*) AS n FROM events').get() as { n: number };
    assert.equal(n, 2, 'every acknowledged event is stored');
  });

  test('an agent that ignores the request is killed once the grace period is over', async (t) => {
    const proc = await child(`process.on('message', () => {}); setInterval(() => {}, 1000)`);
    t.after(cleanup(proc));
    const started = Date.now();
    const outcome = await stopAgent(stoppable(proc), { graceMs: 300, afterKillMs: 5_000 });
    assert.deepEqual(outcome, { kind: 'killed', isClean: false, exitCode: null });
    assert.ok(Date.now() - started >= 300, 'it waited the grace period first');
    assert.equal(proc.signalCode, 'SIGKILL');
  });

  test('an agent that says it stopped but lingers is killed soon after, and the stop still counts as clean', async (t) => {
    const proc = await child(
      `process.on('message', () => process.send({ type: 'backroom:stopped' })); setInterval(() => {}, 1000)`,
    );
    t.after(cleanup(proc));
    const started = Date.now();
    const outcome = await stopAgent(stoppable(proc), { graceMs: 20_000, exitAfterStoppedMs: 200 });
    assert.deepEqual(outcome, { kind: 'stopped', isClean: true, exitCode: null, wasKilled: true });
    assert.ok(Date.now() - started < 5_000, 'it did not wait for the grace period');
  });

  test('an agent that crashes while stopping is reported as an unclean exit', async (t) => {
    const proc = await child(`process.on('message', () => process.exit(1)); setInterval(() => {}, 1000)`);
    t.after(cleanup(proc));
    const outcome = await stopAgent(stoppable(proc), { graceMs: 20_000 });
    assert.deepEqual(outcome, { kind: 'exited', isClean: false, exitCode: 1 });
  });

  test('an agent that already exited is not asked at all', async () => {
    const proc = spawn(process.execPath, ['-e', ''], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise((resolve) => proc.once('exit', resolve));
    const outcome = await stopAgent(stoppable(proc));
    assert.deepEqual(outcome, { kind: 'not_running', isClean: true });
  });
});
