/** How an action ended, in words for the user. */
export type Outcome = Readonly<{ ok: boolean; message: string }>;

/**
 * How an action ended: a success as a status (read when the reader is idle), a failure as an alert (read at
 * once); nothing while `outcome` is null. A paragraph, or a span (`isInline`) inside a line of controls.
 */
export function OutcomeMessage({
  outcome,
  isInline = false,
}: Readonly<{ outcome: Outcome | null; isInline?: boolean }>) {
  if (outcome === null) return null;
  const Element = isInline ? 'span' : 'p';
  return (
    <Element className={outcome.ok ? 'ok' : 'error'} role={outcome.ok ? 'status' : 'alert'}>
      {outcome.message}
    </Element>
  );
}
