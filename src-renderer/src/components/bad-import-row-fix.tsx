import { useId, useMemo, useState } from 'react';
import { EVENT_LABELS, EVENT_TYPES, eventSchema, toFieldErrors } from '../../../shared/events.js';
import { ApiCallError, call } from '../api/client.js';
import { useAction } from '../hooks/use-action.js';
import { useMayCall } from '../hooks/use-may-call.js';
import type { FixProps } from './exception-fixes.js';
import { Field, fieldProps, TextField } from './field.js';
import { Options } from './options.js';
import { OutcomeMessage } from './outcome-message.js';
import { RoleNote } from './role-note.js';
import { SubmitButton } from './submit-button.js';

/** One line of the form, as typed (the quantity stays text until it is checked). */
type LineDraft = { sku: string; qty: string; unitPrice: string; currency: string };

type Draft = {
  type: string;
  location: string;
  occurredAt: string;
  reference: string;
  lines: LineDraft[];
};

const text = (value: unknown): string =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';

/** A value of the file as it was: text as is, anything else (a JSON line's nested value) as JSON. */
const asInFile = (value: unknown): string =>
  typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);

/** The raw event a `bad_import_row` exception keeps (assembled from the file), or null on older ones. */
function rawEventOf(details: Record<string, unknown>): Record<string, unknown> | null {
  const event = details.event;
  return typeof event === 'object' && event !== null && !Array.isArray(event)
    ? (event as Record<string, unknown>)
    : null;
}

function draftOf(event: Record<string, unknown>): Draft {
  const lines = Array.isArray(event.lines) ? (event.lines as unknown[]) : [];
  return {
    type: text(event.type),
    location: text(event.location),
    occurredAt: text(event.occurredAt),
    reference: text(event.reference),
    lines: (lines.length > 0 ? lines : [{}]).map((l) => {
      const line = (typeof l === 'object' && l !== null ? l : {}) as Record<string, unknown>;
      return {
        sku: text(line.sku),
        qty: text(line.qty),
        unitPrice: text(line.unitPrice),
        currency: text(line.currency),
      };
    }),
  };
}

/** The event as the ingest API takes it: a whole-number quantity becomes a number, empty optional fields go. */
function eventOf(id: unknown, draft: Draft, meta: unknown): Record<string, unknown> {
  return {
    id,
    type: draft.type,
    location: draft.location.trim(),
    occurredAt: draft.occurredAt.trim(),
    ...(draft.reference.trim() !== '' ? { reference: draft.reference.trim() } : {}),
    lines: draft.lines.map((l) => ({
      sku: l.sku.trim(),
      qty: /^[+-]?\d+$/.test(l.qty.trim()) ? Number(l.qty.trim()) : l.qty.trim() === '' ? undefined : l.qty,
      ...(l.unitPrice.trim() !== '' ? { unitPrice: l.unitPrice.trim() } : {}),
      ...(l.currency.trim() !== '' ? { currency: l.currency.trim() } : {}),
    })),
    ...(meta !== undefined ? { meta } : {}),
  };
}

/** Whether the form shows the error of an event's path under a field (the event's `id` it does not show). */
function isEventField(path: string): boolean {
  return /^(type|location|occurredAt|reference|lines|lines\.\d+\.(sku|qty|unitPrice|currency))$/.test(path);
}

/**
 * A row of an export file that was not captured: the row as the file had it (the problem column marked), and
 * the event it belongs to as a form, checked here with the ingest API's own schema (each problem under its
 * field) and captured by `imports.fixRow` as the file's source would have sent it. Exceptions raised before the
 * agent kept the row can only be fixed in the file, dropped in again.
 */
