import type { Migration } from './migration.js';
import { up as initial } from './0001-initial.js';
import { up as delivery } from './0002-delivery.js';
import { up as payloadVersion } from './0003-payload-version.js';
import { up as connectors } from './0004-connectors.js';
import { up as sourceTokens } from './0005-source-tokens.js';
import { up as channelBuffers } from './0006-channel-buffers.js';
import { up as operatorRoles } from './0007-operator-roles.js';
import { up as countSessions } from './0008-count-sessions.js';
import { up as storeFixes } from './0009-store-fixes.js';
import { up as deliveryPacing } from './0010-delivery-pacing.js';
import { up as itemMaster } from './0011-item-master.js';
import { up as orderShipments } from './0012-order-shipments.js';
import { up as dayStatements } from './0013-day-statements.js';
import { up as priceMarks } from './0014-price-marks.js';

/**
 * Every migration in order. A test checks this list against the files in this folder, so a migration that is
 * written but not listed (or listed twice) fails CI.
 */
export const migrations: readonly Migration[] = [
  { version: 1, name: '0001-initial', up: initial },
  { version: 2, name: '0002-delivery', up: delivery },
  { version: 3, name: '0003-payload-version', up: payloadVersion },
  { version: 4, name: '0004-connectors', up: connectors },
  { version: 5, name: '0005-source-tokens', up: sourceTokens },
  { version: 6, name: '0006-channel-buffers', up: channelBuffers },
  { version: 7, name: '0007-operator-roles', up: operatorRoles },
  { version: 8, name: '0008-count-sessions', up: countSessions },
  { version: 9, name: '0009-store-fixes', up: storeFixes },
  { version: 10, name: '0010-delivery-pacing', up: deliveryPacing },
  { version: 11, name: '0011-item-master', up: itemMaster },
  { version: 12, name: '0012-order-shipments', up: orderShipments },
  { version: 13, name: '0013-day-statements', up: dayStatements },
  { version: 14, name: '0014-price-marks', up: priceMarks },
];

export type { Migration, MigrationDb } from './migration.js';
