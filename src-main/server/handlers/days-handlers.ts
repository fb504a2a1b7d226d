import type { DayClose } from '../../reconcile/day-close.js';
import type { HandlerTable } from '../rpc-router.js';

/**
 * The Day close page (`reconcile/day-close.ts`): the business days of the `daily_statement` destinations, closing
 * one, posting a statement again, and the money reconciliation read back from the ERP. Routes only route.
 */
export function daysHandlers(
  deps: Readonly<{ dayClose: DayClose }>,
): Pick<HandlerTable, 'days.list' | 'days.close' | 'days.postAgain' | 'days.money'> {
  return {
    'days.list': () => deps.dayClose.view(),
    'days.close': ({ location, day }, { operator }) => deps.dayClose.close(location, day, operator),
    'days.postAgain': ({ statement }, { operator }) => deps.dayClose.postAgain(statement, operator),
    'days.money': () => deps.dayClose.money(AbortSignal.timeout(60_000)),
  };
}
