import { readCsv } from '../platform/csv.js';
import type { AgentDatabase } from '../db/agent-database.js';
import type { IdMappingsTable } from '../db/schema.js';
import { EXCEPTION_CATALOG, unmappedException } from '../exceptions/exception-catalog.js';
import type { ExceptionsRepo } from '../exceptions/exceptions-repo.js';
import type { IdMappings } from '../connectors/port/connector-context.js';
import { DeliveryRepo } from '../outbox/delivery-repo.js';

export type MappingKind = IdMappingsTable['kind'];
export type Mapping = Readonly<{
  destinationId: string;
  kind: MappingKind;
  localId: string;
  remoteId: string;
  origin: string;
  updatedAt: number;
}>;

/** A mapping to write: who made it is its `origin`; the time is taken when it is written. */
export type NewMapping = Omit<Mapping, 'updatedAt'>;

/** One bad row of a mapping CSV, named by line and column. */
export type MappingRowError = Readonly<{ line: number; field: string; message: string }>;
export type MappingImportReport = Readonly<{
  imported: number;
  unchanged: number;
  errors: MappingRowError[];
}>;

/**
 * Identifier mappings of every destination, and the release of what waited for them: setting a mapping puts
 * the destination's held items back in their lanes through the outbox's `DeliveryRepo.releaseHeld` (each is
 * judged again, so one still unmapped is held again) and resolves the `unmapped_sku` / `unmapped_location`
 * exception, all in one transaction; then `onReleased` wakes the destination's dispatcher. Nobody has to touch
 * the queue.
 */
export class IdMappingRepo {
  readonly #db: AgentDatabase;
  readonly #exceptions: ExceptionsRepo;
  readonly #delivery: DeliveryRepo;
  readonly #destinations: ReadonlySet<string>;
  readonly #onReleased: (destinationId: string) => void;
  readonly #get;
  readonly #getByRemote;

