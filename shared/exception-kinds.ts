/**
 * The exception vocabulary as the UI needs it: every kind the agent raises, what a person can do about each, and
 * whether it goes away by itself. The agent's side of each kind (its dedupe key, its wording, the code that
 * resolves it) is in `src-main/exceptions/exception-catalog.ts`, which is checked against this list at compile time.
 */

/** Every kind of exception the agent raises, in the order the UI lists them. */
export const EXCEPTION_KINDS = [
  'unknown_sku',
  'unknown_location',
  'negative_stock',
  'bad_import_row',
  'bad_import_file',
  'delivery_rejected',
  'delivery_dead_letter',
  'destination_auth_failed',
  'destination_misconfigured',
  'unmapped_sku',
  'unmapped_location',
  'order_pull_failed',
  'order_unmapped_item',
  'order_rejected',
  'fulfilment_rejected',
  'order_cancelled_shipped',
  'order_return_expected',
  'reconcile_drift',
  'shipment_drift',
  'catalog_pull_failed',
  'catalog_item_refused',
  'price_below_floor',
  'statement_refused',
] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];

/** An exception is `open` until it is resolved (its cause is gone or was fixed) or discarded (given up, with a reason). */
export const EXCEPTION_STATUSES = ['open', 'resolved', 'discarded'] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

/**
 * What a person can do about an exception, one button each in the workbench:
 * - on the outbox item it is about: `retry`, `replay` (as new, under a new key), `discard` (gives the item up and
 *   closes the exception);
 * - on its cause: `map` sets the missing mapping; `resume` restarts a paused destination once its credentials or
 *   setup are fixed; `reconcile` fixes a drifting level on the reconciliation page; `count` and `receive` capture
 *   the count or the missing receipt; `add_item` adds the unknown SKU to the catalog (`items.add`); `correct`
 *   moves what was recorded under a wrong SKU or location to the right one (`exceptions.correct`); `add_location`
 *   adds the unknown location (`settings.addLocation`); `fix_row` captures a bad import row as fixed
 *   (`imports.fixRow`); `reimport` imports a bad file's fixed content (`imports.reimport`); `confirm_price` sends
 *   a price held under its floor, or keeps the old one, on the Prices page (`prices.confirm`, `prices.keep`);
 * - on the exception itself: `close` ends it with a reason when nothing else will be done
 *   (`exceptions.close`), `acknowledge` marks it seen, being handled, and leaves it open
 *   (`exceptions.acknowledge`).
 */
export type ExceptionAction =
  | 'retry'
  | 'replay'
  | 'discard'
  | 'map'
  | 'resume'
  | 'reconcile'
  | 'count'
  | 'receive'
  | 'add_item'
  | 'correct'
  | 'add_location'
  | 'fix_row'
  | 'reimport'
  | 'confirm_price'
  | 'close'
  | 'acknowledge';

export type ExceptionKindFacts = Readonly<{
  /** The actions that fit the kind, the fix first; every kind can at least be acknowledged. */
  actions: readonly ExceptionAction[];
  /** True when the agent resolves it once its cause is gone, without anyone acting on it. */
  resolvesItself: boolean;
}>;

/** About an outbox item: its discard closes the exception with it, so there is no separate close. */
const OUTBOX_ITEM_ACTIONS = ['retry', 'replay', 'discard', 'acknowledge'] as const;

/** The UI-facing facts of each kind. */
export const EXCEPTION_KIND_FACTS = {
  unknown_sku: { actions: ['add_item', 'correct', 'close', 'acknowledge'], resolvesItself: false },
  unknown_location: { actions: ['add_location', 'correct', 'close', 'acknowledge'], resolvesItself: false },
  negative_stock: { actions: ['count', 'receive', 'close', 'acknowledge'], resolvesItself: true },
  bad_import_row: { actions: ['fix_row', 'close', 'acknowledge'], resolvesItself: false },
  bad_import_file: { actions: ['reimport', 'close', 'acknowledge'], resolvesItself: false },
  delivery_rejected: { actions: OUTBOX_ITEM_ACTIONS, resolvesItself: false },
  delivery_dead_letter: { actions: OUTBOX_ITEM_ACTIONS, resolvesItself: false },
  destination_auth_failed: { actions: ['resume', 'close', 'acknowledge'], resolvesItself: false },
  destination_misconfigured: { actions: ['resume', 'close', 'acknowledge'], resolvesItself: false },
  unmapped_sku: { actions: ['map', 'close', 'acknowledge'], resolvesItself: false },
  unmapped_location: { actions: ['map', 'close', 'acknowledge'], resolvesItself: false },
  order_pull_failed: { actions: ['close', 'acknowledge'], resolvesItself: true },
  order_unmapped_item: { actions: ['map', 'close', 'acknowledge'], resolvesItself: true },
  order_rejected: { actions: ['close', 'acknowledge'], resolvesItself: false },
  fulfilment_rejected: { actions: ['close', 'acknowledge'], resolvesItself: false },
  order_cancelled_shipped: { actions: ['close', 'acknowledge'], resolvesItself: true },
  order_return_expected: { actions: ['close', 'acknowledge'], resolvesItself: true },
  reconcile_drift: { actions: ['reconcile', 'close', 'acknowledge'], resolvesItself: true },
  shipment_drift: { actions: ['reconcile', 'close', 'acknowledge'], resolvesItself: true },
  catalog_pull_failed: { actions: ['close', 'acknowledge'], resolvesItself: true },
  catalog_item_refused: { actions: ['close', 'acknowledge'], resolvesItself: true },
  price_below_floor: { actions: ['confirm_price', 'acknowledge'], resolvesItself: true },
  statement_refused: { actions: ['close', 'acknowledge'], resolvesItself: true },
} as const satisfies Record<ExceptionKind, ExceptionKindFacts>;
