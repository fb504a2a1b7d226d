import { ErrorMessage } from './error-message.js';

/**
 * What the page's last action did: its failure as an alert, its success as a status, in one live region so a
 * screen reader hears each as it comes; nothing while both are null.
 *
 * @example
 * <ActionMessages error={error} notice={notice} />
 */
export function ActionMessages({
  error = null,
  notice,
}: Readonly<{ error?: string | null; notice: string | null }>) {
  return (
    <div aria-live="polite">
      <ErrorMessage message={error} />
      {notice !== null && (
        <p className="ok" role="status">
          {notice}
        </p>
      )}
    </div>
  );
}
