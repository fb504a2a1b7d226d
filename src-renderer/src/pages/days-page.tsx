import { useState } from 'react';
import type {
  BusinessDayView,
  DayScheduleView,
  DayMoneyView,
  DayStatementView,
  MoneyReconcileView,
  MoneyView,
} from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { messageOf } from '../api/message-of.js';
import { ActionMessages } from '../components/action-messages.js';
import { ErrorMessage } from '../components/error-message.js';
import { PageSection } from '../components/page-section.js';
import { TableHead } from '../components/table-head.js';
import { formatTime } from '../format.js';
import { useRpc } from '../hooks/use-rpc.js';
import { useLive } from '../stores/live-store.js';

const DAY_STATES: Record<BusinessDayView['state'], string> = {
  open: 'Open',
  closing: 'Closed, posting',
  posted: 'Posted',
};

const STATEMENT_STATES: Record<DayStatementView['state'], string> = {
  pending: 'Waiting for the ERP',
  posted: 'In the ERP',
  rejected: 'Rejected by the ERP',
};

const CAUSES: Record<DayMoneyView['causes'][number]['cause'], string> = {
  open_day: 'Day still open',
  pending: 'Statement not posted yet',
  supplementary_pending: 'Supplementary statement not posted yet',
  refused_line: 'Line refused by the ERP',
  rejected: 'Statement rejected by the ERP',
  unexplained: 'Unexplained',
};

/** Amounts per currency on one line; '' is the ERP company's currency (the tills named none). */
const money = (list: readonly MoneyView[]) =>
  list.length === 0
    ? '—'
    : list.map((m) => `${m.amount}${m.currency === '' ? '' : ` ${m.currency}`}`).join(' · ');

/** One destination's business day in words: where it ends and when it closes by itself, if it does. */
export function scheduleText(schedule: DayScheduleView): string {
  const ends =
    schedule.dayEndsAt === '00:00'
      ? 'a day ends at midnight'
      : `a day ends at ${schedule.dayEndsAt} by the tills' clock, so sales after midnight count for the day before`;
  const closes =
    schedule.closesAt === null
      ? 'it closes only when a manager closes it'
      : schedule.closesAt === schedule.dayEndsAt
        ? `it closes by itself as it ends (${schedule.closesAt}, ${schedule.timeZone})`
        : `it closes by itself at ${schedule.closesAt} (${schedule.timeZone})`;
  return `${schedule.destination}: ${ends}; ${closes}.`;
}

/**
 * Day close (managers): each location's business days for the ERP's daily statements, with the day's sales,
 * returns, units and value per currency; closing a day; each statement's state in the ERP (and posting it
 * again); and the money reconciliation: captured sales against the ERP's sale totals, with the causes.
 */