export function BadImportRowFix({
  exception,
  onDone,
  canFix,
}: FixProps & Readonly<{ /** Whether the kind's actions include fixing the row. */ canFix: boolean }>) {
  const may = useMayCall();
  const { details } = exception;
  const row =
    typeof details.row === 'object' && details.row !== null ? (details.row as Record<string, unknown>) : null;
  const field = text(details.field);
  const event = rawEventOf(details);
  return (
    <section aria-labelledby={`row-${exception.id}`} className="actions fix" data-testid="fix-import-row">
      <h3 id={`row-${exception.id}`}>
        Line {text(details.line)} of {text(details.file) || 'the file'}
      </h3>
      {row !== null && (
        <table className="data compact file-row" data-testid="file-row">
          <caption className="visually-hidden">The row as the file had it</caption>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Value in the file</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(row).map(([column, value]) => (
              <tr key={column} className={column === field ? 'problem' : undefined}>
                <th scope="row" className="mono">
                  {column}
                </th>
                <td className="mono">
                  {asInFile(value) === '' ? <span className="muted">(empty)</span> : asInFile(value)}
                  {column === field && <span className="field-error"> {text(details.error)}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!canFix ? null : event === null ? (
        <p className="muted small" data-testid="redrop-note">
          {'row' in details
            ? 'The row cannot be read back as an event here'
            : 'This row was reported before Backroom kept the rows of a file, so it cannot be fixed here'}
          : fix line {text(details.line)} in the file and drop the file into the drop folder again (rows
          already captured are not taken twice), then close this with a reason.
        </p>
      ) : may('imports.fixRow') ? (
        <RowForm exceptionId={exception.id} event={event} onDone={onDone} />
      ) : (
        <RoleNote route="imports.fixRow">fix the row and capture it</RoleNote>
      )}
    </section>
  );
}

function RowForm({
  exceptionId,
  event,
  onDone,
}: Readonly<{ exceptionId: number; event: Record<string, unknown>; onDone: (message: string) => void }>) {
  const id = useId();
  const initial = useMemo(() => draftOf(event), [event]);
  const [draft, setDraft] = useState<Draft>(initial);
  const action = useAction(isEventField);
  const { errors, setErrors } = action;
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const setLine = (i: number, patch: Partial<LineDraft>) =>
    setDraft((d) => ({ ...d, lines: d.lines.map((l, j) => (j === i ? { ...l, ...patch } : l)) }));

  const submit = () => {
    const fixed = eventOf(event.id, draft, event.meta);
    const checked = eventSchema.safeParse(fixed);
    if (!checked.success) {
      const found: Record<string, string> = {};
      for (const e of toFieldErrors(checked.error)) if (!(e.path in found)) found[e.path] = e.message;
      action.reject(found);
      return;
    }
    void action.run(async () => {
      try {
        const result = await call('imports.fixRow', { id: exceptionId, event: fixed });
        const message = `${result.status === 'duplicate' ? 'Already captured' : 'Captured'} as event #${result.seq}; ${result.resolved} exception(s) about the row resolved.`;
        onDone(message);
        return message;
      } catch (error) {
        // The agent names fields under `event.`; the form's fields are the event's own.
        if (!(error instanceof ApiCallError)) throw error;
        const errors = error.errors.map((e) => ({ ...e, path: e.path.replace(/^event\./, '') }));
        throw new ApiCallError(error.reason, error.message, error.status, errors);
      }
    });
  };

  const err = (path: string) => errors[path];
  return (
    <form
      className="mapping-form event-form"
      aria-label="Fix the row"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <p className="muted small">
        The event this row belongs to, as read from the file. Correct it and capture it: it is checked like
        anything a till sends.
      </p>
      <div className="fields">
        <Field id={`${id}-type`} label="Type" error={err('type')}>
          <select
            {...fieldProps(`${id}-type`, err('type'))}
            value={draft.type}
            onChange={(e) => set({ type: e.target.value })}
          >
            {!(EVENT_TYPES as readonly string[]).includes(draft.type) && (
              <option value={draft.type}>{draft.type === '' ? 'Choose…' : draft.type}</option>
            )}
            <Options values={EVENT_TYPES} labelOf={(t) => EVENT_LABELS[t as keyof typeof EVENT_LABELS]} />
          </select>
        </Field>
        <TextField
          id={`${id}-location`}
          label="Location"
          error={err('location')}
          value={draft.location}
          onChange={(v) => set({ location: v })}
          autoComplete="off"
        />
        <TextField
          id={`${id}-occurredAt`}
          label="Occurred at"
          error={err('occurredAt')}
          value={draft.occurredAt}
          onChange={(v) => set({ occurredAt: v })}
          placeholder="2026-11-24T10:15:00+01:00"
          autoComplete="off"
        />
        <TextField
          id={`${id}-reference`}
          label="Reference (optional)"
          error={err('reference')}
          value={draft.reference}
          onChange={(v) => set({ reference: v })}
          autoComplete="off"
        />
      </div>
      {draft.lines.map((line, i) => (
        <fieldset key={i} className="fields event-line" data-testid={`event-line-${i}`}>
          <legend>Line {i + 1}</legend>
          <TextField
            id={`${id}-l${i}-sku`}
            label="SKU"
            error={err(`lines.${i}.sku`)}
            value={line.sku}
            onChange={(v) => setLine(i, { sku: v })}
            autoComplete="off"
          />
          <TextField
            id={`${id}-l${i}-qty`}
            label="Qty"
            error={err(`lines.${i}.qty`)}
            value={line.qty}
            onChange={(v) => setLine(i, { qty: v })}
            inputMode="numeric"
            autoComplete="off"
          />
          <TextField
            id={`${id}-l${i}-price`}
            label="Unit price"
            error={err(`lines.${i}.unitPrice`)}
            value={line.unitPrice}
            onChange={(v) => setLine(i, { unitPrice: v })}
            inputMode="decimal"
            autoComplete="off"
          />
          <TextField
            id={`${id}-l${i}-currency`}
            label="Currency"
            error={err(`lines.${i}.currency`)}
            value={line.currency}
            onChange={(v) => setLine(i, { currency: v })}
            autoComplete="off"
          />
        </fieldset>
      ))}
      {err('lines') !== undefined && <p className="field-error">{err('lines')}</p>}
      <div className="buttons">
        <SubmitButton isBusy={action.isBusy}>Capture fixed row</SubmitButton>
        <button type="button" className="secondary" onClick={() => (setDraft(initial), setErrors({}))}>
          Back to the file's values
        </button>
      </div>
      <OutcomeMessage outcome={action.outcome?.ok === true ? null : action.outcome} />
    </form>
  );
}
