import { Money } from '../../shared/money.js';
import type {
  DayCloseView,
  DayMoneyView,
  DayScheduleView,
  MoneyReconcileView,
} from '../../shared/rpc-views.js';
import type { StatementTarget } from '../connectors/port/connector-bundle.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { DayStatements } from '../outbox/day-statements.js';
import type { Logger } from '../platform/logger.js';

export type DayCloseOptions = Readonly<{
  statements: DayStatements;
  /** The `daily_statement` destinations: each one's ERP target and its sender's wake-up. */
  destinations: readonly Readonly<{
    id: string;
    target: StatementTarget;
    postNow: () => Promise<number>;
    /** When its days end and close by themselves. */
    schedule: Omit<DayScheduleView, 'destination'>;
  }>[];
  audit: AuditLog;
  logger: Logger;
}>;

type Cause = DayMoneyView['causes'][number];

/**
 * The Day close page's work: the business days with their totals and statements, closing a day (audited), posting
 * a rejected statement or refused lines again, and the money reconciliation: per day, location and currency the
 * sum of the captured sales and returns against the totals of the ERP's sales read back, with the cause of each
 * difference.
 */
export class DayClose {
  readonly #o: DayCloseOptions;

  constructor(options: DayCloseOptions) {
    this.#o = options;
  }

  get destinationIds(): string[] {
    return this.#o.destinations.map((d) => d.id);
  }

  view(): DayCloseView {
    return {
      ...this.#o.statements.days(this.destinationIds),
      schedules: this.#o.destinations.map((d) => ({ destination: d.id, ...d.schedule })),
    };
  }

