import type { ReactNode } from 'react';

/**
 * A page of the shell: a section named by its heading. The heading takes focus (`tabIndex={-1}`) because the
 * shell moves focus to the `h1` on navigation, so a screen reader announces the new page.
 */
export function PageSection({
  name,
  title,
  className,
  children,
}: Readonly<{
  /** The page's id (`stock`): the heading's id is `<name>-title`. */
  name: string;
  title: string;
  className?: string;
  children: ReactNode;
}>) {
  return (
    <section aria-labelledby={`${name}-title`} className={className}>
      <h1 id={`${name}-title`} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </section>
  );
}
