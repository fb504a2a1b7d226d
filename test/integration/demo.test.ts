import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ROOT, tempDir } from '../support/harness.js';
import { freePort } from '../support/server-process.js';

test('the demo started as the README says ends on the first Ctrl+C (SIGINT), with exit code 0', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'scripts/demo.ts'),
      '--fresh',
      '--dir',
      join(dir.path, 'demo'),
      '--port',
      String(await freePort()),
      '--erp-port',
      String(await freePort()),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => proc.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );

  for (let i = 0; i < 600 && !stdout.includes('Backroom demo is running'); i += 1) await sleep(100);
  assert.match(stdout, /Backroom demo is running/, `the demo started\nstdout: ${stdout}\nstderr: ${stderr}`);
  // Let the tills, the marketplaces and the status line run a while, as a newcomer would before pressing Ctrl+C.
  await sleep(4_000);
  proc.kill('SIGINT');

  const outcome = await Promise.race([exited, sleep(20_000).then(() => 'still running' as const)]);
  assert.deepEqual(outcome, { code: 0, signal: null }, `stdout: ${stdout.slice(-2000)}\nstderr: ${stderr}`);
  assert.match(stdout, /demo stopped\n/);
});
