import type { ReactNode } from 'react';

/**
 * A small form opened inside a table row (change a buffer, revoke a token, adopt a remote level): its fields and
 * buttons, then Cancel, then `footer` (help or the error). Escape closes it as Cancel does. The browser's own
 * validation is off: the contract's schema and the agent say what is wrong, in the field's words.
 */
export function InlineForm({
  label,
  onSubmit,
  onCancel,
  children,
  footer,
}: Readonly<{
  /** The form's accessible name (`Revoke pos-1 token …abcd`). */
  label: string;
  /** Called on submit; the page does not reload. */
  onSubmit: () => void;
  onCancel: () => void;
  children: ReactNode;
  footer?: ReactNode;
}>) {
  return (
    <form
      className="inline-form"
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
      onKeyDown={(e) => e.key === 'Escape' && onCancel()}
      noValidate
    >
      {children}
      <button type="button" className="secondary" onClick={onCancel}>
        Cancel
      </button>
      {footer}
    </form>
  );
}
