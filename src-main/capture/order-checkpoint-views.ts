import type { AgentDatabase } from '../db/agent-database.js';
import type { OrderCheckpointsTable } from '../db/schema.js';

/** Where a destination's order pulls stand (the settings page), or undefined before its first pull. */
export function orderCheckpointOf(
  db: AgentDatabase,
  destinationId: string,
): OrderCheckpointsTable | undefined {
  return db.prepare('SELECT * FROM order_checkpoints WHERE destination_id = ?').get(destinationId) as
    OrderCheckpointsTable | undefined;
}
