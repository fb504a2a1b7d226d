import type { AgentDatabase } from '../db/agent-database.js';
import type { ConnectorState } from './port/connector-context.js';

/** The `connector_state` table: a small JSON key-value store per destination. */
export class ConnectorStateRepo {
  readonly #db: AgentDatabase;

  constructor(db: AgentDatabase) {
    this.#db = db;
  }

  forDestination(destinationId: string): ConnectorState {
    const get = this.#db.sqlite.prepare<[string, string], { value: string }>(
      'SELECT value FROM connector_state WHERE destination_id = ? AND key = ?',
    );
    const put = this.#db.sqlite.prepare<[string, string, string, number]>(
      `INSERT INTO connector_state (destination_id, key, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (destination_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
    const del = this.#db.sqlite.prepare<[string, string]>(
      'DELETE FROM connector_state WHERE destination_id = ? AND key = ?',
    );
    return {
      get: <T>(key: string): T | undefined => {
        const row = get.get(destinationId, key);
        return row === undefined ? undefined : (JSON.parse(row.value) as T);
      },
      set: (key, value) => {
        put.run(destinationId, key, JSON.stringify(value), Date.now());
      },
      delete: (key) => {
        del.run(destinationId, key);
      },
    };
  }
}
