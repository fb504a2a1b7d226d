import type { AgentDatabase } from '../db/agent-database.js';

/** A location as the agent knows it: from the config file (`added` null) or added in the workbench. */
export type KnownLocation = Readonly<{
  id: string;
  name: string;
  added: Readonly<{ by: string; at: number; reason: string }> | null;
}>;

/**
 * The known locations, live: the config file's, merged at start with those added in the workbench (the
 * `locations` table), and any added while the agent runs (`add`), seen at once by every reader of `has`, such as
 * the CaptureWriter's `unknown_location` check.
 *
 * Routing is not changed by an added location: a destination that lists its `locations` in the config keeps
 * exactly those (add the new one there to send it); one that lists none already takes every location.
 */
export class LocationRegistry {
  readonly #db: AgentDatabase;
  readonly #byId = new Map<string, KnownLocation>();

  constructor(db: AgentDatabase, configured: readonly Readonly<{ id: string; name: string }>[]) {
    this.#db = db;
    for (const l of configured) this.#byId.set(l.id, { id: l.id, name: l.name, added: null });
    for (const r of db.all(db.query.selectFrom('locations').selectAll().orderBy('added_at'))) {
      if (this.#byId.has(r.id)) continue; // Since put in the config file: the file's entry wins.
      this.#byId.set(r.id, {
        id: r.id,
        name: r.name ?? r.id,
        added: { by: r.added_by, at: r.added_at, reason: r.reason },
      });
    }
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Every known location: the config file's first, then the added ones in the order they were added. */
  list(): KnownLocation[] {
    return [...this.#byId.values()];
  }

  /**
   * Adds a location (stored, so it is known after a restart too). Returns false, changing nothing, when one of
   * that id is already known.
   */
  add(
    l: Readonly<{ id: string; name: string | null; by: string; reason: string }>,
    now = Date.now(),
  ): boolean {
    if (this.#byId.has(l.id)) return false;
    this.#db.run(
      this.#db.query
        .insertInto('locations')
        .values({ id: l.id, name: l.name, added_by: l.by, added_at: now, reason: l.reason }),
    );
    this.#byId.set(l.id, { id: l.id, name: l.name ?? l.id, added: { by: l.by, at: now, reason: l.reason } });
    return true;
  }
}
