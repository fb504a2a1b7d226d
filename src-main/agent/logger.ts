import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export type LoggerOptions = Readonly<{
  /** pino level; `silent` turns logging off (tests). */
  level?: string;
  /** Write to this file. */
  file?: string;
  /** Write to this file descriptor when no file is given; default 1 (stdout). */
  fd?: number;
}>;

/** The agent's structured logger (JSON lines). Modules take a child with `logger.child({ module })`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.BACKROOM_LOG_LEVEL ?? 'info';
  const destination = options.file
    ? pino.destination({ dest: options.file, mkdir: true, sync: false })
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
