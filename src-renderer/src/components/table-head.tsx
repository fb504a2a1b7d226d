/**
 * A column of a {@link TableHead}: its title alone, or with how it shows: numbers right-aligned
 * (`isNumeric`), or a title for screen readers only (`isHidden`, over a column of buttons).
 */
export type Column = string | Readonly<{ label: string; isNumeric?: boolean; isHidden?: boolean }>;

/**
 * The head of a data table: one row of column headers (`scope="col"`), so that a screen reader names the column
 * of each cell. Labels are unique within a table (they key the headers).
 *
 * @example
 * <TableHead columns={['SKU', { label: 'Qty', isNumeric: true }, { label: 'Actions', isHidden: true }]} />
 */
export function TableHead({ columns }: Readonly<{ columns: readonly Column[] }>) {
  return (
    <thead>
      <tr>
        {columns.map((column) => {
          const {
            label,
            isNumeric = false,
            isHidden = false,
          } = typeof column === 'string' ? { label: column } : column;
          return (
            <th key={label} scope="col" className={isNumeric ? 'num' : undefined}>
              {isHidden ? <span className="visually-hidden">{label}</span> : label}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}
