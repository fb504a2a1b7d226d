import { useId, useState, type FormEvent } from 'react';
import type { RpcOutput } from '../../../shared/rpc.js';
import type { ExpectedTransferView } from '../../../shared/rpc-views.js';
import { call } from '../api/client.js';
import { formatTime } from '../format.js';
import { useEntryLines } from '../hooks/use-entry-lines.js';
import { useRpc } from '../hooks/use-rpc.js';
import { ErrorMessage } from './error-message.js';
import { EntryForm } from './entry-form.js';
import { keepEnterFromPosting, linesInput } from './entry-lines.js';
import { EntryOutcome, EntryProblems } from './entry-outcome.js';
import { fieldProps, FieldError, TextField } from './field.js';
import { LineEntry } from './line-entry.js';
import { LocationField, rememberLocation } from './location-field.js';
import { SubmitButton } from './submit-button.js';
import { TableHead } from './table-head.js';

/**
 * Transfers between locations: send goods to another location, and receive what was sent here (the transfers
 * expected at the chosen location, each received with the lines sent as the default; a difference is kept and
 * shown). Scans go to the transfer being received when one is open, else to the one being sent.
 */
export function TransferTab({ initialLocation }: Readonly<{ initialLocation: string }>) {
  const [receiving, setReceiving] = useState<string | null>(null);
  const [sentCount, setSentCount] = useState(0);
  return (
    <div className="transfer-tab">
      <TransferOutForm
        initialFrom={initialLocation}
        isScanTarget={receiving === null}
        onSent={() => setSentCount((n) => n + 1)}
      />
      <ExpectedTransfers
        initialLocation={initialLocation}
        receiving={receiving}
        onReceiving={setReceiving}
        reloadKey={sentCount}
      />
    </div>
  );
}

const OUT_LABELS = { from: 'From', to: 'To', reference: 'Reference', lines: 'Lines' };

function TransferOutForm({
  initialFrom,
  isScanTarget,
  onSent,
}: Readonly<{ initialFrom: string; isScanTarget: boolean; onSent: () => void }>) {
  const id = useId();
  const [from, setFrom] = useState(initialFrom);
  const [to, setTo] = useState('');
  const [reference, setReference] = useState('');
  const { lines, setLines, entry, onAdd } = useEntryLines(OUT_LABELS);
  const { errors } = entry;

  const post = async () => {
    const posted = await entry.post((entryId) =>
      call('entry.transferOut', {
        id: entryId,
        from,
        to,
        ...(reference.trim() !== '' ? { reference } : {}),
        lines: linesInput(lines),
      }),
    );
    if (posted !== null) {
      rememberLocation(from);
      setLines([]);
      setReference('');
      onSent();
    }
  };

  return (
    <EntryForm
      title="Send to another location"
      id={id}
      entry={entry}
      lines={lines}
      onLinesChange={setLines}
      onPost={post}
      caption="Lines sent"
      submitLabel="Post transfer"
      what="Transfer sent"
      fields={
        <>
          <LocationField
            id={`${id}-from`}
            label="From"
            value={from}
            onChange={entry.changing('from', setFrom)}
            error={errors.from}
          />
          <LocationField
            id={`${id}-to`}
            label="To"
            value={to}
            onChange={entry.changing('to', setTo)}
            error={errors.to}
          />
          <TextField
            id={`${id}-reference`}
            label="Reference (optional)"
            error={errors.reference}
            value={reference}
            onChange={entry.changing('reference', setReference)}
            autoComplete="off"
          />
        </>
      }
    >
      <LineEntry
        key={entry.entryId}
        location={from}
        onAdd={onAdd}
        isScanTarget={isScanTarget}
        label="Add a line to send"
      />
    </EntryForm>
  );
}

