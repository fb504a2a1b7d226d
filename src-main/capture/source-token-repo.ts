import { createHash, randomBytes } from 'node:crypto';
import type { SourceTokenView } from '../../shared/rpc-views.js';
import type { AgentDatabase } from '../db/agent-database.js';

/** A token as staff see it: never the token itself. */
export type SourceToken = Readonly<SourceTokenView>;

type Row = {
  id: number;
  source_id: string;
  label: string;
  hint: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
  revoked_by: string | null;
};

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function toToken(r: Row): SourceToken {
  return {
    id: r.id,
    sourceId: r.source_id,
    label: r.label,
    hint: r.hint,
    createdAt: r.created_at,
    createdBy: r.created_by,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
  };
}

/**
 * POS source tokens created in the UI (the config file's `sources` keep working beside them). A token is shown
 * once, when it is created: only its sha256 is stored, so a copy of the database does not hold usable tokens.
 * A revoked token is refused from the next request on; its row stays, marked, for the record.
 */
export class SourceTokenRepo {
  readonly #db: AgentDatabase;
  readonly #bySourceHash;

  constructor(db: AgentDatabase) {
    this.#db = db;
    this.#bySourceHash = db.sqlite.prepare<[string], { source_id: string }>(
      'SELECT source_id FROM source_tokens WHERE token_hash = ? AND revoked_at IS NULL',
    );
  }

  /**
   * Creates a token for `sourceId` (a new POS, or a second token for one already configured, to rotate it).
   * Returns the token, which is not kept and cannot be shown again.
   */
  create(
    input: Readonly<{ sourceId: string; label: string; operator: string }>,
    now = Date.now(),
  ): {
    token: string;
    entry: SourceToken;
  } {
    const token = `brt_${randomBytes(32).toString('base64url')}`;
    const id = Number(
      this.#db.sqlite
        .prepare(
          `INSERT INTO source_tokens (source_id, label, token_hash, hint, created_at, created_by)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(input.sourceId, input.label, hashOf(token), token.slice(-4), now, input.operator)
        .lastInsertRowid,
    );
    return { token, entry: this.get(id)! };
  }

  /** Revokes a token; returns it as it is now, or null when there is no such token. Revoking twice is a no-op. */
  revoke(id: number, operator: string, now = Date.now()): SourceToken | null {
    this.#db.sqlite
      .prepare('UPDATE source_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL')
      .run(now, operator, id);
    return this.get(id);
  }

  get(id: number): SourceToken | null {
    const row = this.#db.sqlite.prepare('SELECT * FROM source_tokens WHERE id = ?').get(id) as
      Row | undefined;
    return row === undefined ? null : toToken(row);
  }

  /** Every token, newest first, revoked ones included. */
  list(): SourceToken[] {
    return (this.#db.sqlite.prepare('SELECT * FROM source_tokens ORDER BY id DESC').all() as Row[]).map(
      toToken,
    );
  }

  /** The source a bearer token belongs to, or null when it is unknown or revoked. */
  sourceOf(token: string): string | null {
    return this.#bySourceHash.get(hashOf(token))?.source_id ?? null;
  }
}
