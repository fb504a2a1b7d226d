import type { ResolvedConfig } from '../../shared/config.js';
import { Agent } from '../agent/agent.js';
import { AgentError, UsageError } from '../platform/errors.js';
import { readLock } from '../agent/data-dir-lock.js';
import { createLogger } from '../platform/logger.js';

/**
 * Runs a CLI write where the one writer is: while an agent runs on the data directory, it is asked over its
 * control route (`POST <address><path>` with `body`, the lock's control token); otherwise the database is opened
 * here, without serving, for `offline`. Either way the caller gets the same report.
 */
export async function withAgent<T>(
  config: ResolvedConfig,
  request: Readonly<{ path: `/api/v1/${string}`; body: unknown; timeoutMs: number }>,
  offline: (agent: Agent) => T | Promise<T>,
): Promise<T> {
  const lock = readLock(config.dataDir);
  if (lock?.address) {
    const response = await fetch(`${lock.address}${request.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${lock.controlToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    if (!response.ok) {
      // The agent answers errors as `{ type: 'error', reason, message }`: its message names what was wrong.
      const text = await response.text();
      let message = text;
      try {
        const body = JSON.parse(text) as { message?: unknown };
        if (typeof body.message === 'string') message = body.message;
      } catch {
        // Not JSON (a proxy, a crash): the text as it came.
      }
      const said = `The running agent (${lock.address}) answered ${response.status}: ${message}`;
      // A refused input is a usage error (exit 2), like the same input refused offline.
      if (response.status === 400) throw new UsageError(said);
      throw new AgentError('agent_refused', said);
    }
    return (await response.json()) as T;
  }
  const agent = await Agent.start({
    config,
    logger: createLogger({ level: 'warn', fd: 2 }),
    isServing: false,
  });
  try {
    return await offline(agent);
  } finally {
    await agent.stop();
  }
}
