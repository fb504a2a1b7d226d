import type { EntryResult, ExpectedTransferView, ItemLookupView } from '../../shared/rpc-views.js';
import {
  WORKBENCH_SOURCE,
  type AdjustInput,
  type ReceiveInput,
  type TransferInInput,
  type TransferOutInput,
} from '../../shared/stock-entry.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { Catalog } from '../ledger/catalog.js';
import type { CountSessions } from '../ledger/count-sessions.js';
import type { StockRepo } from '../ledger/stock-repo.js';
import { KeyedQueue } from '../platform/keyed-queue.js';
import type { CaptureService } from './capture-service.js';
import { CountEntry } from './count-entry.js';
import { WorkbenchEntry, metaOf, refuse, type Actor, type Draft } from './workbench-entry.js';

export type TransferDifference = { sku: string; sent: number; received: number };

export type StockEntryDeps = Readonly<{
  db: AgentDatabase;
  capture: CaptureService;
  catalog: Catalog;
  stock: StockRepo;
  counts: CountSessions;
  audit: AuditLog;
  /** The configured locations; a transfer must go to one of them. */
  locations: Readonly<{ has: (id: string) => boolean }>;
}>;

/**
 * Stock entry at the workbench: receiving, adjusting and transferring, each one event captured through
 * `capture()` under `WORKBENCH_SOURCE` like any till's event (see `WorkbenchEntry`), under the entry's own id,
 * with the operator and role in `meta`, and audited; captured whole or not at all. Count sessions are `counts`.
 */
export class StockEntry {
  readonly #d: StockEntryDeps;
  readonly #entry: WorkbenchEntry;
  /**
   * A transfer's checks (its name is new, it was not received yet) and its capture run one at a time per
   * (destination, name): two entries sent at once cannot both pass the check and both be captured.
   */
  readonly #transfers = new KeyedQueue();
  /** Count sessions: start, record, post, cancel. */
  readonly counts: CountEntry;

  constructor(deps: StockEntryDeps) {
    this.#d = deps;
    this.#entry = new WorkbenchEntry(deps);
    this.counts = new CountEntry({
      entry: this.#entry,
      counts: deps.counts,
      stock: deps.stock,
      audit: deps.audit,
    });
  }

  /** A SKU or barcode as scanned: the item, and its level at `location` when one is asked. */
  lookup(code: string, location?: string): ItemLookupView {
    const item = this.#d.catalog.find(code);
    const sku = item?.sku ?? code;
    return {
      found: item !== undefined,
      sku,
      name: item?.name ?? null,
      barcode: item?.barcode ?? null,
      onHand: location === undefined ? null : this.#d.stock.onHand(sku, location),
    };
  }

  /** Goods received at a location: a `receipt`, with the delivery note or order number as its reference. */
  async receive(input: ReceiveInput, actor: Actor): Promise<EntryResult> {
    const draft: Draft = {
      id: input.id,
      type: 'receipt',
      location: input.location,
      ...(input.reference ? { reference: input.reference } : {}),
      lines: this.#entry.lines(input.lines),
      meta: metaOf(actor),
    };
    return this.#entry.enter('entry.receive', draft, actor, null);
  }

