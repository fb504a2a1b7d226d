import type { StatusResponse } from '../../../shared/api.js';
import type { HandlerTable } from '../rpc-router.js';

/** The agent's health, queues and open exceptions: what `backroom status` prints and the overview shows. */
export function statusHandlers(status: () => StatusResponse): Pick<HandlerTable, 'status.get'> {
  return { 'status.get': () => status() };
}
