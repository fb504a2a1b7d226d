/**
 * What failed, announced at once (`role="alert"`); nothing while `message` is null. A paragraph under a page's
 * heading or a form, or a span (`isInline`) inside a row's inline form.
 *
 * @example
 * <ErrorMessage message={error} id={`${id}-error`} />
 */
export function ErrorMessage({
  message,
  id,
  isInline = false,
}: Readonly<{
  message: string | null;
  /** For an input's `aria-describedby`. */
  id?: string;
  isInline?: boolean;
}>) {
  if (message === null) return null;
  const Element = isInline ? 'span' : 'p';
  return (
    <Element id={id} className="error" role="alert">
      {message}
    </Element>
  );
}
