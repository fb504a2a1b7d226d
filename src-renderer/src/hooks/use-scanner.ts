import { useEffect, useRef } from 'react';

/** How {@link useScanner} tells a scan from typing. */
export type ScannerOptions = Readonly<{
  /** Whether this component takes scans now (one scan target at a time: the open form's). Default true. */
  isEnabled?: boolean;
  /**
   * The longest typical pause between two keys of a scan, in ms: the median of a scan's pauses is under it (a
   * scanner types far faster than a person, whose keys come 100 ms or more apart).
   */
  maxGapMs?: number;
  /** The longest single pause within one scan, in ms: a busy computer may hold one key back that long. */
  maxPauseMs?: number;
  /** The fewest characters a scan has; shorter bursts ending in Enter are left alone. */
  minLength?: number;
}>;

/** Whether the key went to a field that takes text itself (its own Enter, its own characters). */
function isTextTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (
    target.isContentEditable ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  )
    return true;
  if (!(target instanceof HTMLInputElement)) return false;
  return !['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'range', 'color'].includes(target.type);
}

/**
 * Takes barcode scans typed anywhere on the page. A scanner is a keyboard that types a code fast and presses
 * Enter: at least `minLength` keys ending with Enter, whose pauses are typically (the median) under `maxGapMs`
 * and never over `maxPauseMs`, are one scan, and `onScan(code)` is called with it. The median rather than every
 * pause, because a loaded back-office PC delivers the odd key late while the rest still come in a burst. Keys
 * typed into a text field are left to that field (its own Enter adds what was typed), and a person typing on the
 * page is too slow to be taken for a scan. The Enter that ends a scan is kept from the focused element, so a scan
 * with focus on a button does not press it.
 *
 * @example
 * useScanner((code) => void add(code, 1), { isEnabled: isOpen });
 */
export function useScanner(onScan: (code: string) => void, options: ScannerOptions = {}): void {
  const { isEnabled = true, maxGapMs = 50, maxPauseMs = 300, minLength = 3 } = options;
  // The newest callback, so the listener is not re-added on every render.
  const handler = useRef(onScan);
  useEffect(() => {
    handler.current = onScan;
  }, [onScan]);

  useEffect(() => {
    if (!isEnabled) return;
    let buffer = '';
    // The pauses before each key of the buffer but its first.
    let pauses: number[] = [];
    let last = Number.NEGATIVE_INFINITY;
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTextTarget(e.target)) {
        buffer = '';
        return;
      }
      const pause = e.timeStamp - last;
      last = e.timeStamp;
      if (e.key === 'Enter') {
        const code = buffer;
        const all = [...pauses, pause];
        buffer = '';
        if (code.length >= minLength && pause <= maxPauseMs && median(all) <= maxGapMs) {
          e.preventDefault();
          e.stopPropagation();
          handler.current(code);
        }
        return;
      }
      if (e.key.length !== 1) {
        // Shift comes between the characters of a scan; any other key ends it.
        if (e.key !== 'Shift') buffer = '';
        return;
      }
      if (buffer === '' || pause > maxPauseMs) {
        buffer = e.key;
        pauses = [];
      } else {
        buffer += e.key;
        pauses.push(pause);
      }
    };
    document.addEventListener('keydown', onKeyDown, true);
    return () => document.removeEventListener('keydown', onKeyDown, true);
  }, [isEnabled, maxGapMs, maxPauseMs, minLength]);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.POSITIVE_INFINITY;
}
