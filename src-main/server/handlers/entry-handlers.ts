import type { StockEntry } from '../../capture/stock-entry.js';
import type { Actor } from '../../capture/workbench-entry.js';
import type { HandlerTable, RequestContext } from '../rpc-router.js';

type EntryNames =
  | 'items.lookup'
  | 'entry.receive'
  | 'entry.adjust'
  | 'entry.transferOut'
  | 'entry.transferIn'
  | 'entry.expectedTransfers'
  | 'counts.start'
  | 'counts.list'
  | 'counts.get'
  | 'counts.record'
  | 'counts.post'
  | 'counts.cancel';

/** The operator making the request, with the role they act in. */
function actorOf({ principal, operator }: RequestContext): Actor {
  return { operator, role: principal?.kind === 'operator' ? principal.role : null };
}

/**
 * Stock entry at the workbench (`capture/stock-entry.ts`): receiving, adjusting, transfers and count sessions,
 * each captured as a `workbench` event under the operator's name. Routes only route.
 */
export function entryHandlers(deps: Readonly<{ stockEntry: StockEntry }>): Pick<HandlerTable, EntryNames> {
  const entry = deps.stockEntry;
  return {
    'items.lookup': ({ code, location }) => entry.lookup(code, location),
    'entry.receive': (input, context) => entry.receive(input, actorOf(context)),
    'entry.adjust': (input, context) => entry.adjust(input, actorOf(context)),
    'entry.transferOut': (input, context) => entry.transferOut(input, actorOf(context)),
    'entry.transferIn': (input, context) => entry.transferIn(input, actorOf(context)),
    'entry.expectedTransfers': ({ location }) => ({ transfers: entry.expectedTransfers(location) }),
    'counts.start': (input, context) => entry.counts.start(input, actorOf(context)),
    'counts.list': ({ status }) => ({ sessions: entry.counts.list(status) }),
    'counts.get': ({ id }) => entry.counts.get(id),
    'counts.record': (input, context) => entry.counts.record(input, actorOf(context)),
    'counts.post': ({ session }, context) => entry.counts.post(session, actorOf(context)),
    'counts.cancel': ({ session, reason }, context) => entry.counts.cancel(session, reason, actorOf(context)),
  };
}
