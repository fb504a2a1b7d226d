import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export type LoggerOptions = Readonly<{
  /** pino level; `silent` turns logging off (tests). */
  level?: string;
  /**
   * Write to this file, rotated: `agent.log` is written as `agent.1.log`, `agent.2.log`, ... (pino-roll's
   * numbering), a new one daily or past `rotate.maxSize`, keeping the newest `rotate.keep` besides the current.
   */
  file?: string;
  /** Rotation of `file`. */
  rotate?: Readonly<{
    /** Size at which a file is rotated: a number of MB or a string like `10m`, `512k`. Default `10m`. */
    maxSize?: string;
    /** Rotated files kept besides the current one. Default 10. */
    keep?: number;
    /** `daily`, `hourly` or milliseconds. Default `daily`. */
    frequency?: 'daily' | 'hourly' | number;
  }>;
  /** Write to this file descriptor when no file is given; default 1 (stdout). */
  fd?: number;
}>;

/** The agent's structured logger (JSON lines). Modules take a child with `logger.child({ module })`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.BACKROOM_LOG_LEVEL ?? 'info';
  // A file is written by pino-roll in pino's transport worker thread, so rotating (stat, rename, open) never
  // blocks the agent's event loop; pino flushes the worker when the process exits.
  const destination = options.file
    ? pino.transport({
        target: 'pino-roll',
        options: {
          file: options.file,
          size: options.rotate?.maxSize ?? '10m',
          frequency: options.rotate?.frequency ?? 'daily',
          limit: { count: options.rotate?.keep ?? 10 },
          mkdir: true,
        },
      })
    : pino.destination(options.fd ?? 1);
  return pino(
    {
      level,
      base: { pid: process.pid },
      // Secrets never reach the logs, whatever a module passes.
      redact: {
        paths: [
          'token',
          'secret',
          'password',
          'accessToken',
          'authorization',
          '*.token',
          '*.secret',
          '*.password',
          'req.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
