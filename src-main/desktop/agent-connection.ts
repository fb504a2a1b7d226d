import type { HealthResponse } from '../../shared/api.js';
import { readLock } from '../agent/data-dir-lock.js';

/** How the desktop app gets an agent for a data directory. */
export type AgentConnection =
  /** A headless service (or another app) already runs on this data directory and answers as our agent. */
  | Readonly<{ kind: 'connect'; address: string; controlToken: string; pid: number }>
  /** Nobody holds the data directory: start an agent in a utility process. */
  | Readonly<{ kind: 'start' }>
  /** A live agent holds the data directory but is not ours or does not answer: neither connect nor start. */
  | Readonly<{ kind: 'blocked'; message: string }>;

export type ChooseOptions = Readonly<{
  dataDir: string;
  /** The agent id of this app's config: a running agent must answer `/api/v1/health` with it. */
  agentId: string;
  /** How long to wait for a lock holder that is still starting (no address yet, or no answer). Default 10 s. */
  waitMs?: number;
  /** Timeout of one health request. Default 2 s. */
  requestTimeoutMs?: number;
}>;

async function health(address: string, timeoutMs: number): Promise<HealthResponse | null> {
  try {
    const response = await fetch(`${address}/api/v1/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return null;
    return (await response.json()) as HealthResponse;
  } catch {
    return null;
  }
}

/**
 * Decides between connecting to the agent that holds `dataDir` and starting one. One writer per data directory
 * (the lock): when a live agent holds it and its `/api/v1/health` answers with our agent id, connect; when no
 * live agent holds it, start one. A holder that is still starting is given `waitMs`; one that answers with
 * another agent id, or never answers, blocks (starting a second agent would be refused by the lock anyway).
 */
export async function chooseAgentConnection(options: ChooseOptions): Promise<AgentConnection> {
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  const timeoutMs = options.requestTimeoutMs ?? 2_000;
  for (;;) {
    const lock = readLock(options.dataDir);
    if (lock === undefined) return { kind: 'start' };
    if (lock.address !== null) {
      const answer = await health(lock.address, timeoutMs);
      if (answer !== null) {
        if (answer.agentId === options.agentId)
          return { kind: 'connect', address: lock.address, controlToken: lock.controlToken, pid: lock.pid };
        return {
          kind: 'blocked',
          message:
            `The data folder ${options.dataDir} is used by agent "${answer.agentId}" (pid ${lock.pid}, ${lock.address}), ` +
            `not "${options.agentId}". Check the config's dataDir.`,
        };
      }
    }
    if (Date.now() >= deadline)
      return {
        kind: 'blocked',
        message:
          `An agent (pid ${lock.pid}) holds ${options.dataDir} but ${lock.address === null ? 'has not started listening' : `does not answer at ${lock.address}`}. ` +
          'Wait for it to start, or stop it.',
      };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