export function DaysPage() {
  // Every 5 s of the live stream: a closed day's statement shows reaching the ERP without a reload.
  const tick = useLive((s) => Math.floor((s.snapshot?.at ?? 0) / 5000));
  const { data, error, setData, reload } = useRpc('days.list', {}, [tick]);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [report, setReport] = useState<MoneyReconcileView | null>(null);

  const close = async (day: BusinessDayView) => {
    setBusy(`close:${day.location}:${day.day}`);
    setActionError(null);
    setNotice(null);
    try {
      const fresh = await call('days.close', { location: day.location, day: day.day });
      setData(() => fresh);
      setNotice(`${day.location} ${day.day} is closed; its statement is on its way to the ERP.`);
    } catch (err) {
      setActionError(messageOf(err));
    }
    setBusy(null);
  };

  const postAgain = async (statement: DayStatementView) => {
    setBusy(`post:${statement.id}`);
    setActionError(null);
    try {
      const { reference } = await call('days.postAgain', { statement: statement.id });
      setNotice(`Posting again as ${reference}.`);
      await reload();
    } catch (err) {
      setActionError(messageOf(err));
    }
    setBusy(null);
  };

  const compare = async () => {
    setBusy('money');
    setActionError(null);
    try {
      setReport(await call('days.money', {}));
    } catch (err) {
      setActionError(messageOf(err));
    }
    setBusy(null);
  };

  return (
    <PageSection name="days" title="Day close">
      <p className="muted">
        Each location's business day goes to the ERP as one sale (a line per item and price) when the day is
        closed. Sales that arrive after the close go into a supplementary statement of their own day.
      </p>
      {data !== null && data.schedules.length > 0 && (
        <div data-testid="day-schedules">
          {data.schedules.map((schedule) => (
            <p key={schedule.destination} className="small">
              {scheduleText(schedule)}
            </p>
          ))}
        </div>
      )}
      <ErrorMessage message={error} />
      <ActionMessages error={actionError} notice={notice} />
      {data !== null && data.destinations.length === 0 && (
        <p role="status">
          No destination posts daily statements (an ERP with posting mode “daily_statement”).
        </p>
      )}
      {data !== null && data.destinations.length > 0 && data.days.length === 0 && (
        <p role="status">No sales yet.</p>
      )}
      {data !== null && data.days.length > 0 && (
        <table className="data" data-testid="days">
          <caption className="visually-hidden">Business days per location</caption>
          <TableHead
            columns={[
              'Day',
              'Location',
              'State',
              { label: 'Sales', isNumeric: true },
              { label: 'Returns', isNumeric: true },
              { label: 'Units', isNumeric: true },
              { label: 'Value', isNumeric: true },
              'Statements in the ERP',
              { label: 'Actions', isHidden: true },
            ]}
          />
          <tbody>
            {data.days.map((day) => (
              <tr
                key={`${day.destinationId}:${day.location}:${day.day}`}
                data-testid={`day-${day.location}-${day.day}`}
              >
                <th scope="row" className="nowrap">
                  {day.day}
                </th>
                <td>{day.location}</td>
                <td>
                  <strong>{DAY_STATES[day.state]}</strong>
                  {day.closedAt !== null && (
                    <div className="small muted">
                      Closed {formatTime(day.closedAt)} by {day.closedBy === '' ? 'the agent' : day.closedBy}.
                      Takes only supplementary events
                      {day.late > 0 ? ` (${day.late} waiting for their supplementary statement)` : ''}.
                    </div>
                  )}
                </td>
                <td className="num">{day.sales}</td>
                <td className="num">{day.returns}</td>
                <td className="num">
                  {day.unitsSold}
                  {day.unitsReturned > 0 ? ` / −${day.unitsReturned}` : ''}
                </td>
                <td className="num nowrap">{money(day.value)}</td>
                <td>
                  {day.statements.length === 0 ? (
                    <span className="muted">—</span>
                  ) : (
                    <ul className="statement-list">
                      {day.statements.map((s) => (
                        <li key={s.id} data-testid={`statement-${s.reference}`}>
                          <span className="mono small">{s.reference}</span>: {STATEMENT_STATES[s.state]}
                          {s.remoteId !== null ? ` (sale ${s.remoteId})` : ''}, {money(s.total)}
                          {s.lastError !== null && s.state !== 'posted' && (
                            <div className="small negative">{s.lastError}</div>
                          )}
                          {s.refused.map((line) => (
                            <div
                              key={`${line.sku}:${line.unitPrice}:${line.currency}`}
                              className="small negative"
                            >
                              Refused: {line.qty} × {line.sku} at{' '}
                              {line.unitPrice === '' ? 'no price' : line.unitPrice}
                              {line.currency === '' ? '' : ` ${line.currency}`}: {line.why}
                            </div>
                          ))}
                          {(s.state === 'rejected' ||
                            (s.state === 'posted' && s.refused.some((l) => l.unitPrice !== ''))) && (
                            <button
                              type="button"
                              className="secondary small"
                              disabled={busy !== null}
                              onClick={() => void postAgain(s)}
                            >
                              {s.state === 'rejected' ? 'Post again' : 'Post refused lines again'}
                            </button>
                          )}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td className="row-actions">
                  {day.state === 'open' && (
                    <button
                      type="button"
                      disabled={busy !== null}
                      aria-label={`Close the day ${day.day} at ${day.location}`}
                      onClick={() => void close(day)}
                    >
                      {busy === `close:${day.location}:${day.day}` ? 'Closing…' : 'Close the day'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data !== null && data.destinations.length > 0 && (
        <>
          <h2>Money against the ERP</h2>
          <p className="muted">
            The tills' sales less returns per day, location and currency, against the totals of the ERP's
            sales (before tax) read back now, and what explains any difference.
          </p>
          <button type="button" disabled={busy !== null} onClick={() => void compare()}>
            {busy === 'money' ? 'Reading the ERP…' : 'Compare with the ERP'}
          </button>
          {report !== null && (
            <>
              <ErrorMessage message={report.error} />
              <table className="data" data-testid="money">
                <caption className="visually-hidden">Money per day and location</caption>
                <TableHead
                  columns={[
                    'Day',
                    'Location',
                    { label: 'Captured', isNumeric: true },
                    { label: 'In the ERP', isNumeric: true },
                    { label: 'Difference', isNumeric: true },
                    'Why',
                  ]}
                />
                <tbody>
                  {report.rows.map((row) => {
                    const c = row.currency === '' ? '' : ` ${row.currency}`;
                    return (
                      <tr
                        key={`${row.destinationId}:${row.location}:${row.day}:${row.currency}`}
                        data-testid={`money-${row.location}-${row.day}`}
                      >
                        <th scope="row" className="nowrap">
                          {row.day}
                        </th>
                        <td>{row.location}</td>
                        <td className="num nowrap">{`${row.captured}${c}`}</td>
                        <td className="num nowrap">{`${row.erp}${c}`}</td>
                        <td className={`num nowrap${row.difference === '0.00' ? '' : ' negative'}`}>
                          {row.difference === '0.00' ? 'None' : `${row.difference}${c}`}
                        </td>
                        <td>
                          {row.causes.length === 0
                            ? 'Matches'
                            : row.causes.map((cause, i) => (
                                <div key={i} className="small">
                                  <strong>{CAUSES[cause.cause]}</strong> ({cause.amount}
                                  {c}): {cause.detail}
                                </div>
                              ))}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </PageSection>
  );
}
