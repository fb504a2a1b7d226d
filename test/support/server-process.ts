import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (the OS picks one; it is released before the caller binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * Stops a server process the test started: SIGTERM, then SIGKILL once `timeoutMs` has passed; resolves when it
 * has exited (`exited` resolves on its exit).
 */
export async function stopProcess(
  proc: ChildProcess,
  exited: Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    exited,
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve();
      }, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  await exited;
}
