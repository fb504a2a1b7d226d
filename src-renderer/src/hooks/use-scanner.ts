import { useEffect, useRef } from 'react';

/** How {@link useScanner} tells a scan from typing. */
export type ScannerOptions = Readonly<{
  /** Whether this component takes scans now (one scan target at a time: the open form's). Default true. */
  isEnabled?: boolean;
  /** The longest pause between two keys of one scan, in ms (a scanner types far faster than a person). */
  maxGapMs?: number;
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
 * Enter: keys that arrive less than `maxGapMs` apart and end with Enter, at least `minLength` of them, are one
 * scan, and `onScan(code)` is called with it. Keys typed into a text field are left to that field (its own
 * Enter adds what was typed), and a person typing on the page is too slow to be taken for a scan. The Enter that
 * ends a scan is kept from the focused element, so a scan with focus on a button does not press it.
 *
 * @example
 * useScanner((code) => void add(code, 1), { isEnabled: isOpen });
 */
export function useScanner(onScan: (code: string) => void, options: ScannerOptions = {}): void {
  const { isEnabled = true, maxGapMs = 50, minLength = 3 } = options;
  // The newest callback, so the listener is not re-added on every render.
  const handler = useRef(onScan);
  useEffect(() => {
    handler.current = onScan;
  }, [onScan]);

  useEffect(() => {
    if (!isEnabled) return;
    let buffer = '';
    let last = 0;
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTextTarget(e.target)) {
        buffer = '';
        return;
      }
      const now = e.timeStamp;
      const isFast = now - last <= maxGapMs;
      last = now;
      if (e.key === 'Enter') {
        const code = buffer;
        buffer = '';
        if (isFast && code.length >= minLength) {
          e.preventDefault();
          e.stopPropagation();
          handler.current(code);
        }
        return;
      }
      if (e.key.length !== 1) {
        // Shift and the like come between the characters of a scan; any other key ends it.
        if (e.key !== 'Shift') buffer = '';
        return;
      }
      buffer = isFast ? buffer + e.key : e.key;
    };
    document.addEventListener('keydown', onKeyDown, true);
    return () => document.removeEventListener('keydown', onKeyDown, true);
  }, [isEnabled, maxGapMs, minLength]);
}
