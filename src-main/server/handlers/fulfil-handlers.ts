import type { Fulfilment } from '../../capture/fulfilment.js';
import type { HandlerTable, RequestContext } from '../rpc-router.js';

/**
 * Fulfilling marketplace orders at the workbench (`capture/fulfilment.ts`): the open orders of a location and a
 * picked order shipped. Routes only route.
 */
export function fulfilHandlers(
  deps: Readonly<{ fulfilment: Fulfilment }>,
): Pick<HandlerTable, 'fulfil.orders' | 'fulfil.ship' | 'fulfil.return'> {
  const actorOf = ({ principal, operator }: RequestContext) => ({
    operator,
    role: principal?.kind === 'operator' ? principal.role : null,
  });
  return {
    'fulfil.orders': ({ location }) => deps.fulfilment.orders(location),
    'fulfil.ship': (input, context) => deps.fulfilment.ship(input, actorOf(context)),
    'fulfil.return': (input, context) => deps.fulfilment.receiveReturn(input, actorOf(context)),
  };
}