  /** Closes a location's business day at every `daily_statement` destination and posts its statement soon. */
  close(location: string, day: string, operator: string): DayCloseView {
    const { statements } = this.#o.statements.closeDay(this.destinationIds, location, day, operator);
    this.#o.audit.record({
      operator,
      action: 'day.close',
      subject: `day:${location}:${day}`,
      reason: null,
      before: null,
      after: { statements },
    });
    this.#postSoon();
    return this.view();
  }

  /** Posts a rejected statement again, or a posted one's refused lines in a supplementary statement (audited). */
  postAgain(statementId: number, operator: string): { reference: string } {
    const result = this.#o.statements.postAgain(statementId);
    this.#o.audit.record({
      operator,
      action: 'day.postAgain',
      subject: `statement:${statementId}`,
      reason: null,
      before: null,
      after: result,
    });
    this.#postSoon();
    return result;
  }

  /** Closes what is due, makes and posts pending statements now; resolves once tried (tests, the CLI). */
  async postNow(): Promise<number> {
    let tried = 0;
    for (const d of this.#o.destinations) tried += await d.postNow();
    return tried;
  }

  #postSoon(): void {
    this.postNow().catch((error: unknown) =>
      this.#o.logger.warn({ err: error }, 'posting statements after a close failed'),
    );
  }

  /**
   * Money reconciliation: for each destination, location, day and currency, what was captured (sales less
   * returns at their unit prices) against the untaxed totals of the ERP's sales for the day's statements, read
   * back now. A difference is explained, amount by amount, by an open day (not closed: nothing posted yet),
   * statements waiting to be posted (the day's own or a supplementary one), lines the ERP refused or a statement
   * it rejected; what is left is `unexplained` (someone changed the sale in the ERP).
   */
  async money(signal: AbortSignal): Promise<MoneyReconcileView> {
    const rows: DayMoneyView[] = [];
    let error: string | null = null;
    for (const destination of this.#o.destinations) {
      const all = this.#o.statements.statementLines(destination.id);
      let remote: Awaited<ReturnType<StatementTarget['read']>>;
      try {
        remote = await destination.target.read(
          all.map((s) => s.statement.reference),
          signal,
        );
      } catch (e) {
        error = `${destination.id} could not be read: ${e instanceof Error ? e.message : String(e)}`;
        continue;
      }
      const remoteOf = new Map(remote.map((r) => [r.reference, r]));
      const view = this.#o.statements.days([destination.id], 1000);
      for (const day of view.days) {
        const captured = new Money();
        for (const v of day.value) captured.addScaled(v.currency, Money.scaled(v.amount));
        const erp = new Money();
        const causes = new Map<string, Cause[]>();
        const explain = (currency: string, cause: Cause['cause'], amount: bigint, detail: string) => {
          if (amount === 0n) return;
          causes.set(currency, [
            ...(causes.get(currency) ?? []),
            { cause, amount: Money.format(amount), detail },
          ]);
        };
        const statements = all.filter(
          (s) => s.statement.location === day.location && s.statement.day === day.day,
        );
        // What the statements hold (a refused line sent again is counted in the statement it went to).
        const inStatements = new Money();
        for (const { statement, lines } of statements) {
          const found = remoteOf.get(statement.reference);
          const value = new Money();
          const refused = new Money();
          for (const line of lines) {
            if (line.unit_price === '' || line.state === 'moved') continue;
            value.add(line.currency, line.unit_price, line.sold - line.returned);
            if (line.state === 'refused')
              refused.add(line.currency, line.unit_price, line.sold - line.returned);
          }
          for (const currency of value.currencies()) inStatements.addScaled(currency, value.get(currency));
          if (found !== undefined) {
            // The ERP names the company currency by its code where the events named none: the total counts
            // under the currency the statement's posted lines were captured in.
            const posted = lines.filter((l) => l.state === 'posted');
            erp.addScaled(posted[0]?.currency ?? found.total.currency, Money.scaled(found.total.amount));
          }
          for (const currency of value.currencies()) {
            if (statement.state === 'rejected')
              explain(
                currency,
                'rejected',
                value.get(currency),
                `${statement.reference} was rejected by the ERP: ${statement.last_error ?? ''}`,
              );
            else if (found === undefined && statement.state === 'pending')
              explain(
                currency,
                statement.number === 0 ? 'pending' : 'supplementary_pending',
                value.get(currency) - refused.get(currency),
                `${statement.reference} is not in the ERP yet${statement.last_error === null ? '' : ` (${statement.last_error})`}`,
              );
            const refusedLines = lines.filter(
              (l) => l.state === 'refused' && l.currency === currency && l.unit_price !== '',
            );
            if (statement.state !== 'rejected')
              explain(
                currency,
                'refused_line',
                refused.get(currency),
                `${statement.reference}: ${refusedLines
                  .map((l) => `${l.sold - l.returned} × ${l.sku} at ${l.unit_price}: ${l.refusal ?? ''}`)
                  .join('; ')}`,
              );
          }
        }
        // Events in no statement: the open day's, or late ones waiting for their supplementary statement.
        for (const currency of captured.currencies())
          explain(
            currency,
            day.state === 'open' ? 'open_day' : 'supplementary_pending',
            captured.get(currency) - inStatements.get(currency),
            day.state === 'open'
              ? 'the day is open: its sales go to the ERP when it is closed'
              : `${day.late} late event${day.late === 1 ? '' : 's'} wait for their supplementary statement`,
          );
        const currencies = new Set([...captured.currencies(), ...erp.currencies()]);
        for (const currency of [...currencies].sort()) {
          const erpAmount = erp.get(currency);
          const difference = captured.get(currency) - erpAmount;
          const known = (causes.get(currency) ?? []).reduce((sum, c) => sum + Money.scaled(c.amount), 0n);
          const list = [...(causes.get(currency) ?? [])];
          if (difference !== known)
            list.push({
              cause: 'unexplained',
              amount: Money.format(difference - known),
              detail:
                'the ERP’s sales differ from what was posted; check whether someone changed them in the ERP',
            });
          rows.push({
            destinationId: destination.id,
            location: day.location,
            day: day.day,
            currency,
            captured: Money.format(captured.get(currency)),
            erp: Money.format(erpAmount),
            difference: Money.format(difference),
            causes: difference === 0n ? [] : list,
          });
        }
      }
    }
    return { rows, error, readAt: Date.now() };
  }
}
