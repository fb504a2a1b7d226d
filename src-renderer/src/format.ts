import type { ConnectionTestReason } from '../../shared/rpc-views.js';

/** "3 min", "2 h 5 min": an age for people. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

/** "3 min", "26 h", "4 days": an age in one unit, for narrow columns. */
export function formatAgeShort(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} days`;
}

/** "14:03:12" today, else "24 Nov 14:03". */
export function formatTime(ms: number | string | null): string {
  if (ms === null) return '—';
  const date = new Date(ms);
  const isToday = date.toDateString() === new Date().toDateString();
  return isToday
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** "4 min ago". */
export function formatAgo(ms: number | string | null, now = Date.now()): string {
  if (ms === null) return 'never';
  return `${formatAge(Math.max(0, (now - new Date(ms).getTime()) / 1000))} ago`;
}

/** Exception kinds in words. */
export const KIND_LABELS: Record<string, string> = {
  unknown_sku: 'Unknown SKU',
  unknown_location: 'Unknown location',
  negative_stock: 'Negative stock',
  bad_import_row: 'Bad import row',
  bad_import_file: 'Bad import file',
  delivery_rejected: 'Refused by destination',
  delivery_dead_letter: 'Gave up delivering',
  destination_auth_failed: 'Credentials refused',
  destination_misconfigured: 'Set up wrongly',
  unmapped_sku: 'Unmapped SKU',
  unmapped_location: 'Unmapped location',
  order_pull_failed: 'Orders not read',
  order_unmapped_item: 'Unmapped order item',
  order_rejected: 'Order not reserved',
  reconcile_drift: 'Levels differ',
  catalog_pull_failed: 'Items not read',
  catalog_item_refused: 'Item refused',
  price_below_floor: 'Price held',
};

/** Destination states as staff say them. */
export const STATE_LABELS: Record<string, { label: string; tone: 'ok' | 'warn' | 'bad' | 'muted' }> = {
  closed: { label: 'Online', tone: 'ok' },
  half_open: { label: 'Degraded', tone: 'warn' },
  open: { label: 'Offline', tone: 'bad' },
  paused: { label: 'Paused: needs a fix', tone: 'bad' },
  no_connector: { label: 'No connector yet', tone: 'muted' },
  stopped: { label: 'Stopped', tone: 'muted' },
};

/** Audit actions in words. */
export const ACTION_LABELS: Record<string, string> = {
  'outbox.retry': 'Retried',
  'outbox.replay': 'Replayed as new',
  'outbox.discard': 'Discarded',
  'destination.resume': 'Resumed destination',
  'mappings.set': 'Mapped',
  'mappings.remove': 'Removed mapping',
  'mappings.import': 'Imported mappings',
  'reconcile.run': 'Reconciled',
  'reconcile.republish': 'Pushed local level',
  'reconcile.accept_remote': 'Adopted remote level',
  'reconcile.ignore': 'Ignored drift',
  'destination.test': 'Tested connection',
  'sources.token_create': 'Created source token',
  'sources.token_revoke': 'Revoked source token',
  'channels.buffer_set': 'Changed channel buffer',
  'channels.buffer_reset': 'Set channel buffer back to the config file’s',
  'exceptions.close': 'Closed exception',
  'exceptions.closeMatching': 'Closed matching exceptions',
  'exceptions.acknowledge': 'Acknowledged exception',
  'exceptions.correct': 'Corrected SKU or location',
  'items.add': 'Added item',
  'settings.addLocation': 'Added location',
  'imports.fixRow': 'Captured fixed import row',
  'imports.reimport': 'Re-imported fixed file',
};

/** Why a connection test failed, in words. */
export const TEST_FAILURE_LABELS: Record<ConnectionTestReason, string> = {
  unreachable: 'Cannot be reached',
  auth_failed: 'Credentials refused',
  rejected: 'Refused',
  rate_limited: 'Asked to slow down; try again in a minute',
  invalid_response: 'Unexpected answer',
};
