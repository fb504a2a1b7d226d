import { EntryRefusal, type Actor, type StockEntry } from '../../capture/stock-entry.js';
import { ApiFailure } from '../api-failure.js';
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

/** Runs one entry, answering a refusal as the API's error (400 or 404 naming each field). */
async function answer<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof EntryRefusal) throw new ApiFailure(error.reason, error.message, error.errors);
    throw error;
  }
}

/**
 * Stock entry at the workbench (`capture/stock-entry.ts`): receiving, adjusting, transfers and count sessions,
 * each captured as a `workbench` event under the operator's name. Routes only route.
 */
export function entryHandlers(deps: Readonly<{ stockEntry: StockEntry }>): Pick<HandlerTable, EntryNames> {
  const entry = deps.stockEntry;
  return {
    'items.lookup': ({ code, location }) => entry.lookup(code, location),
    'entry.receive': (input, context) => answer(() => entry.receive(input, actorOf(context))),
    'entry.adjust': (input, context) => answer(() => entry.adjust(input, actorOf(context))),
    'entry.transferOut': (input, context) => answer(() => entry.transferOut(input, actorOf(context))),
    'entry.transferIn': (input, context) => answer(() => entry.transferIn(input, actorOf(context))),
    'entry.expectedTransfers': ({ location }) => ({ transfers: entry.expectedTransfers(location) }),
    'counts.start': (input, context) => answer(() => entry.startCount(input, actorOf(context))),
    'counts.list': ({ status }) => ({ sessions: entry.listCounts(status) }),
    'counts.get': ({ id }) => answer(() => entry.getCount(id)),
    'counts.record': (input, context) => answer(() => entry.recordCount(input, actorOf(context))),
    'counts.post': ({ session }, context) => answer(() => entry.postCount(session, actorOf(context))),
    'counts.cancel': ({ session, reason }, context) =>
      answer(() => entry.cancelCount(session, reason, actorOf(context))),
  };
}
