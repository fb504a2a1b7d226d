import { useId, useMemo, useState, type ReactNode } from 'react';
import { EXCEPTION_KIND_FACTS } from '../../../shared/exception-kinds.js';
import type { ExceptionDetail, ImportFileReport } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { useAction } from '../hooks/use-action.js';
import { useMayCall } from '../hooks/use-may-call.js';
import { useRpc } from '../hooks/use-rpc.js';
import { hrefOf } from '../route.js';
import { ActionForm } from './action-form.js';
import { BadImportRowFix } from './bad-import-row-fix.js';
import { ReconcileDriftFix, ResumeDestinationFix } from './destination-fixes.js';
import { ErrorMessage } from './error-message.js';
import { Field, fieldProps, TextField } from './field.js';
import { LocationForm } from './location-form.js';
import { MappingForm } from './mapping-form.js';
import { Options } from './options.js';
import { OutcomeMessage } from './outcome-message.js';
import { RoleNote } from './role-note.js';
import { SubmitButton } from './submit-button.js';

type Exception = ExceptionDetail['exception'];

/** What every fix of the detail panel gets: the exception, and where to say what it did. */
export type FixProps = Readonly<{
  exception: Exception;
  /** Called with what a fix did, in words: the panel keeps it (in a live region) once the exception resolves. */
  onDone: (message: string) => void;
}>;

/**
 * The ways out of an open exception that fit its kind: add the item, correct the SKU, add the location, fix the
 * import row, import the fixed file, map the order's item, count or receive. Each form shows only to a role that
 * may call its route; a role that may not is told who can.
 */
export function KindFixes({ exception, onDone }: FixProps) {
  if (exception.status !== 'open') return null;
  const has = hasActionOf(exception.kind);
  switch (exception.kind) {
    case 'negative_stock':
      return <NegativeStockFix exception={exception} has={has} />;
    case 'unknown_sku':
      return <UnknownSkuFix exception={exception} onDone={onDone} has={has} />;
    case 'unknown_location':
      return <UnknownLocationFix exception={exception} onDone={onDone} has={has} />;
    case 'bad_import_row':
      return <BadImportRowFix exception={exception} onDone={onDone} canFix={has('fix_row')} />;
    case 'bad_import_file':
      return has('reimport') ? <BadImportFileFix exception={exception} onDone={onDone} /> : null;
    case 'order_unmapped_item':
      return has('map') ? <OrderItemFix exception={exception} onDone={onDone} /> : null;
    case 'destination_auth_failed':
    case 'destination_misconfigured':
      return has('resume') ? <ResumeDestinationFix exception={exception} onDone={onDone} /> : null;
    case 'reconcile_drift':
      return has('reconcile') ? <ReconcileDriftFix exception={exception} /> : null;
    default:
      return null;
  }
}

/**
 * Whether an action fits a kind, from the one table of each kind's actions (`EXCEPTION_KIND_FACTS` in
 * `shared/exception-kinds.ts`); an unknown kind (from a newer agent) has none.
 */
function hasActionOf(kind: string): (action: string) => boolean {
  const facts = (EXCEPTION_KIND_FACTS as Record<string, { actions: readonly string[] } | undefined>)[kind];
  const actions = new Set<string>(facts?.actions ?? []);
  return (action) => actions.has(action);
}

type Has = (action: string) => boolean;

/** The `isShown` of {@link useAction} for a form whose inputs show the errors of these paths. */
function shownIn(paths: readonly string[]): (path: string) => boolean {
  return (path) => paths.includes(path);
}

/**
 * What every open exception offers that fits it: acknowledge it (seen, being handled; a clerk may) and close it
 * with a reason (a manager; for an import row or file this is discarding it). An exception about a delivery is
 * closed by discarding the delivery instead (its "Fix it" actions).
 */
export function EveryKindActions({ exception, onDone }: FixProps) {
  if (exception.status !== 'open') return null;
  const kind = exception.kind;
  const has = hasActionOf(kind);
  return (
    <>
      {has('acknowledge') && <Acknowledge exception={exception} onDone={onDone} />}
      {has('close') && (
        <CloseWithReason
          exception={exception}
          onDone={onDone}
          label={
            kind === 'bad_import_row' ? 'Discard row' : kind === 'bad_import_file' ? 'Discard file' : 'Close'
          }
        />
      )}
    </>
  );
}

/** A titled area of fixes in the detail panel. */
function FixSection({
  title,
  testId,
  children,
}: Readonly<{ title: string; testId: string; children: ReactNode }>) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="actions fix" data-testid={testId}>
      <h3 id={id}>{title}</h3>
      {children}
    </section>
  );
}

