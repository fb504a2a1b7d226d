import { useRpc } from '../hooks/use-rpc.js';
import { Field, fieldProps } from './field.js';

const REMEMBERED = 'backroom.entry.location';

/** The location this browser last entered stock at ('' when none), so the back office PC opens on its own. */
export function rememberedLocation(): string {
  try {
    return window.localStorage.getItem(REMEMBERED) ?? '';
  } catch {
    return '';
  }
}

/** Keeps `location` as this browser's next default. */
export function rememberLocation(location: string): void {
  try {
    window.localStorage.setItem(REMEMBERED, location.trim());
  } catch {
    // A browser that keeps nothing opens with an empty location: staff choose it again.
  }
}

/**
 * A location field: typed, or chosen from the locations the Stock list knows (a datalist, so a location that has
 * no stock yet can still be typed). The agent checks the location; an unknown one is answered under the field.
 */
export function LocationField({
  id,
  label = 'Location',
  value,
  onChange,
  error,
}: Readonly<{
  id: string;
  label?: string;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
}>) {
  const { data } = useRpc('stock.list', { limit: 1 });
  const locations = data?.locations ?? [];
  return (
    <Field id={id} label={label} error={error}>
      <input
        {...fieldProps(id, error)}
        className="location"
        list={`${id}-list`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        autoComplete="off"
        spellCheck={false}
      />
      <datalist id={`${id}-list`}>
        {locations.map((l) => (
          <option key={l.id} value={l.id}>
            {l.name}
          </option>
        ))}
      </datalist>
    </Field>
  );
}
