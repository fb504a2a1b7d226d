import type { ResolvedConfig } from '../../shared/config.js';
import type { ApiInput, ApiOutput } from '../../shared/agent-api.js';
import { Agent } from '../agent/agent.js';
import { readLock } from '../agent/data-dir-lock.js';
import { createLogger } from '../platform/logger.js';
import { callAgent, controlAt, type ControlAt, type ControlPath } from './agent-client.js';

/**
 * Runs a CLI write where the one writer is: while an agent runs on the data directory, it is asked over its
 * control call at `path` (`shared/agent-api.ts`'s `CONTROL_RPC`, with `body` as its input and the lock's control
 * token); otherwise the database is opened here, without serving, for `offline`. Either way the caller gets the
 * same answer, typed by the contract.
 */
export async function withAgent<P extends ControlPath>(
  config: ResolvedConfig,
  request: Readonly<{ path: P; body: ApiInput<ControlAt<P>>; timeoutMs: number }>,
  offline: (agent: Agent) => ApiOutput<ControlAt<P>> | Promise<ApiOutput<ControlAt<P>>>,
): Promise<ApiOutput<ControlAt<P>>> {
  const lock = readLock(config.dataDir);
  if (lock?.address) {
    return callAgent(
      { address: lock.address, controlToken: lock.controlToken },
      controlAt(request.path),
      request.body,
      request.timeoutMs,
    );
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