/** Negative stock: count the item, or post the receipt that is missing; the level back at 0 or above resolves it. */
function NegativeStockFix({ exception, has }: Readonly<{ exception: Exception; has: Has }>) {
  const location = exception.location ?? '';
  const sku = exception.sku ?? '';
  return (
    <FixSection title="Fix the level" testId="fix-negative-stock">
      <p className="muted small">
        The shelf has fewer than Backroom thinks, or a delivery was never posted. This resolves by itself once
        the level of {sku} at {location} is back at 0 or above.
      </p>
      <p className="buttons">
        {has('count') && (
          <a className="button" href={hrefOf('entry', { tab: 'count', location, sku })}>
            Count now
          </a>
        )}
        {has('receive') && (
          <a className="button secondary" href={hrefOf('entry', { tab: 'receive', location })}>
            Post a receipt
          </a>
        )}
      </p>
    </FixSection>
  );
}

/** Unknown SKU: add it to the catalog, or say which SKU it should have been. */
function UnknownSkuFix({ exception, onDone, has }: FixProps & Readonly<{ has: Has }>) {
  const may = useMayCall();
  const sku = exception.sku ?? '';
  return (
    <>
      {has('add_item') && (
        <FixSection title="Add to catalog" testId="fix-add-item">
          {may('items.add') ? (
            <AddItemForm sku={sku} onDone={onDone} />
          ) : (
            <RoleNote route="items.add">add the item to the catalog</RoleNote>
          )}
        </FixSection>
      )}
      {has('correct') && (
        <FixSection title="Correct the SKU" testId="fix-correct-sku">
          <p className="muted small">
            When the till used the wrong SKU: Backroom captures a correcting pair of movements (back on {sku},
            off the right SKU). The original sale stays as it was recorded.
          </p>
          {may('exceptions.correct') ? (
            <CorrectForm exception={exception} what="SKU" onDone={onDone} />
          ) : (
            <RoleNote route="exceptions.correct">correct the SKU</RoleNote>
          )}
        </FixSection>
      )}
    </>
  );
}

function AddItemForm({ sku, onDone }: Readonly<{ sku: string; onDone: (message: string) => void }>) {
  const id = useId();
  const [name, setName] = useState('');
  const [barcode, setBarcode] = useState('');
  const action = useAction(shownIn(['sku', 'name', 'barcode']));
  const { errors } = action;
  const add = () =>
    void action.run(async () => {
      const added = await call('items.add', {
        sku,
        name,
        ...(barcode.trim() !== '' ? { barcode } : {}),
      });
      const message = `Added ${added.sku} to the catalog; ${added.resolved} exception(s) about it resolved.`;
      onDone(message);
      return message;
    });
  return (
    <ActionForm
      label="Add to catalog"
      onSubmit={add}
      submitLabel="Add item"
      isBusy={action.isBusy}
      outcome={action.outcome}
      isSuccessShown={false}
    >
      <TextField id={`${id}-sku`} label="SKU" error={errors.sku} value={sku} readOnly />
      <TextField
        id={`${id}-name`}
        label="Item name"
        error={errors.name}
        value={name}
        onChange={setName}
        autoComplete="off"
      />
      <TextField
        id={`${id}-barcode`}
        label="Barcode (optional)"
        error={errors.barcode}
        value={barcode}
        onChange={setBarcode}
        autoComplete="off"
        inputMode="numeric"
      />
    </ActionForm>
  );
}

/**
 * `exceptions.correct`: the right SKU (or location) and why. Locations are chosen from the configured ones when
 * `choices` is given.
 */
function CorrectForm({
  exception,
  what,
  choices,
  onDone,
}: Readonly<{
  exception: Exception;
  what: 'SKU' | 'location';
  choices?: readonly string[];
  onDone: (message: string) => void;
}>) {
  const id = useId();
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const action = useAction(shownIn(['to', 'reason']));
  const { errors } = action;
  const title = what === 'SKU' ? 'Correct the SKU' : 'Move to a known location';
  const correct = () =>
    void action.run(async () => {
      const result = await call('exceptions.correct', { id: exception.id, to, reason });
      onDone(result.detail);
      return result.detail;
    });
  const toLabel = what === 'SKU' ? 'Right SKU' : 'Known location';
  return (
    <ActionForm
      label={title}
      onSubmit={correct}
      submitLabel={what === 'SKU' ? 'Correct' : 'Move'}
      isBusy={action.isBusy}
      outcome={action.outcome}
      isSuccessShown={false}
    >
      {choices === undefined ? (
        <TextField
          id={`${id}-to`}
          label={toLabel}
          error={errors.to}
          value={to}
          onChange={setTo}
          autoComplete="off"
        />
      ) : (
        <Field id={`${id}-to`} label={toLabel} error={errors.to}>
          <select {...fieldProps(`${id}-to`, errors.to)} value={to} onChange={(e) => setTo(e.target.value)}>
            <option value="">Choose…</option>
            <Options values={choices} />
          </select>
        </Field>
      )}
      <TextField
        id={`${id}-reason`}
        label="Reason (required)"
        error={errors.reason}
        value={reason}
        onChange={setReason}
      />
    </ActionForm>
  );
}

