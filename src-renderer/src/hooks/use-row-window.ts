import { useVirtualizer, type VirtualItem } from '@tanstack/react-virtual';
import { useEffect, useRef, useState, type CSSProperties, type KeyboardEvent, type RefObject } from 'react';
import { rowAt } from '../stores/paged-rows.js';

/** What a virtualized table reads from {@link useRowWindow}. */
export type RowWindow<Row> = Readonly<{
  /** The scrolling body of the table (it takes `onKeyDown` too). */
  scroller: RefObject<HTMLDivElement | null>;
  /** The rows to draw now, each at its `start`. */
  items: VirtualItem[];
  /** The height of all rows, for the row group that holds them. */
  totalSize: number;
  /** Rows in the table (0 while loading). */
  count: number;
  /** The row that takes the keyboard (tab stop of the grid). */
  active: number;
  setActive: (index: number) => void;
  /** The row at `index`, or undefined while its page is loading. */
  rowAt: (index: number) => Row | undefined;
  /** Arrows, Page Up/Down, Home/End move the active row; `openKeys` open it. */
  onKeyDown: (e: KeyboardEvent<HTMLDivElement>) => void;
}>;

/**
 * The window of rows a virtualized table draws (the Stock and Exceptions pages): the rows in view of the scroller
 * (told to the store with `onRange`, so it fetches their pages) and a keyboard that moves an active row and opens
 * it. Rows are `rowHeight` high, each in its own `[data-index]` element.
 *
 * @example
 * const rows = useRowWindow({ total, pages, rowHeight: 40, onRange: showRange, onOpen: open, openKeys: ['Enter'] });
 * <div className="grid-body" ref={rows.scroller} onKeyDown={rows.onKeyDown}>…</div>
 */
export function useRowWindow<Row>({
  total,
  pages,
  rowHeight,
  onRange,
  onOpen,
  openKeys,
}: Readonly<{
  /** Rows matching, or null before the first answer. */
  total: number | null;
  /** Loaded pages by page index (a paged-rows store's). */
  pages: Readonly<Record<number, Row[]>>;
  rowHeight: number;
  /** Called with the first and last row in view when they change. */
  onRange: (first: number, last: number) => void;
  /** Opens a row (the keyboard's `openKeys` on the active row). */
  onOpen: (row: Row) => void;
  openKeys: readonly string[];
}>): RowWindow<Row> {
  const scroller = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const count = total ?? 0;
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 12,
    // Rows newly scrolled into view render in React's next batch rather than synchronously inside the scroll
    // event, so a fast scrollbar drag does not stack renders into one long frame (rows are fixed-height, so
    // nothing jumps while they wait a frame).
    useFlushSync: false,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (count > 0) onRange(first, last);
  }, [first, last, count, onRange]);

  const focusRow = (index: number) => {
    const next = Math.max(0, Math.min(count - 1, index));
    setActive(next);
    virtualizer.scrollToIndex(next, { align: 'auto' });
    requestAnimationFrame(() =>
      scroller.current?.querySelector<HTMLElement>(`[data-index="${next}"]`)?.focus({ preventScroll: true }),
    );
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: active + 1,
      ArrowUp: active - 1,
      PageDown: active + page,
      PageUp: active - page,
      Home: 0,
      End: count - 1,
    };
    if (e.key in moves) {
      e.preventDefault();
      focusRow(moves[e.key]!);
    } else if (openKeys.includes(e.key)) {
      const row = rowAt(pages, active);
      if (row) {
        e.preventDefault();
        onOpen(row);
      }
    }
  };

  return {
    scroller,
    items,
    totalSize: virtualizer.getTotalSize(),
    count,
    active,
    setActive,
    rowAt: (index) => rowAt(pages, index),
    onKeyDown,
  };
}

/** The style of a row of the window: placed at `start` (its item's), `rowHeight` high, the width of the table. */
export function rowPosition(start: number, rowHeight: number): CSSProperties {
  return {
    position: 'absolute',
    top: 0,
    left: 0,
    right: 0,
    height: rowHeight,
    transform: `translateY(${start}px)`,
  };
}