  constructor(
    db: AgentDatabase,
    exceptions: ExceptionsRepo,
    destinationIds: readonly string[],
    onReleased: (destinationId: string) => void = () => {},
  ) {
    this.#db = db;
    this.#exceptions = exceptions;
    this.#delivery = new DeliveryRepo(db);
    this.#destinations = new Set(destinationIds);
    this.#onReleased = onReleased;
    this.#get = db.sqlite.prepare<[string, string, string], { remote_id: string }>(
      'SELECT remote_id FROM id_mappings WHERE destination_id = ? AND kind = ? AND local_id = ?',
    );
    this.#getByRemote = db.sqlite.prepare<[string, string, string], { local_id: string }>(
      'SELECT local_id FROM id_mappings WHERE destination_id = ? AND kind = ? AND remote_id = ? LIMIT 1',
    );
  }

  /** The mappings of one destination as its connector sees them. */
  forDestination(destinationId: string): IdMappings {
    const remote = (kind: MappingKind) => (localId: string) =>
      this.#get.get(destinationId, kind, localId)?.remote_id ?? null;
    const local = (kind: MappingKind) => (remoteId: string) =>
      this.#getByRemote.get(destinationId, kind, remoteId)?.local_id ?? null;
    return {
      item: remote('item'),
      location: remote('location'),
      skuOf: local('item'),
      locationOf: local('location'),
      saveDiscovered: (kind, localId, remoteId) =>
        this.set({ destinationId, kind, localId, remoteId, origin: 'discovered' }),
    };
  }

  /**
   * Sets one mapping (replacing the one there) and releases what waited for it. Throws naming the field when
   * the destination is unknown or an id is empty.
   */
  set(m: NewMapping): void {
    const problem = this.#check(m.destinationId, m.kind, m.localId, m.remoteId);
    if (problem) throw new Error(`${problem.field}: ${problem.message}`);
    this.#db.transaction(() => this.#put(m, Date.now()));
    this.#onReleased(m.destinationId);
  }

  /** Removes a mapping; items sent later with it are held again. Returns whether one was there. */
  remove(destinationId: string, kind: MappingKind, localId: string): boolean {
    return (
      this.#db.sqlite
        .prepare('DELETE FROM id_mappings WHERE destination_id = ? AND kind = ? AND local_id = ?')
        .run(destinationId, kind, localId).changes > 0
    );
  }

  list(
    filter: Readonly<{ destinationId?: string; kind?: MappingKind; localId?: string; limit?: number }> = {},
  ): Mapping[] {
    let q = this.#db.query.selectFrom('id_mappings').selectAll();
    if (filter.destinationId !== undefined) q = q.where('destination_id', '=', filter.destinationId);
    if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
    if (filter.localId !== undefined) q = q.where('local_id', '=', filter.localId);
    return this.#db
      .all(
        q
          .orderBy('destination_id')
          .orderBy('kind')
          .orderBy('local_id')
          .limit(filter.limit ?? 1000),
      )
      .map((r) => ({
        destinationId: r.destination_id,
        kind: r.kind,
        localId: r.local_id,
        remoteId: r.remote_id,
        origin: r.origin,
        updatedAt: r.updated_at,
      }));
  }

  /**
   * Imports a CSV with a header row: `destination`, `kind` (`item` or `location`; default `item`), `local`
   * (or `sku`), `remote`. Good rows are written in one transaction; each bad row is reported by line and column
   * and nothing of it is written. Mappings already there are replaced.
   *
   * @example
   * destination,kind,local,remote
   * shopify-main,item,SKU-1,gid://shopify/InventoryItem/123
   * shopify-main,location,S1,gid://shopify/Location/9
   */
  importCsv(text: string, origin = 'csv'): MappingImportReport {
    let rows;
    try {
      rows = readCsv(text);
    } catch (error) {
      return {
        imported: 0,
        unchanged: 0,
        errors: [{ line: 1, field: 'file', message: (error as Error).message }],
      };
    }
    const errors: MappingRowError[] = [];
    const good: { destinationId: string; kind: MappingKind; localId: string; remoteId: string }[] = [];
    for (const { record, line } of rows) {
      const destinationId = record.destination ?? '';
      const kindText = record.kind === undefined || record.kind === '' ? 'item' : record.kind;
      const localId = record.local ?? record.sku ?? '';
      const remoteId = record.remote ?? '';
      if (kindText !== 'item' && kindText !== 'location') {
        errors.push({ line, field: 'kind', message: `must be "item" or "location", not "${kindText}"` });
        continue;
      }
      const problem = this.#check(destinationId, kindText, localId, remoteId);
      if (problem) {
        errors.push({ line, ...problem });
        continue;
      }
      good.push({ destinationId, kind: kindText, localId, remoteId });
    }
    let imported = 0;
    let unchanged = 0;
    const now = Date.now();
    this.#db.transaction(() => {
      for (const m of good) {
        if (this.#get.get(m.destinationId, m.kind, m.localId)?.remote_id === m.remoteId) unchanged += 1;
        else {
          this.#put({ ...m, origin }, now);
          imported += 1;
        }
      }
    });
    for (const id of new Set(good.map((m) => m.destinationId))) this.#onReleased(id);
    return { imported, unchanged, errors };
  }

  #check(
    destinationId: string,
    kind: MappingKind,
    localId: string,
    remoteId: string,
  ): { field: string; message: string } | null {
    if (!this.#destinations.has(destinationId))
      return {
        field: 'destination',
        message:
          destinationId === ''
            ? 'must name a destination'
            : `names no configured destination ("${destinationId}")`,
      };
    if (localId.trim() === '')
      return { field: 'local', message: `must name the local ${kind === 'item' ? 'SKU' : 'location'}` };
    if (remoteId.trim() === '') return { field: 'remote', message: 'must name the remote id' };
    if (localId.length > 255 || remoteId.length > 255)
      return { field: localId.length > 255 ? 'local' : 'remote', message: 'must be at most 255 characters' };
    return null;
  }

  /** Writes one mapping and releases what waited for it; runs inside the caller's transaction. */
  #put(m: NewMapping, now: number): void {
    this.#db.sqlite
      .prepare(
        `INSERT INTO id_mappings (destination_id, kind, local_id, remote_id, origin, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (destination_id, kind, local_id) DO UPDATE SET remote_id = excluded.remote_id,
           origin = excluded.origin, updated_at = excluded.updated_at`,
      )
      .run(m.destinationId, m.kind, m.localId, m.remoteId, m.origin, now);
    this.#delivery.releaseHeld(m.destinationId, m, now);
    const { kind, dedupeKey } = unmappedException(m.destinationId, m.kind, m.localId);
    this.#exceptions.resolveByKey(dedupeKey, EXCEPTION_CATALOG[kind].resolvedAs(m), now);
  }
}