  /** A correction by hand: an `adjustment` of signed lines with its reason code and note in `meta`. */
  async adjust(input: AdjustInput, actor: Actor): Promise<EntryResult> {
    const draft: Draft = {
      id: input.id,
      type: 'adjustment',
      location: input.location,
      lines: this.#entry.lines(input.lines),
      meta: { ...metaOf(actor), reason: input.reason, ...(input.note ? { note: input.note } : {}) },
    };
    return this.#entry.enter(
      'entry.adjust',
      draft,
      actor,
      input.note ? `${input.reason}: ${input.note}` : input.reason,
    );
  }

  /**
   * Goods sent to another location: a `transfer_out` at `from` named by its reference (the entry's id when none
   * is given), with the destination in `meta.to`; it is expected there until received.
   */
  async transferOut(input: TransferOutInput, actor: Actor): Promise<EntryResult> {
    if (!this.#d.locations.has(input.to)) throw refuse('to', `names no configured location ("${input.to}")`);
    const name = input.reference || input.id;
    return this.#transfers.run(`${input.to}\n${name}`, () => this.#sendTransfer(input, name, actor));
  }

  async #sendTransfer(input: TransferOutInput, name: string, actor: Actor): Promise<EntryResult> {
    // A transfer is received by its name: a second one under the same name would never be expected (or be
    // received as the first), so the name must be new at that destination. A resend of this entry is not a second.
    const taken = this.#d.db
      .prepare(
        `SELECT seq, source, event_id FROM events
         WHERE type = 'transfer_out' AND json_extract(body, '$.meta.to') = ?
           AND COALESCE(json_extract(body, '$.reference'), event_id) = ? LIMIT 1`,
      )
      .get(input.to, name) as { seq: number; source: string; event_id: string } | undefined;
    if (taken !== undefined && (taken.source !== WORKBENCH_SOURCE || taken.event_id !== input.id))
      throw refuse(
        input.reference ? 'reference' : 'id',
        `already names a transfer to ${input.to} (event ${taken.seq}); give this one another reference`,
      );
    const draft: Draft = {
      id: input.id,
      type: 'transfer_out',
      location: input.from,
      reference: name,
      lines: this.#entry.lines(input.lines),
      meta: { ...metaOf(actor), to: input.to },
    };
    return this.#entry.enter('entry.transfer_out', draft, actor, null);
  }

  /** The transfers sent to `location` (by any source) that have not been received there, oldest first. */
  expectedTransfers(location: string): ExpectedTransferView[] {
    const rows = this.#d.db
      .prepare(
        `SELECT o.seq, o.source, o.event_id, o.location, o.received_at, o.body FROM events o
         WHERE o.type = 'transfer_out' AND json_extract(o.body, '$.meta.to') = @to
           AND NOT EXISTS (
             SELECT 1 FROM events i
             WHERE i.type = 'transfer_in' AND i.location = @to
               AND json_extract(i.body, '$.reference') = COALESCE(json_extract(o.body, '$.reference'), o.event_id))
         ORDER BY o.seq LIMIT 1000`,
      )
      .all({ to: location }) as TransferOutRow[];
    return groupTransfers(rows).map((t) => ({
      transfer: t.transfer,
      from: t.from,
      to: location,
      seq: t.seq,
      sentAt: t.sentAt,
      sentBy: t.sentBy,
      lines: [...t.lines].map(([sku, qty]) => ({ sku, name: this.#d.catalog.find(sku)?.name ?? null, qty })),
    }));
  }

  /**
   * An expected transfer received at `location`: a `transfer_in` named by the transfer's reference, with the
   * lines that arrived (a SKU that did not arrive is no line), what was sent in `meta.sent`, and every line
   * whose received quantity differs from the sent one answered in `differences`. An unknown transfer is a
   * 404; one already received here (by another entry) and one where nothing arrived are refused.
   */
  async transferIn(
    input: TransferInInput,
    actor: Actor,
  ): Promise<EntryResult & { differences: TransferDifference[] }> {
    return this.#transfers.run(`${input.location}\n${input.transfer}`, () =>
      this.#receiveTransfer(input, actor),
    );
  }

  async #receiveTransfer(
    input: TransferInInput,
    actor: Actor,
  ): Promise<EntryResult & { differences: TransferDifference[] }> {
    const transfer = this.#transfer(input.transfer, input.location);
    if (transfer === undefined)
      throw refuse('transfer', `no transfer "${input.transfer}" was sent to ${input.location}`, 'not_found');
    const received = this.#d.db
      .prepare(
        `SELECT seq, source, event_id FROM events
         WHERE type = 'transfer_in' AND location = ? AND json_extract(body, '$.reference') = ? LIMIT 1`,
      )
      .get(input.location, input.transfer) as { seq: number; source: string; event_id: string } | undefined;
    if (received !== undefined && (received.source !== WORKBENCH_SOURCE || received.event_id !== input.id))
      throw refuse('transfer', `was already received at ${input.location} (event ${received.seq})`);

    const lines = this.#entry.lines(input.lines);
    const lineIndex: number[] = [];
    lines.forEach((line, i) => {
      if (line.qty > 0) lineIndex.push(i);
    });
    if (lineIndex.length === 0)
      throw refuse(
        'lines',
        'Nothing arrived: enter at least one received quantity. A transfer stays expected until something of it is received.',
      );
    const receivedBySku = new Map<string, number>();
    for (const line of lines) receivedBySku.set(line.sku, (receivedBySku.get(line.sku) ?? 0) + line.qty);
    const differences: TransferDifference[] = [];
    for (const sku of new Set([...transfer.lines.keys(), ...receivedBySku.keys()])) {
      const sent = transfer.lines.get(sku) ?? 0;
      const got = receivedBySku.get(sku) ?? 0;
      if (sent !== got) differences.push({ sku, sent, received: got });
    }
    const draft: Draft = {
      id: input.id,
      type: 'transfer_in',
      location: input.location,
      reference: input.transfer,
      lines: lineIndex.map((i) => lines[i]!),
      meta: {
        ...metaOf(actor),
        from: transfer.from,
        sent: [...transfer.lines].map(([sku, qty]) => ({ sku, qty })),
      },
    };
    const result = await this.#entry.enter(
      'entry.transfer_in',
      draft,
      actor,
      null,
      (i) => lineIndex[i] ?? i,
      {
        differences,
      },
    );
    return { ...result, differences };
  }

  /** The transfer named `reference` sent to `location`: its lines summed by SKU, or undefined when none was. */
  #transfer(reference: string, location: string) {
    const rows = this.#d.db
      .prepare(
        `SELECT seq, source, event_id, location, received_at, body FROM events
         WHERE type = 'transfer_out' AND json_extract(body, '$.meta.to') = ?
           AND COALESCE(json_extract(body, '$.reference'), event_id) = ?
         ORDER BY seq`,
      )
      .all(location, reference) as TransferOutRow[];
    return groupTransfers(rows)[0];
  }
}

type TransferOutRow = {
  seq: number;
  source: string;
  event_id: string;
  location: string;
  received_at: number;
  body: string;
};

type Transfer = {
  transfer: string;
  from: string;
  seq: number;
  sentAt: number;
  sentBy: string | null;
  lines: Map<string, number>;
};

/** Transfer-out events grouped by the transfer they name (its reference, or the event id without one). */
function groupTransfers(rows: readonly TransferOutRow[]): Transfer[] {
  const byName = new Map<string, Transfer>();
  for (const row of rows) {
    const body = JSON.parse(row.body) as {
      reference?: string;
      lines: { sku: string; qty: number }[];
      meta?: Record<string, unknown>;
    };
    const name = body.reference ?? row.event_id;
    const operator = body.meta?.['operator'];
    const transfer = byName.get(name) ?? {
      transfer: name,
      from: row.location,
      seq: row.seq,
      sentAt: row.received_at,
      sentBy: typeof operator === 'string' ? operator : row.source,
      lines: new Map<string, number>(),
    };
    for (const line of body.lines)
      transfer.lines.set(line.sku, (transfer.lines.get(line.sku) ?? 0) + line.qty);
    byName.set(name, transfer);
  }
  return [...byName.values()];
}
