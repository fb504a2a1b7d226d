import { useId, useRef, useState, type FormEvent } from 'react';
import type { MappingImportResult } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { messageOf } from '../api/message-of.js';
import { ErrorMessage } from './error-message.js';
import { SubmitButton } from './submit-button.js';
import { TableHead } from './table-head.js';

/**
 * Imports a mapping CSV (`destination,kind,local,remote`, header row first). Good rows are stored; each bad row
 * is listed by line and column and nothing of it is stored.
 */
export function MappingImport({ onImported }: { onImported?: (result: MappingImportResult) => void }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [result, setResult] = useState<MappingImportResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    const file = input.current?.files?.[0];
    if (file === undefined) {
      setError('Choose a CSV file first.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    try {
      const imported = await call('mappings.import', { csv: await file.text() });
      setResult(imported);
      onImported?.(imported);
    } catch (err) {
      setError(messageOf(err));
    }
    setBusy(false);
  };

  return (
    <form className="mapping-import" aria-label="Import mappings from CSV" onSubmit={(e) => void submit(e)}>
      <p className="muted small">
        A CSV with a header row <code>destination,kind,local,remote</code> (kind is <code>item</code> or{' '}
        <code>location</code>, default item). Mappings already there are replaced; what waited for them is
        sent.
      </p>
      <div className="search">
        <label htmlFor={`${id}-file`}>Mapping CSV file</label>
        <input
          id={`${id}-file`}
          ref={input}
          type="file"
          accept=".csv,text/csv,text/plain"
          aria-describedby={error !== null ? `${id}-error` : undefined}
        />
        <SubmitButton isBusy={isBusy} busyLabel="Importing…">
          Import
        </SubmitButton>
      </div>
      <ErrorMessage message={error} id={`${id}-error`} />
      {result !== null && (
        <div role="status" data-testid="import-result">
          <p className={result.errors.length === 0 ? 'ok' : ''}>
            Imported {result.imported.toLocaleString()}, unchanged {result.unchanged.toLocaleString()}
            {result.errors.length > 0 && `, ${result.errors.length.toLocaleString()} row(s) not imported`}.
          </p>
          {result.errors.length > 0 && (
            <table className="data compact" data-testid="import-errors">
              <caption>Rows not imported</caption>
              <TableHead columns={[{ label: 'Line', isNumeric: true }, 'Column', 'Problem']} />
              <tbody>
                {result.errors.slice(0, 500).map((e, i) => (
                  <tr key={i}>
                    <td className="num">{e.line}</td>
                    <td className="mono">{e.field}</td>
                    <td>{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </form>
  );
}
