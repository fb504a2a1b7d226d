import { MAX_LINES, MAX_QTY } from '../../shared/events.js';
import type { CountSessionView, EntryResult } from '../../shared/rpc-views.js';
import type { CountStartInput } from '../../shared/stock-entry.js';
import type { AuditLog } from '../exceptions/audit-log.js';
import type { CountSessions, CountStatus } from '../ledger/count-sessions.js';
import type { StockRepo } from '../ledger/stock-repo.js';
import { readCsv } from '../platform/csv.js';
import { metaOf, refuse, type Actor, type Draft, type WorkbenchEntry } from './workbench-entry.js';

/**
 * Count sessions at the workbench: opened on a list of items, counted scan by scan (each count keeping the
 * ledger point it was taken at), then posted as one `count` event or cancelled, every step audited.
 */
export class CountEntry {
  readonly #entry: WorkbenchEntry;
  readonly #counts: CountSessions;
  readonly #stock: StockRepo;
  readonly #audit: AuditLog;

  constructor(
    deps: Readonly<{ entry: WorkbenchEntry; counts: CountSessions; stock: StockRepo; audit: AuditLog }>,
  ) {
    this.#entry = deps.entry;
    this.#counts = deps.counts;
    this.#stock = deps.stock;
    this.#audit = deps.audit;
  }

  /**
   * Opens a count session at a location of the listed SKUs, every item below zero there (`negativeOnly`) and a
   * shelf list (`shelfCsv`), each once; barcodes become their SKUs. A session of no items is refused.
   */
  start(input: CountStartInput, actor: Actor): CountSessionView {
    const skus = input.skus.map((code) => this.#entry.skuOf(code));
    if (input.negativeOnly) skus.push(...this.#stock.skusBelowZero(input.location));
    if (input.shelfCsv !== undefined)
      skus.push(...parseShelfList(input.shelfCsv).map((code) => this.#entry.skuOf(code)));
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
    const id = this.#counts.create({
      location: input.location,
      label: input.label || null,
      skus: unique,
      createdBy: actor.operator,
    });
    this.#audit.record({
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
    return this.#counts.view(id)!;
  }

  list(status?: CountStatus): Omit<CountSessionView, 'lines'>[] {
    return this.#counts.list(status);
  }

  get(id: number): CountSessionView {
    const view = this.#counts.view(id);
    if (view === undefined) throw refuse('id', `no count session ${id}`, 'not_found');
    return view;
  }

  /**
   * Records a counted quantity of an open session (an item not on its list is added), with the ledger point it
   * was counted at. Each scan is kept on its line (who, when); the audit log gets the session's post or cancel.
   */
  record(
    input: Readonly<{ session: number; sku: string; mode: 'set' | 'add'; qty: number }>,
    actor: Actor,
  ): CountSessionView {
    const session = this.#openSession(input.session);
    const sku = this.#entry.skuOf(input.sku);
    const listed = this.#counts.lines(session.id).find((l) => l.sku === sku);
    if (listed === undefined && this.#counts.lineCount(session.id) >= MAX_LINES)
      throw refuse('sku', `a count holds at most ${MAX_LINES} items`);
    if (input.mode === 'add' && (listed?.counted ?? 0) + input.qty > MAX_QTY)
      throw refuse('qty', `the counted quantity would be over ${MAX_QTY}`);
    this.#counts.record({
      sessionId: session.id,
      location: session.location,
      sku,
      mode: input.mode,
      qty: input.qty,
      by: actor.operator,
    });
    return this.#counts.view(session.id)!;
  }

  /**
   * Posts a session: one `count` event at its location of the counted lines (uncounted ones are left out), with
   * the ledger point of each in `meta.countedAt`, so the capture writer moves each item by counted − level at
   * that point and keeps what sold since. Posting again answers the posted session; a cancelled one is refused.
   */
  async post(sessionId: number, actor: Actor): Promise<CountSessionView & { result: EntryResult }> {
    const session = this.#counts.session(sessionId);
    if (session === undefined) throw refuse('session', `no count session ${sessionId}`, 'not_found');
    if (session.status === 'cancelled') throw refuse('session', `count session ${sessionId} was cancelled`);
    const eventId = `count-session-${sessionId}`;
    const counted = this.#counts.lines(sessionId).filter((l) => l.counted !== null);
    const unknownSkus = this.#entry.unknown(counted.map((l) => l.sku));
    const existing = this.#entry.existing(eventId);
    if (existing !== undefined && existing.type !== 'count')
      throw refuse('session', `the event id ${eventId} is taken by a ${existing.type} (seq ${existing.seq})`);
    if (session.status === 'posted' || existing !== undefined) {
      // Posted before (or captured before the session was marked, by a post that stopped halfway): the same count.
      const seq = session.posted_seq ?? existing!.seq;
      if (session.status === 'open') this.#counts.markPosted(sessionId, seq, actor.operator);
      return { ...this.get(sessionId), result: { status: 'duplicate', eventId, seq, unknownSkus } };
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
    const result = await this.#entry.enter(
      'counts.post',
      draft,
      actor,
      null,
      undefined,
      undefined,
      `count:${sessionId}`,
    );
    this.#counts.markPosted(sessionId, result.seq, actor.operator);
    return { ...this.get(sessionId), result };
  }

  /** Cancels an open session with a reason (audited); cancelling again answers it as it is. */
  cancel(sessionId: number, reason: string, actor: Actor): CountSessionView {
    const session = this.#counts.session(sessionId);
    if (session === undefined) throw refuse('session', `no count session ${sessionId}`, 'not_found');
    if (session.status === 'posted') throw refuse('session', `count session ${sessionId} was already posted`);
    if (session.status === 'open') {
      this.#counts.cancel(sessionId, actor.operator, reason);
      this.#audit.record({
        operator: actor.operator,
        action: 'counts.cancel',
        subject: `count:${sessionId}`,
        reason,
        before: { status: 'open' },
        after: { status: 'cancelled' },
      });
    }
    return this.get(sessionId);
  }

  #openSession(id: number) {
    const session = this.#counts.session(id);
    if (session === undefined) throw refuse('session', `no count session ${id}`, 'not_found');
    if (session.status !== 'open') throw refuse('session', `count session ${id} is ${session.status}`);
    return session;
  }
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
