import type { ReactNode } from 'react';

/**
 * A bar of filters over a list (a search landmark): each field applies as it changes, so Enter in a field
 * submits nothing and the page does not reload.
 */
export function FilterBar({ label, children }: Readonly<{ label: string; children: ReactNode }>) {
  return (
    <form className="filters" role="search" aria-label={label} onSubmit={(e) => e.preventDefault()}>
      {children}
    </form>
  );
}
