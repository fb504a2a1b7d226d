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
  'reconcile_drift',
] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];

/** An exception is `open` until it is resolved (its cause is gone or was fixed) or discarded (given up, with a reason). */
export const EXCEPTION_STATUSES = ['open', 'resolved', 'discarded'] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

/**
 * What a person can do about an exception: `retry`, `replay` (as new, under a new key) and `discard` act on the
 * outbox item it is about; `map` sets the missing mapping; `resume` restarts a paused destination once its
 * credentials or setup are fixed; `reconcile` fixes a drifting level on the reconciliation page.
 */
export type ExceptionAction = 'retry' | 'replay' | 'discard' | 'map' | 'resume' | 'reconcile';

export type ExceptionKindFacts = Readonly<{
  /** The actions that fit the kind; empty when the fix is outside Backroom (the catalog, the POS, a file). */
  actions: readonly ExceptionAction[];
  /** True when the agent resolves it once its cause is gone, without anyone acting on it. */
  resolvesItself: boolean;
}>;

const OUTBOX_ITEM_ACTIONS = ['retry', 'replay', 'discard'] as const;

/** The UI-facing facts of each kind. */
export const EXCEPTION_KIND_FACTS = {
  unknown_sku: { actions: [], resolvesItself: false },
  unknown_location: { actions: [], resolvesItself: false },
  negative_stock: { actions: [], resolvesItself: true },
  bad_import_row: { actions: [], resolvesItself: false },
  bad_import_file: { actions: [], resolvesItself: false },
  delivery_rejected: { actions: OUTBOX_ITEM_ACTIONS, resolvesItself: false },
  delivery_dead_letter: { actions: OUTBOX_ITEM_ACTIONS, resolvesItself: false },
  destination_auth_failed: { actions: ['resume'], resolvesItself: false },
  destination_misconfigured: { actions: ['resume'], resolvesItself: false },
  unmapped_sku: { actions: ['map'], resolvesItself: false },
  unmapped_location: { actions: ['map'], resolvesItself: false },
  order_pull_failed: { actions: [], resolvesItself: true },
  order_unmapped_item: { actions: [], resolvesItself: false },
  order_rejected: { actions: [], resolvesItself: false },
  reconcile_drift: { actions: ['reconcile'], resolvesItself: true },
} as const satisfies Record<ExceptionKind, ExceptionKindFacts>;
