import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ErrorMessage } from '../components/error-message.js';
import { SubmitButton } from '../components/submit-button.js';
import { useSession } from '../stores/session-store.js';

/** Operators log in with their name and their operator token as the password. */
export function LoginPage() {
  const login = useSession((s) => s.login);
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const nameInput = useRef<HTMLInputElement>(null);
  useEffect(() => nameInput.current?.focus(), []);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (key: string) => {
      const value = form.get(key);
      return typeof value === 'string' ? value : '';
    };
    setBusy(true);
    setError(await login(text('name'), text('password')));
    setBusy(false);
  };

  return (
    <main className="login" id="main">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="login-title" noValidate>
        <h1 id="login-title">Backroom</h1>
        <p>Log in with your operator name and password. Everything you do is recorded under your name.</p>
        <label htmlFor="login-name">Name</label>
        <input id="login-name" name="name" ref={nameInput} autoComplete="username" required />
        <label htmlFor="login-password">Password</label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" required />
        <ErrorMessage message={error} />
        <SubmitButton isBusy={isBusy} busyLabel="Logging in…">
          Log in
        </SubmitButton>
      </form>
    </main>
  );
}
