/**
 * The reason an inline action asks for (revoke a token, adopt a remote level, remove a mapping): a labelled input
 * with id `<id>-reason`, marked invalid and described by the form's error (and help) when there is one.
 */
export function ReasonField({
  id,
  value,
  onChange,
  isRequired = true,
  isInvalid,
  describedBy,
  autoFocus = true,
}: Readonly<{
  id: string;
  value: string;
  onChange: (value: string) => void;
  isRequired?: boolean;
  isInvalid: boolean;
  describedBy: string | undefined;
  autoFocus?: boolean;
}>) {
  return (
    <span>
      <label htmlFor={`${id}-reason`}>{isRequired ? 'Reason (required)' : 'Reason (optional)'}</label>
      <input
        id={`${id}-reason`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        autoFocus={autoFocus}
        aria-invalid={isInvalid}
        aria-describedby={describedBy}
      />
    </span>
  );
}
