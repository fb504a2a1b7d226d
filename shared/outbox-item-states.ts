/**
 * The states of an outbox item (one event on its way to one ledger destination); `src-main/outbox/README.md`
 * draws the machine. `rejected`: the destination refused it; `dead`: it ran out of attempts or age; both wait for
 * a person. `held`: it names a SKU or location the destination has no mapping for; it goes back to `pending` when
 * one is set.
 */
export const OUTBOX_ITEM_STATES = [
  'pending',
  'in_flight',
  'delivered',
  'rejected',
  'dead',
  'discarded',
  'held',
] as const;
export type OutboxItemState = (typeof OUTBOX_ITEM_STATES)[number];
