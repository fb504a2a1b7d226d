import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { Agent } from '../agent/agent.js';
import { loadConfig } from '../agent/config-loader.js';
import { AgentError, ConfigError } from '../platform/errors.js';
import { createLogger } from '../platform/logger.js';
import { VERSION } from '../platform/version.js';
import { EXIT, type Io } from './cli-io.js';
import { listenForStopRequests } from './stop-request.js';

/** A port from 0 to 65535, as commander parses `--port`. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    // InvalidArgumentError, not a bare CommanderError: commander prints it (naming the option) before it exits.
    throw new InvalidArgumentError('--port must be a whole number from 0 to 65535.');
  }
  return port;
}

/** The options of `backroom serve`. */
export type ServeOptions = {
  config: string;
  port?: number;
  logLevel: string;
  logFile?: string;
  logMaxSize: string;
  logKeep: number;
};

/** A whole number of 1 or more for option `name`, as commander parses an option's value. */
export function parseCount(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a whole number of 1 or more.`);
  return n;
}

/**
 * `backroom serve`: runs the agent in the foreground until SIGTERM or SIGINT (or a parent's stop request), then
 * stops it cleanly; resolves once it has stopped.
 */
export async function serve(opts: ServeOptions, io: Io): Promise<number> {
  const config = loadConfig(opts.config);
  if (!/^\d+(\.\d+)?[kmg]?$/.test(opts.logMaxSize)) {
    io.err('--log-max-size must be a size like 10m, 512k or 1g.\n');
    return EXIT.usage;
  }
  const logger = createLogger({
    level: opts.logLevel,
    ...(opts.logFile
      ? { file: resolve(opts.logFile), rotate: { maxSize: opts.logMaxSize, keep: opts.logKeep } }
      : { fd: 2 }),
  });
  let agent: Agent;
  try {
    agent = await Agent.start({ config, logger, ...(opts.port !== undefined ? { port: opts.port } : {}) });
  } catch (error) {
    if (error instanceof AgentError && error.reason === 'invalid_config')
      throw new ConfigError(error.message);
    throw error;
  }
  // A parent process may ask by message instead of a signal (the desktop app, on Windows always).
  let stopRequests: ReturnType<typeof listenForStopRequests> | undefined;
  await new Promise<void>((resolveStop) => {
    let isStopping = false;
    const stop = (reason: string) => {
      isStopping = true;
      io.out(`${reason}: stopping\n`);
      agent.stop().then(resolveStop, (error: unknown) => {
        io.err(`stop failed: ${String(error)}\n`);
        resolveStop();
      });
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (isStopping) {
        io.err(`${signal} again: exiting without a clean stop\n`);
        process.exit(EXIT.failure);
      }
      stop(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // Windows: Ctrl+Break from a service wrapper (never raised elsewhere).
    process.on('SIGBREAK', onSignal);
    stopRequests = listenForStopRequests(() => {
      if (!isStopping) stop('stop requested');
    });
    // Announced only once the handlers are in place: whoever reads the address may stop the agent at once.
    io.out(`Backroom ${VERSION} agent "${config.agentId}" listening on ${agent.address}\n`);
  });
  stopRequests?.notifyStopped();
  stopRequests?.close();
  io.out('stopped\n');
  return EXIT.ok;
}