function ExpectedTransfers({
  initialLocation,
  receiving,
  onReceiving,
  reloadKey,
}: Readonly<{
  initialLocation: string;
  /** The transfer being received, or null. */
  receiving: string | null;
  onReceiving: (transfer: string | null) => void;
  /** Changes when a transfer was sent from this screen (it may be expected at the location shown). */
  reloadKey: number;
}>) {
  const id = useId();
  const [location, setLocation] = useState(initialLocation);
  const [received, setReceived] = useState<Received | null>(null);
  const where = location.trim();
  const { data, error, reload } = useRpc(
    'entry.expectedTransfers',
    where === '' ? null : { location: where },
    [reloadKey],
  );
  const transfers = data?.transfers ?? null;

  return (
    <section aria-labelledby={`${id}-title`} className="expected">
      <h2 id={`${id}-title`}>Expected here</h2>
      <div className="fields">
        <LocationField
          id={`${id}-location`}
          label="Transfers expected at"
          value={location}
          onChange={(l) => {
            setLocation(l);
            onReceiving(null);
          }}
          error={undefined}
        />
      </div>
      <ErrorMessage message={error} />
      {received !== null && <ReceivedOutcome received={received} />}
      {where === '' && <p className="muted">Choose a location to see what is on its way there.</p>}
      {transfers !== null && transfers.length === 0 && (
        <p role="status" data-testid="no-expected">
          Nothing is expected at {where}.
        </p>
      )}
      {transfers?.map((t) => (
        <ExpectedTransfer
          key={t.transfer}
          transfer={t}
          location={where}
          isReceiving={receiving === t.transfer}
          onOpen={() => {
            setReceived(null);
            onReceiving(t.transfer);
          }}
          onClose={() => onReceiving(null)}
          onReceived={(r) => {
            setReceived(r);
            onReceiving(null);
            void reload();
          }}
        />
      ))}
    </section>
  );
}

type Received = Readonly<{
  transfer: string;
  result: RpcOutput<'entry.transferIn'>;
}>;

