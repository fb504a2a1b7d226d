import { isProtocolMessage, STOP_REQUEST, STOPPED_NOTICE } from '../cli/stop-request.js';

/**
 * The agent process as the stop sequence sees it: Electron's `UtilityProcess` in the app (see main.ts), a Node
 * `ChildProcess` with an IPC channel in tests.
 */
export type StoppableProcess = Readonly<{
  hasExited: () => boolean;
  /** Sends a message of the stop protocol over the process's channel; may throw when the channel is gone. */
  postMessage: (message: Readonly<{ type: string }>) => void;
  /** Subscribes to messages from the process; returns the unsubscribe function. */
  onMessage: (listener: (message: unknown) => void) => () => void;
  /** Subscribes to the process's exit; returns the unsubscribe function. */
  onExit: (listener: (code: number | null) => void) => () => void;
  /**
   * Ends the process without its help: TerminateProcess on Windows. On POSIX, Electron's `kill()` sends SIGTERM,
   * which an agent already stopping answers by exiting at once.
   */
  kill: () => void;
}>;

export type StopTimeouts = Readonly<{
  /** How long the agent may take to finish in-flight work and close its database. Default 20 s. */
  graceMs?: number;
  /** How long a process that said it stopped may take to exit before it is killed. Default 3 s. */
  exitAfterStoppedMs?: number;
  /** How long to wait for the exit after a kill. Default 5 s. */
  afterKillMs?: number;
}>;

/**
 * How the stop went. `isClean` means the agent closed its database itself (it said so, or exited 0); when it
 * is false, nothing is lost either (captures are committed before they are acknowledged, and a delivery cut
 * short is sent again with the same idempotency key), but the next start has leases to reset.
 */
export type StopOutcome = Readonly<
  | { kind: 'not_running'; isClean: true }
  /** The agent said it stopped; `wasKilled` when it then lingered past `exitAfterStoppedMs`. */
  | { kind: 'stopped'; isClean: true; exitCode: number | null; wasKilled: boolean }
  /** The process exited without saying it stopped (0: a stop by signal; else a crash during the stop). */
  | { kind: 'exited'; isClean: boolean; exitCode: number | null }
  /** No stop within `graceMs`: killed. */
  | { kind: 'killed'; isClean: false; exitCode: number | null }
  /** Still running even after the kill. */
  | { kind: 'unresponsive'; isClean: false }
>;

/** Resolves with the exit code, or with `undefined` when `ms` pass first. */
function exitWithin(agent: StoppableProcess, ms: number): Promise<number | null | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      unsubscribe();
      resolve(undefined);
    }, ms);
    const unsubscribe = agent.onExit((code) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(code);
    });
  });
}

type FirstEvent = { kind: 'stopped' } | { kind: 'exit'; code: number | null } | { kind: 'timeout' };

/** Kills, ignoring a process that is gone already. */
function kill(agent: StoppableProcess): void {
  try {
    agent.kill();
  } catch {
    // already gone: the exit wait below sees it
  }
}

/**
 * Stops the agent the desktop app started, on every platform the same way: ask it by message
 * (`{ type: 'backroom:stop' }`), wait up to `graceMs` for it to finish in-flight work, close the database and
 * say `{ type: 'backroom:stopped' }` (or exit), and only then kill it. Never throws; never waits longer than
 * `graceMs + exitAfterStoppedMs + afterKillMs` in all.
 *
 * @example
 * const outcome = await stopAgent(processOf(child), { graceMs: 20_000 });
 * if (!outcome.isClean) log(`agent ${outcome.kind}`);
 */
export async function stopAgent(agent: StoppableProcess, timeouts: StopTimeouts = {}): Promise<StopOutcome> {
  const graceMs = timeouts.graceMs ?? 20_000;
  const exitAfterStoppedMs = timeouts.exitAfterStoppedMs ?? 3_000;
  const afterKillMs = timeouts.afterKillMs ?? 5_000;
  if (agent.hasExited()) return { kind: 'not_running', isClean: true };

  // Subscribe before asking: a fast agent may answer (or exit) before postMessage returns.
  let resolveFirst: (event: FirstEvent) => void = () => undefined;
  const first = new Promise<FirstEvent>((resolve) => (resolveFirst = resolve));
  const offMessage = agent.onMessage((message) => {
    if (isProtocolMessage(message, STOPPED_NOTICE)) resolveFirst({ kind: 'stopped' });
  });
  const offExit = agent.onExit((code) => resolveFirst({ kind: 'exit', code }));
  const timer = setTimeout(() => resolveFirst({ kind: 'timeout' }), graceMs);
  try {
    agent.postMessage(STOP_REQUEST);
  } catch {
    // The channel is gone: the process is exiting or hung; the exit or the timeout decides.
  }
  const event = await first;
  clearTimeout(timer);
  offMessage();
  offExit();

  switch (event.kind) {
    case 'exit':
      return { kind: 'exited', isClean: event.code === 0, exitCode: event.code };
    case 'stopped': {
      if (agent.hasExited()) return { kind: 'stopped', isClean: true, exitCode: null, wasKilled: false };
      const code = await exitWithin(agent, exitAfterStoppedMs);
      if (code !== undefined) return { kind: 'stopped', isClean: true, exitCode: code, wasKilled: false };
      // The database is closed already: ending the lingering process loses nothing.
      kill(agent);
      const killedCode = await exitWithin(agent, afterKillMs);
      return { kind: 'stopped', isClean: true, exitCode: killedCode ?? null, wasKilled: true };
    }
    case 'timeout': {
      if (agent.hasExited()) return { kind: 'exited', isClean: false, exitCode: null };
      kill(agent);
      const code = await exitWithin(agent, afterKillMs);
      return code === undefined
        ? { kind: 'unresponsive', isClean: false }
        : { kind: 'killed', isClean: false, exitCode: code };
    }
  }
}
