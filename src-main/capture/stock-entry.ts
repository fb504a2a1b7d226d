import { InputRefusal } from '../platform/errors.js';
import type { IngestResult } from '../../shared/api.js';
import { MAX_LINES, MAX_QTY } from '../../shared/events.js';
import type { OperatorRole } from '../../shared/operator-roles.js';
import type {
  CountSessionView,
  EntryResult,
  ExpectedTransferView,
  ItemLookupView,
} from '../../shared/rpc-views.js';
import {
  WORKBENCH_SOURCE,
  type AdjustInput,
  type CountStartInput,
  type ReceiveInput,
  type TransferInInput,
  type TransferOutInput,
} from '../../shared/stock-entry.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { Catalog } from '../ledger/catalog.js';
import type { CountSessions, CountStatus } from '../ledger/count-sessions.js';
import type { StockRepo } from '../ledger/stock-repo.js';
import { readCsv } from '../platform/csv.js';
import type { CaptureService } from './capture-service.js';

/** Who enters: the operator's name and the role they act in (null for a name that is no configured operator). */
export type Actor = Readonly<{ operator: string; role: OperatorRole | null }>;

function refuse(
  path: string,
  message: string,
  reason: 'bad_shape' | 'not_found' = 'bad_shape',
): InputRefusal {
  return new InputRefusal(reason, [{ path, message }]);
}

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

/** An event as the workbench builds it, before `occurredAt` is set. */
type Draft = {
  id: string;
  type: 'receipt' | 'adjustment' | 'transfer_out' | 'transfer_in' | 'count';
  location: string;
  reference?: string;
  lines: { sku: string; qty: number }[];
  meta: Record<string, unknown>;
};

/**
 * Stock entry at the workbench: receiving, adjusting, transferring and counting, each captured through
 * `capture()` under `WORKBENCH_SOURCE` like any till's event, under the entry's own id (a resend is a
 * `duplicate`, never a second movement) with the operator and role in `meta`, and written to the audit log.
 * One entry is one event: it is captured whole or not at all.
 */
export class StockEntry {
  readonly #d: StockEntryDeps;

