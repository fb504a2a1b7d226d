import type { ReactNode } from 'react';

/**
 * The options of a select, one a value, each shown as itself or as `labelOf(value)`; an "all" or "none" option
 * goes before it in the select.
 *
 * @example
 * <select value={kind} onChange={...}>
 *   <option value="">All kinds</option>
 *   <Options values={EXCEPTION_KINDS} labelOf={(k) => KIND_LABELS[k] ?? k} />
 * </select>
 */
export function Options({
  values,
  labelOf = (value) => value,
}: Readonly<{ values: readonly string[]; labelOf?: (value: string) => ReactNode }>) {
  return values.map((value) => (
    <option key={value} value={value}>
      {labelOf(value)}
    </option>
  ));
}