/** What receiving a transfer did, with the differences the agent kept (sent, received). */
function ReceivedOutcome({ received }: Readonly<{ received: Received }>) {
  const { result } = received;
  return (
    <div data-testid="received-outcome">
      <EntryOutcome result={result} what={`Transfer ${received.transfer} received`} />
      {result.differences.length === 0 ? (
        <p className="muted">Everything sent arrived.</p>
      ) : (
        <table className="data compact narrow" data-testid="received-differences">
          <caption>Differences kept (what was sent and did not arrive, or more than was sent)</caption>
          <TableHead
            columns={[
              'SKU',
              { label: 'Sent', isNumeric: true },
              { label: 'Received', isNumeric: true },
              { label: 'Difference', isNumeric: true },
            ]}
          />
          <tbody>
            {result.differences.map((d) => (
              <tr key={d.sku}>
                <th scope="row" className="mono">
                  {d.sku}
                </th>
                <td className="num">{d.sent}</td>
                <td className="num">{d.received}</td>
                <td className="num negative">{signed(d.received - d.sent)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

/** One expected transfer: what was sent, and (while receiving) what arrived, editable, with the difference. */
function ExpectedTransfer({
  transfer,
  location,
  isReceiving,
  onOpen,
  onClose,
  onReceived,
}: Readonly<{
  transfer: ExpectedTransferView;
  location: string;
  isReceiving: boolean;
  onOpen: () => void;
  onClose: () => void;
  onReceived: (received: Received) => void;
}>) {
  const id = useId();
  // A scan while receiving (`onAdd`): one more of that item arrived (a line of its own when it was not sent).
  const {
    lines: arrived,
    setLines: setArrived,
    entry,
    onAdd,
  } = useEntryLines<Received['result']>({
    lines: 'Lines',
    location: 'Location',
    transfer: 'Transfer',
  });
  const { dismiss } = entry;
  const sentOf = (sku: string) => transfer.lines.find((l) => l.sku === sku)?.qty ?? 0;

  const open = () => {
    setArrived(transfer.lines.map((l) => ({ sku: l.sku, name: l.name, qty: String(l.qty), isKnown: true })));
    entry.clear();
    onOpen();
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const posted = await entry.post((entryId) =>
      call('entry.transferIn', {
        id: entryId,
        transfer: transfer.transfer,
        location,
        lines: linesInput(arrived),
      }),
    );
    if (posted !== null) onReceived({ transfer: transfer.transfer, result: posted });
  };

  return (
    <article
      className="card expected-transfer"
      aria-label={`Transfer ${transfer.transfer}`}
      data-testid="expected-transfer"
    >
      <h3>
        Transfer {transfer.transfer} <span className="muted small">from {transfer.from}</span>
      </h3>
      <p className="muted small">
        Sent {formatTime(transfer.sentAt)}
        {transfer.sentBy !== null && ` by ${transfer.sentBy}`} · event #{transfer.seq}
      </p>
      {!isReceiving ? (
        <>
          <table className="data compact narrow">
            <TableHead columns={['SKU', 'Item', { label: 'Sent', isNumeric: true }]} />
            <tbody>
              {transfer.lines.map((l) => (
                <tr key={l.sku}>
                  <th scope="row" className="mono">
                    {l.sku}
                  </th>
                  <td>{l.name ?? <span className="muted">—</span>}</td>
                  <td className="num">{l.qty}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={open}>
            Receive
          </button>
        </>
      ) : (
        <form
          aria-label={`Receive transfer ${transfer.transfer}`}
          onSubmit={(e) => void submit(e)}
          onKeyDown={(e) => {
            keepEnterFromPosting(e);
            if (e.key === 'Escape') onClose();
          }}
          noValidate
        >
          <LineEntry location={location} onAdd={onAdd} label="Add what arrived" />
          <table className="data compact" data-testid="arrived-lines">
            <caption>What arrived: change a quantity where it differs from what was sent</caption>
            <TableHead
              columns={[
                'SKU',
                'Item',
                { label: 'Sent', isNumeric: true },
                { label: 'Received', isNumeric: true },
                { label: 'Difference', isNumeric: true },
              ]}
            />
            <tbody>
              {arrived.map((line, i) => {
                const qtyId = `${id}-line-${i}-qty`;
                const error = entry.errors[`lines.${i}.qty`];
                const qty = Number(line.qty.trim());
                const difference =
                  line.qty.trim() === '' || Number.isNaN(qty) ? null : qty - sentOf(line.sku);
                return (
                  <tr
                    key={line.sku}
                    className={difference !== null && difference !== 0 ? 'differs' : undefined}
                  >
                    <th scope="row" className="mono">
                      {line.sku}
                      <FieldError id={`${id}-line-${i}-sku`} error={entry.errors[`lines.${i}.sku`]} />
                    </th>
                    <td>{line.name ?? <span className="muted">—</span>}</td>
                    <td className="num">{sentOf(line.sku)}</td>
                    <td className="num">
                      <input
                        {...fieldProps(qtyId, error)}
                        className="qty"
                        inputMode="numeric"
                        autoComplete="off"
                        aria-label={`Received of ${line.sku}`}
                        // The Receive button that opened the form is gone: focus goes to what to check first.
                        autoFocus={i === 0}
                        value={line.qty}
                        onChange={(e) => {
                          dismiss(`lines.${i}.qty`);
                          setArrived((ls) => ls.map((l, j) => (j === i ? { ...l, qty: e.target.value } : l)));
                        }}
                      />
                      <FieldError id={qtyId} error={error} />
                    </td>
                    <td className="num" data-testid="line-difference">
                      {difference === null ? (
                        '—'
                      ) : difference === 0 ? (
                        '0'
                      ) : (
                        <strong className="negative">{signed(difference)}</strong>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <EntryProblems problems={entry.problems(arrived)} />
          <div className="entry-actions">
            <SubmitButton isBusy={entry.isBusy} busyLabel="Posting…">
              Post receipt of {transfer.transfer}
            </SubmitButton>
            <button type="button" className="secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </article>
  );
}
