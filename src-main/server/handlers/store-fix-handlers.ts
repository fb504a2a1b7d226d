import { type StoreFixes } from '../../capture/store-fixes.js';
import type { HandlerTable } from '../rpc-router.js';

type FixNames =
  | 'items.add'
  | 'exceptions.close'
  | 'exceptions.closeMatching'
  | 'exceptions.acknowledge'
  | 'exceptions.correct'
  | 'settings.addLocation'
  | 'imports.fixRow'
  | 'imports.reimport';

export type StoreFixHandlerDeps = Readonly<{ storeFixes: StoreFixes }>;

/**
 * The ways out of every exception kind (`StoreFixes`): close, acknowledge, add the item or location, correct,
 * fix a bad import row, re-import a bad file. The operator comes from the request; each fix audits itself.
 */
export function storeFixHandlers(deps: StoreFixHandlerDeps): Pick<HandlerTable, FixNames> {
  const fixes = deps.storeFixes;
  return {
    'exceptions.close': ({ ids, reason }, { operator }) => fixes.close(ids, reason, { operator }),
    'exceptions.closeMatching': ({ filter, reason }, { operator }) =>
      fixes.closeMatching(filter, reason, { operator }),
    'exceptions.acknowledge': ({ ids, note }, { operator }) =>
      fixes.acknowledge(ids, note === undefined || note === '' ? null : note, { operator }),
    'items.add': ({ sku, name, barcode, reason }, { operator }) =>
      fixes.addItem(
        {
          sku,
          name,
          barcode: barcode === undefined || barcode === '' ? null : barcode,
          reason: reason === undefined || reason === '' ? null : reason,
        },
        { operator },
      ),
    'exceptions.correct': ({ id, to, reason }, { operator }) => fixes.correct(id, to, reason, { operator }),
    'settings.addLocation': ({ id, name, reason }, { operator }) =>
      fixes.addLocation({ id, name: name === undefined || name === '' ? null : name, reason }, { operator }),
    'imports.fixRow': ({ id, event }, { operator }) => fixes.fixRow(id, event, { operator }),
    'imports.reimport': ({ id, fileName, content }, { operator }) =>
      fixes.reimport(id, fileName, content, { operator }),
  };
}