  constructor(deps: StockEntryDeps) {
    this.#d = deps;
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
      lines: this.#lines(input.lines),
      meta: metaOf(actor),
    };
    return this.#enter('entry.receive', draft, actor, null);
  }

  /** A correction by hand: an `adjustment` of signed lines with its reason code and note in `meta`. */
  async adjust(input: AdjustInput, actor: Actor): Promise<EntryResult> {
    const draft: Draft = {
      id: input.id,
      type: 'adjustment',
      location: input.location,
      lines: this.#lines(input.lines),
      meta: { ...metaOf(actor), reason: input.reason, ...(input.note ? { note: input.note } : {}) },
    };
    return this.#enter(
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
      lines: this.#lines(input.lines),
      meta: { ...metaOf(actor), to: input.to },
    };
    return this.#enter('entry.transfer_out', draft, actor, null);
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

    const lines = this.#lines(input.lines);
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
    const result = await this.#enter('entry.transfer_in', draft, actor, null, (i) => lineIndex[i] ?? i, {
      differences,
    });
    return { ...result, differences };
  }

  /**
   * Opens a count session at a location of the listed SKUs, every item below zero there (`negativeOnly`) and a
   * shelf list (`shelfCsv`), each once; barcodes become their SKUs. A session of no items is refused.
   */
  startCount(input: CountStartInput, actor: Actor): CountSessionView {
    const skus = input.skus.map((code) => this.#skuOf(code));
    if (input.negativeOnly) skus.push(...this.#d.stock.skusBelowZero(input.location));
    if (input.shelfCsv !== undefined)
      skus.push(...parseShelfList(input.shelfCsv).map((code) => this.#skuOf(code)));
    const unique = [...new Set(skus)];
    if (unique.length === 0)
      throw refuse(
        input.negativeOnly ? 'negativeOnly' : 'skus',
        input.negativeOnly
          ? `nothing to count: no item is below zero at ${input.location}, and no SKU or shelf list was given`
          : 'Add at least one item to count, or count the items below zero',
      );
    if (unique.length > MAX_LINES)
      throw refuse('skus', `at most ${MAX_LINES} items in one count (${unique.length} given)`);
    const id = this.#d.counts.create({
      location: input.location,
      label: input.label || null,
      skus: unique,
      createdBy: actor.operator,
    });
    this.#d.audit.record({
      operator: actor.operator,
      action: 'counts.start',
      subject: `count:${id}`,
      reason: null,
      before: null,
      after: {
        location: input.location,
        label: input.label ?? null,
        items: unique.length,
        negativeOnly: input.negativeOnly,
      },
    });
    return this.#d.counts.view(id)!;
  }

  listCounts(status?: CountStatus): Omit<CountSessionView, 'lines'>[] {
    return this.#d.counts.list(status);
  }

  getCount(id: number): CountSessionView {
    const view = this.#d.counts.view(id);
    if (view === undefined) throw refuse('id', `no count session ${id}`, 'not_found');
    return view;
  }

  /**
   * Records a counted quantity of an open session (an item not on its list is added), with the ledger point it
   * was counted at. Each scan is kept on its line (who, when); the audit log gets the session's post or cancel.
   */
  recordCount(
    input: Readonly<{ session: number; sku: string; mode: 'set' | 'add'; qty: number }>,
    actor: Actor,
  ): CountSessionView {
    const session = this.#openSession(input.session);
    const sku = this.#skuOf(input.sku);
    const listed = this.#d.counts.lines(session.id).find((l) => l.sku === sku);
    if (listed === undefined && this.#d.counts.lineCount(session.id) >= MAX_LINES)
      throw refuse('sku', `a count holds at most ${MAX_LINES} items`);
    if (input.mode === 'add' && (listed?.counted ?? 0) + input.qty > MAX_QTY)
      throw refuse('qty', `the counted quantity would be over ${MAX_QTY}`);
    this.#d.counts.record({
      sessionId: session.id,
      location: session.location,
      sku,
      mode: input.mode,
      qty: input.qty,
      by: actor.operator,
    });
    return this.#d.counts.view(session.id)!;
  }

  /**
   * Posts a session: one `count` event at its location of the counted lines (uncounted ones are left out), with
   * the ledger point of each in `meta.countedAt`, so the capture writer moves each item by counted − level at
   * that point and keeps what sold since. Posting again answers the posted session; a cancelled one is refused.
   */
  async postCount(sessionId: number, actor: Actor): Promise<CountSessionView & { result: EntryResult }> {
    const session = this.#d.counts.session(sessionId);
    if (session === undefined) throw refuse('session', `no count session ${sessionId}`, 'not_found');
    if (session.status === 'cancelled') throw refuse('session', `count session ${sessionId} was cancelled`);
    const eventId = `count-session-${sessionId}`;
    const counted = this.#d.counts.lines(sessionId).filter((l) => l.counted !== null);
    const unknownSkus = this.#unknown(counted.map((l) => l.sku));
    const existing = this.#existing(eventId);
    if (existing !== undefined && existing.type !== 'count')
      throw refuse('session', `the event id ${eventId} is taken by a ${existing.type} (seq ${existing.seq})`);
    if (session.status === 'posted' || existing !== undefined) {
      // Posted before (or captured before the session was marked, by a post that stopped halfway): the same count.
      const seq = session.posted_seq ?? existing!.seq;
      if (session.status === 'open') this.#d.counts.markPosted(sessionId, seq, actor.operator);
      return { ...this.getCount(sessionId), result: { status: 'duplicate', eventId, seq, unknownSkus } };
    }
    if (counted.length === 0) throw refuse('session', 'nothing was counted yet: record at least one item');
    const draft: Draft = {
      id: eventId,
      type: 'count',
      location: session.location,
      ...(session.label ? { reference: session.label.slice(0, 255) } : {}),
      lines: counted.map((l) => ({ sku: l.sku, qty: l.counted! })),
      meta: {
        ...metaOf(actor),
        countSession: sessionId,
        countedAt: Object.fromEntries(counted.map((l) => [l.sku, l.counted_at_seq])),
      },
    };
    const result = await this.#enter(
      'counts.post',
      draft,
      actor,
      null,
      undefined,
      undefined,
      `count:${sessionId}`,
    );
    this.#d.counts.markPosted(sessionId, result.seq, actor.operator);
    return { ...this.getCount(sessionId), result };
  }

  /** Cancels an open session with a reason (audited); cancelling again answers it as it is. */
  cancelCount(sessionId: number, reason: string, actor: Actor): CountSessionView {
    const session = this.#d.counts.session(sessionId);
    if (session === undefined) throw refuse('session', `no count session ${sessionId}`, 'not_found');
    if (session.status === 'posted') throw refuse('session', `count session ${sessionId} was already posted`);
    if (session.status === 'open') {
      this.#d.counts.cancel(sessionId, actor.operator, reason);
      this.#d.audit.record({
        operator: actor.operator,
        action: 'counts.cancel',
        subject: `count:${sessionId}`,
        reason,
        before: { status: 'open' },
        after: { status: 'cancelled' },
      });
    }
    return this.getCount(sessionId);
  }

  #openSession(id: number) {
    const session = this.#d.counts.session(id);
    if (session === undefined) throw refuse('session', `no count session ${id}`, 'not_found');
    if (session.status !== 'open') throw refuse('session', `count session ${id} is ${session.status}`);
    return session;
  }

  /** A scanned code as its SKU: a barcode the catalog knows becomes its item's SKU; anything else stays. */
  #skuOf(code: string): string {
    if (this.#d.catalog.isEnabled && this.#d.catalog.has(code)) return code;
    return this.#d.catalog.find(code)?.sku ?? code;
  }

  #lines(lines: readonly { sku: string; qty: number }[]): { sku: string; qty: number }[] {
    return lines.map((l) => ({ sku: this.#skuOf(l.sku), qty: l.qty }));
  }

  #unknown(skus: readonly string[]): string[] {
    return [...new Set(skus)].filter((sku) => !this.#d.catalog.has(sku));
  }

  /** The event captured under this entry id from the workbench, if any. */
  #existing(id: string): { seq: number; type: string; occurredAt: string } | undefined {
    const row = this.#d.db
      .prepare('SELECT seq, type, occurred_at FROM events WHERE source = ? AND event_id = ?')
      .get(WORKBENCH_SOURCE, id) as { seq: number; type: string; occurred_at: string } | undefined;
    return row === undefined ? undefined : { seq: row.seq, type: row.type, occurredAt: row.occurred_at };
  }

  /**
   * Captures one entry and audits it when it was new. A resend keeps the first send's `occurredAt`, so the same
   * entry is the same content (`duplicate`) and another content under its id is a conflict (400 naming `id`).
   * `lineOf` maps a captured line's index back to the input's, so errors name the line staff entered.
   */
  async #enter(
    action: string,
    draft: Draft,
    actor: Actor,
    reason: string | null,
    lineOf: (i: number) => number = (i) => i,
    extra: Record<string, unknown> = {},
    subject = `entry:${draft.id}`,
  ): Promise<EntryResult> {
    let result: IngestResult | undefined;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const existing = this.#existing(draft.id);
      const occurredAt = existing?.occurredAt ?? new Date().toISOString();
      [result] = await this.#d.capture.capture(WORKBENCH_SOURCE, [{ ...draft, occurredAt }]);
      // A conflict with no event seen before: the same entry sent at the same moment was captured first; judge
      // this one against it.
      const isRace =
        existing === undefined && result?.status === 'rejected' && result.errors.some((e) => e.path === 'id');
      if (!isRace) break;
    }
    if (result === undefined) throw new Error('capture answered no result');
    if (result.status === 'rejected') {
      throw new InputRefusal(
        'bad_shape',
        result.errors.map((e) => ({
          path: e.path.replace(/^lines\.(\d+)/, (_m, i: string) => `lines.${lineOf(Number(i))}`),
          message: e.message,
        })),
      );
    }
    const unknownSkus = this.#unknown(draft.lines.map((l) => l.sku));
    if (result.status === 'accepted') {
      this.#d.audit.record({
        operator: actor.operator,
        action,
        subject,
        reason,
        before: null,
        after: {
          eventId: draft.id,
          seq: result.seq,
          type: draft.type,
          location: draft.location,
          reference: draft.reference ?? null,
          lines: draft.lines,
          ...extra,
        },
      });
    }
    return { status: result.status, eventId: draft.id, seq: result.seq, unknownSkus };
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

function metaOf(actor: Actor): Record<string, unknown> {
  return { operator: actor.operator, role: actor.role };
}

/**
 * The codes of a shelf list: a CSV with a `sku` column, or one SKU or barcode per line. Throws naming the line
 * of the first row it cannot read.
 */
export function parseShelfList(text: string): string[] {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const header = firstLine.split(/[;,]/).map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
  if (header.includes('sku')) {
    let rows;
    try {
      rows = readCsv(text);
    } catch (error) {
      throw refuse('shelfCsv', `cannot read the shelf list: ${(error as Error).message}`);
    }
    return rows.map(({ record, line }) => {
      const sku = record['sku'] ?? '';
      if (sku === '' || sku.length > 255)
        throw refuse('shelfCsv', `line ${line}: the sku must be 1 to 255 characters`);
      return sku;
    });
  }
  const codes: string[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const code = raw.trim();
      if (code === '') return;
      if (/[,;\t]/.test(code) || code.length > 255)
        throw refuse(
          'shelfCsv',
          `line ${i + 1}: expected one SKU or barcode per line, or a header row with a "sku" column`,
        );
      codes.push(code);
    });
  return codes;
}