/** Unknown location: add it (an admin), or move what was recorded there to a known location. */
function UnknownLocationFix({ exception, onDone, has }: FixProps & Readonly<{ has: Has }>) {
  const may = useMayCall();
  const location = exception.location ?? '';
  const mayCorrect = has('correct') && may('exceptions.correct');
  // The known locations are in the settings, which a role that may correct may also read.
  const settings = useRpc('settings.get', mayCorrect && may('settings.get') ? {} : null);
  const known = useMemo(
    () => settings.data?.locations.map((l) => l.id).filter((l) => l !== location),
    [settings.data, location],
  );
  return (
    <>
      {has('add_location') && (
        <FixSection title="Add location" testId="fix-add-location">
          {may('settings.addLocation') ? (
            <>
              <p className="muted small">
                When {location} is a real place (a new store or stock room): it is added to the agent's
                locations.
              </p>
              <LocationForm
                label="Add location"
                fixedId={location}
                isSuccessShown={false}
                onSaved={(added) =>
                  onDone(`Added location ${added.id}; ${added.resolved} exception(s) about it resolved.`)
                }
              />
            </>
          ) : (
            <RoleNote route="settings.addLocation">add the location</RoleNote>
          )}
        </FixSection>
      )}
      {has('correct') && (
        <FixSection title="Move to a known location" testId="fix-move-location">
          <p className="muted small">
            When the till was set up with the wrong location: Backroom captures a correcting pair of movements
            (back at {location}, off the right location). The original event stays as it was recorded.
          </p>
          {mayCorrect ? (
            <CorrectForm
              exception={exception}
              what="location"
              onDone={onDone}
              {...(known ? { choices: known } : {})}
            />
          ) : (
            <RoleNote route="exceptions.correct">move it to a known location</RoleNote>
          )}
        </FixSection>
      )}
    </>
  );
}

