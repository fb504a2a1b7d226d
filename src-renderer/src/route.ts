import { useSyncExternalStore } from 'react';

export const PAGES = [
  { id: 'overview', label: 'Overview' },
  { id: 'exceptions', label: 'Exceptions' },
  { id: 'entry', label: 'Stock entry' },
  { id: 'fulfil', label: 'Fulfil' },
  { id: 'days', label: 'Day close' },
  { id: 'reconcile', label: 'Reconcile' },
  { id: 'mappings', label: 'Mappings' },
  { id: 'stock', label: 'Stock' },
  { id: 'prices', label: 'Prices' },
  { id: 'activity', label: 'Activity' },
  { id: 'settings', label: 'Settings' },
] as const;
export type PageId = (typeof PAGES)[number]['id'];

/** The page and its parameters from the location hash (`#/exceptions?kind=unknown_sku`). */
export type Route = { page: PageId; params: URLSearchParams };

function parse(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const page = PAGES.find((p) => p.id === path)?.id ?? 'overview';
  return { page, params: new URLSearchParams(query) };
}

const subscribe = (onChange: () => void) => {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
};

/** The current route; hash routing keeps every page a plain link, served by the one `index.html`. */
export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parse(hash);
}

export function hrefOf(page: PageId, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params).toString();
  return `#/${page}${query ? `?${query}` : ''}`;
}
