import type { ReactNode } from 'react';

/**
 * A form's submit button, disabled while its action runs, so a second click does not send it twice;
 * `busyLabel`, when given, says what is happening meanwhile.
 *
 * @example
 * <SubmitButton isBusy={isBusy} busyLabel="Importing…">Import</SubmitButton>
 */
export function SubmitButton({
  isBusy,
  busyLabel,
  className,
  children,
}: Readonly<{ isBusy: boolean; busyLabel?: string; className?: string; children: ReactNode }>) {
  return (
    <button type="submit" disabled={isBusy} className={className}>
      {isBusy && busyLabel !== undefined ? busyLabel : children}
    </button>
  );
}
