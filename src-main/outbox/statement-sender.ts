import type {
  OutgoingStatement,
  StatementOutcome,
  StatementTarget,
} from '../connectors/port/connector-bundle.js';
import type { Logger } from '../platform/logger.js';
import { SenderLoop } from '../platform/sender-loop.js';
import { InputRefusal } from '../platform/errors.js';
import { minutesOf, type DayStatements, type DueStatement } from './day-statements.js';

export type StatementSenderOptions = Readonly<{
  destinationId: string;
  target: StatementTarget;
  statements: DayStatements;
  logger: Logger;
  /**
   * The configured close (`dayClose`): without `at`, days close only when a manager closes them; `dayEndsAt`
   * (default midnight) is where a business day ends.
   */
  dayClose?:
    | Readonly<{ at?: string | undefined; dayEndsAt?: string | undefined; timeZone?: string | undefined }>
    | undefined;
  /** How often the close time, late events and due statements are looked at. Default 5 s. */
  tickMs?: number;
  /**
   * How long one statement's post may take, all its calls together, before it is cut and tried again (found by
   * its reference then). Default 10 minutes: a day of a busy store is a sale of a few thousand lines.
   */
  postTimeoutMs?: number;
  /** The longest wait between two attempts of one statement. Default 5 minutes. */
  maxDelayMs?: number;
  /** The clock (tests). */
  now?: () => number;
}>;

/**
 * The calendar day and time of day at `now` in a time zone (the agent's own when none is given), as `YYYY-MM-DD`
 * and `HH:MM`.
 */
export function localDayAndTime(now: number, timeZone?: string): { day: string; time: string } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return {
    day: `${part('year')}-${part('month')}-${part('day')}`,
    time: `${part('hour')}:${part('minute')}`,
  };
}

/**
 * The business day under way at `now` and how far into it we are (`HH:MM` since it began), for days that end at
 * `dayEndsAt` (default midnight) in a time zone (the agent's own when none is given).
 */
export function businessDayAndTime(
  now: number,
  dayEndsAt = '00:00',
  timeZone?: string,
): { day: string; time: string } {
  // The local clock moved back by the day's end: its day is the business day, its time the time into that day.
  // (On the night the clocks change, the hour between is counted with the day it falls in by UTC.)
  return localDayAndTime(now - minutesOf(dayEndsAt) * 60_000, timeZone);
}

/**
 * How far into its business day (`HH:MM` since it began) a day closes at `at`, for days ending at `dayEndsAt`:
 * `"24:00"`, which no time of day reaches, when `at` is the day's end itself (the day closes as the next begins).
 */
function closeTimeIntoDay(at: string, dayEndsAt: string): string {
  const minutes = (minutesOf(at) - minutesOf(dayEndsAt) + 1440) % 1440 || 1440;
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/**
 * Posts one `daily_statement` destination's statements to the ERP: at each tick (and on `runDue`) it closes the
 * days the configured close time has passed, makes supplementary statements of late events, and posts every
 * pending statement, one at a time, oldest day first. Each post is exactly once by the target's own means (the
 * statement's reference searched before anything is created); `retry` and `unknown` are tried again with a
 * backoff, and `unknown` needs nothing more, because the next post searches first.
 */
export class StatementSender {
  readonly #o: StatementSenderOptions;
  readonly #log: Logger;
  readonly #loop: SenderLoop;

  constructor(options: StatementSenderOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'statement-sender', destination: options.destinationId });
    this.#loop = new SenderLoop(() => this.#runOnce(), {
      everyMs: options.tickMs ?? 5000,
      onError: (error) => this.#log.warn({ err: error }, 'statement run failed'),
    });
  }

  /** When this destination's days end and close by themselves (the Day close page shows it). */
  get schedule(): { dayEndsAt: string; closesAt: string | null; timeZone: string } {
    const { dayClose } = this.#o;
    return {
      dayEndsAt: dayClose?.dayEndsAt ?? '00:00',
      closesAt: dayClose?.at ?? null,
      timeZone: dayClose?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    };
  }

  get destinationId(): string {
    return this.#o.destinationId;
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  wake(): void {
    this.#loop.wake();
  }

  /** Closes what is due, collects late events, posts what is pending (joining a run under way); how many posts. */
  runDue(): Promise<number> {
    return this.#loop.run();
  }

  async #runOnce(): Promise<number> {
    const { statements, destinationId } = this.#o;
    const now = this.#o.now?.() ?? Date.now();
    this.#closeScheduled(now);
    const made = statements.collectLate(destinationId, now);
    if (made > 0) this.#log.info({ made }, 'supplementary statements made of late events');
    let tried = 0;
    for (const statement of statements.due(destinationId, now)) {
      if (this.#loop.signal.aborted) break;
      tried += 1;
      await this.#post(statement);
    }
    return tried;
  }

  #closeScheduled(now: number): void {
    const { dayClose, statements, destinationId } = this.#o;
    if (dayClose?.at === undefined) return;
    const dayEndsAt = dayClose.dayEndsAt ?? '00:00';
    // Both in time since the business day began: the day under way closes once that reaches the close time's.
    const current = businessDayAndTime(now, dayEndsAt, dayClose.timeZone);
    for (const { location, day } of statements.openDaysBefore(
      destinationId,
      current.day,
      current.time >= closeTimeIntoDay(dayClose.at, dayEndsAt),
    )) {
      try {
        statements.closeDay([destinationId], location, day, 'schedule', now);
        this.#log.info({ location, day }, 'business day closed at its close time');
      } catch (error) {
        // A manager closed it meanwhile.
        if (!(error instanceof InputRefusal)) throw error;
      }
    }
  }

  async #post(statement: DueStatement): Promise<void> {
    const outgoing: OutgoingStatement = {
      reference: statement.reference,
      location: statement.location,
      day: statement.day,
      lines: statement.lines.map((l) => ({
        sku: l.sku,
        unitPrice: l.unitPrice,
        currency: l.currency === '' ? null : l.currency,
        qty: l.sold - l.returned,
      })),
    };
    const signal = AbortSignal.any([
      this.#loop.signal,
      AbortSignal.timeout(this.#o.postTimeoutMs ?? 600_000),
    ]);
    let outcome: StatementOutcome;
    try {
      outcome = await this.#o.target.post(outgoing, signal);
    } catch (error) {
      outcome = { kind: 'retry', detail: error instanceof Error ? error.message : String(error) };
    }
    const now = this.#o.now?.() ?? Date.now();
    switch (outcome.kind) {
      case 'posted':
        this.#o.statements.markPosted(statement, outcome.remoteId, outcome.refused, now);
        this.#log.info(
          { reference: statement.reference, remote: outcome.remoteId, refused: outcome.refused.length },
          'statement posted',
        );
        return;
      case 'retry':
      case 'unknown': {
        const delay = Math.min(this.#o.maxDelayMs ?? 300_000, 1000 * 2 ** Math.min(statement.attempts, 16));
        this.#o.statements.markFailed(statement, 'retry', outcome.detail, delay, now);
        this.#log.warn(
          { reference: statement.reference, detail: outcome.detail },
          'statement not posted yet',
        );
        return;
      }
      case 'rejected':
        this.#o.statements.markFailed(statement, 'rejected', outcome.detail, 0, now);
        this.#log.warn({ reference: statement.reference, detail: outcome.detail }, 'statement rejected');
        return;
    }
  }
}