/** A file that could not be read: import the fixed one (its report shows here), or discard it. */
function BadImportFileFix({ exception, onDone }: FixProps) {
  const may = useMayCall();
  const id = useId();
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<ImportFileReport | null>(null);
  const action = useAction(shownIn(['content']));
  const fileName = typeof exception.details.file === 'string' ? exception.details.file : 'the file';
  const reimport = () =>
    void action.run(async () => {
      const content = file === null ? '' : await file.text();
      const result = await call('imports.reimport', {
        id: exception.id,
        fileName: file?.name ?? fileName,
        content,
      });
      setReport(result);
      const message = reimportSummary(result);
      // Nothing captured: the exception stays open, and the report stays beside the form.
      if (result.outcome === 'failed') throw new Error(message);
      onDone(message);
      return message;
    });
  return (
    <FixSection title="Re-import fixed file" testId="fix-reimport">
      <p className="muted small">
        Fix {fileName} (in a spreadsheet or text editor) and choose it here; its rows are captured as if it
        were dropped in again. Rows captured before are not taken twice.
      </p>
      {may('imports.reimport') ? (
        <ActionForm
          label="Re-import fixed file"
          onSubmit={reimport}
          submitLabel="Re-import"
          busyLabel="Importing…"
          isBusy={action.isBusy}
          outcome={action.outcome}
          isSuccessShown={false}
        >
          <Field id={`${id}-file`} label="Fixed file" error={action.errors.content}>
            <input
              {...fieldProps(`${id}-file`, action.errors.content)}
              type="file"
              accept=".csv,.txt,.json,.jsonl,.ndjson"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
          </Field>
        </ActionForm>
      ) : (
        <RoleNote route="imports.reimport">import the fixed file</RoleNote>
      )}
      {report !== null && report.problems.length > 0 && (
        <table className="data compact" data-testid="reimport-problems">
          <caption>Rows not captured</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Column</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {report.problems.map((p) => (
              <tr key={`${p.line}:${p.field}`}>
                <td className="num">{p.line}</td>
                <td>{p.field}</td>
                <td>{p.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </FixSection>
  );
}

/**
 * What a re-import did, in one sentence that stays once the exception resolves and its form goes: the events
 * accepted, those already there, and the first rows not captured (each is raised as a bad import row).
 */
function reimportSummary(report: ImportFileReport): string {
  const counts = `${report.accepted} event(s) accepted, ${report.duplicate} already there`;
  if (report.error !== null) return `${report.file} could not be imported: ${report.error}.`;
  if (report.problems.length === 0) return `Imported ${report.file}: ${counts}.`;
  const shown = report.problems
    .slice(0, 5)
    .map((p) => `line ${p.line} (${p.field}) ${p.message}`)
    .join('; ');
  const more = report.problems.length > 5 ? `; and ${report.problems.length - 5} more` : '';
  return `Imported ${report.file}: ${counts}. ${report.problems.length} row(s) not captured, each now a bad import row: ${shown}${more}.`;
}

/** An order's item mapped to no SKU: map it; the order is then read again and reserves it. */
function OrderItemFix({ exception, onDone }: FixProps) {
  const may = useMayCall();
  const { data: configured } = useRpc('destinations.list', {});
  const remoteItem = typeof exception.details.remoteItem === 'string' ? exception.details.remoteItem : '';
  const destinations = useMemo(() => {
    const ids = configured?.destinations.map((d) => d.id) ?? [];
    const own = exception.destinationId;
    return own !== null && !ids.includes(own) ? [own, ...ids] : ids;
  }, [configured, exception.destinationId]);
  return (
    <FixSection title="Map this item" testId="fix-map-order-item">
      <p className="muted small">
        Enter the local SKU that {exception.destinationId ?? 'the marketplace'}'s item{' '}
        <span className="mono">{remoteItem}</span> is. The order is then read again and reserves it.
      </p>
      {may('mappings.set') ? (
        <MappingForm
          key={exception.id}
          destinations={destinations}
          initial={{
            ...(exception.destinationId !== null ? { destination: exception.destinationId } : {}),
            kind: 'item',
            remote: remoteItem,
          }}
          label="Map this item"
          isSuccessShown={false}
          onSaved={(m) =>
            onDone(
              `Mapped ${m.remoteId} to ${m.localId} for ${m.destinationId}. The order is read again and reserves it; this exception then resolves.`,
            )
          }
        />
      ) : (
        <RoleNote route="mappings.set">map the item</RoleNote>
      )}
    </FixSection>
  );
}

/** Acknowledge: seen and being handled (it stays open); who did it shows in the panel's facts, for everyone. */
function Acknowledge({ exception, onDone }: FixProps) {
  const may = useMayCall();
  const id = useId();
  const [note, setNote] = useState('');
  const action = useAction(shownIn([]));
  return (
    <FixSection title="Acknowledge" testId="fix-acknowledge">
      {may('exceptions.acknowledge') ? (
        <form
          className="inline-form"
          aria-label="Acknowledge"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              await call('exceptions.acknowledge', {
                ids: [exception.id],
                ...(note.trim() !== '' ? { note } : {}),
              });
              setNote('');
              const message = 'Acknowledged: it stays open and shows who is on it.';
              onDone(message);
              return message;
            });
          }}
        >
          <span>
            <label htmlFor={`${id}-note`}>Note (optional)</label>
            <input id={`${id}-note`} value={note} onChange={(e) => setNote(e.target.value)} />
          </span>
          <SubmitButton isBusy={action.isBusy} className="secondary">
            Acknowledge
          </SubmitButton>
          <OutcomeMessage outcome={action.outcome?.ok === true ? null : action.outcome} isInline />
        </form>
      ) : (
        <RoleNote route="exceptions.acknowledge">acknowledge it</RoleNote>
      )}
    </FixSection>
  );
}

/** Close (or discard a row or file) with a reason: nothing else will be done about it. */
function CloseWithReason({ exception, onDone, label }: FixProps & Readonly<{ label: string }>) {
  const may = useMayCall();
  const id = useId();
  const [reason, setReason] = useState('');
  const action = useAction(shownIn(['reason']));
  const title = `${label} with a reason`;
  if (!may('exceptions.close'))
    return <RoleNote route="exceptions.close">{`${label.toLowerCase()} it with a reason`}</RoleNote>;
  return (
    <FixSection title={title} testId="fix-close">
      <form
        className="inline-form"
        aria-label={title}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const result = await call('exceptions.close', { ids: [exception.id], reason });
            if (result.changed.length === 0)
              throw new Error(`Nothing changed: it ${result.skipped[0]?.why ?? 'was skipped'}.`);
            setReason('');
            const message = `${label === 'Close' ? 'Closed' : 'Discarded'} with the reason “${reason.trim()}”. It is in the activity log.`;
            onDone(message);
            return message;
          });
        }}
      >
        <span>
          <label htmlFor={`${id}-reason`}>Reason (required)</label>
          <input
            {...fieldProps(`${id}-reason`, action.errors.reason)}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </span>
        <SubmitButton isBusy={action.isBusy} className="danger">
          {label}
        </SubmitButton>
        {action.errors.reason !== undefined ? (
          <ErrorMessage message={action.errors.reason} id={`${id}-reason-error`} isInline />
        ) : (
          <OutcomeMessage outcome={action.outcome?.ok === true ? null : action.outcome} isInline />
        )}
      </form>
    </FixSection>
  );
}
