import { join } from 'node:path';
import type { ConnectorContext } from '../../src-main/connectors/port/connector-context.js';
import { ConnectorStateRepo } from '../../src-main/connectors/connector-state-repo.js';
import { IdMappingRepo } from '../../src-main/mappings/id-mapping-repo.js';
import { createLogger } from '../../src-main/platform/logger.js';
import { AgentDatabase } from '../../src-main/db/agent-database.js';
import { ExceptionsRepo } from '../../src-main/exceptions/exceptions-repo.js';
import { tempDir } from './harness.js';

export type TestConnectorContext = {
  context: ConnectorContext;
  db: AgentDatabase;
  mappings: IdMappingRepo;
  exceptions: ExceptionsRepo;
  /** Closes the database and removes its folder. */
  cleanup: () => void;
};

/**
 * A real connector context for one destination, backed by a fresh SQLite database in a temp folder (the same
 * repositories the agent uses), for testing a connector on its own against a fake or a real server.
 */
export function connectorContext(destinationId: string, agentId = 'store-test'): TestConnectorContext {
  const dir = tempDir('backroom-connector-');
  const db = AgentDatabase.open(join(dir.path, 'backroom.db'));
  const exceptions = new ExceptionsRepo(db);
  const mappings = new IdMappingRepo(db, exceptions, [destinationId]);
  const state = new ConnectorStateRepo(db);
  return {
    context: {
      agentId,
      mappings: mappings.forDestination(destinationId),
      state: state.forDestination(destinationId),
      logger: createLogger({ level: 'silent' }),
    },
    db,
    mappings,
    exceptions,
    cleanup: () => {
      db.close();
      dir.cleanup();
    },
  };
}
