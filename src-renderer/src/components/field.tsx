import type { InputHTMLAttributes, ReactNode } from 'react';

/**
 * The attributes that tie an input to its error: its id, whether it is invalid, and (when it is) the id of the
 * {@link FieldError} that describes it.
 *
 * @example
 * <input {...fieldProps(`${id}-remote`, errors.remote)} value={remote} onChange={...} />
 */
export function fieldProps(
  id: string,
  error: string | undefined,
): { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined } {
  return {
    id,
    'aria-invalid': error !== undefined,
    'aria-describedby': error !== undefined ? `${id}-error` : undefined,
  };
}

/** The error of the input `id` (the agent's or the contract schema's words), with the id `fieldProps` names. */
export function FieldError({ id, error }: Readonly<{ id: string; error: string | undefined }>) {
  if (error === undefined) return null;
  return (
    <span id={`${id}-error`} className="field-error">
      {error}
    </span>
  );
}

/**
 * A labelled field of a form or a filter bar: the label, the input (which carries `id`, and
 * `fieldProps(id, error)` when it can be wrong) and its error under it.
 *
 * @example
 * <Field id={`${id}-local`} label="Local SKU" error={errors.local}>
 *   <input {...fieldProps(`${id}-local`, errors.local)} value={local} onChange={...} />
 * </Field>
 */
export function Field({
  id,
  label,
  error,
  children,
}: Readonly<{ id: string; label: ReactNode; error?: string | undefined; children: ReactNode }>) {
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      {children}
      <FieldError id={id} error={error} />
    </div>
  );
}

/**
 * A {@link Field} of one text input: its label, the input (tied to its error) and the error under it. Other
 * attributes go to the input; without `onChange` it is read as it is (set `readOnly`).
 *
 * @example
 * <TextField id={`${id}-name`} label="Name" error={errors.name} value={name} onChange={setName} autoComplete="off" />
 */
export function TextField({
  id,
  label,
  error,
  value,
  onChange,
  ...input
}: Readonly<
  {
    id: string;
    label: ReactNode;
    error: string | undefined;
    value: string;
    /** Called with the input's new text. */
    onChange?: (value: string) => void;
  } & Omit<
    InputHTMLAttributes<HTMLInputElement>,
    'id' | 'value' | 'onChange' | 'aria-invalid' | 'aria-describedby'
  >
>) {
  return (
    <Field id={id} label={label} error={error}>
      <input
        {...fieldProps(id, error)}
        value={value}
        onChange={onChange === undefined ? undefined : (e) => onChange(e.target.value)}
        {...input}
      />
    </Field>
  );
}
