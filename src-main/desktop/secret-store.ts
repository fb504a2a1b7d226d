import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** The part of Electron's `safeStorage` this store needs (the OS keychain, DPAPI or libsecret behind it). */
export type Encryptor = Readonly<{
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}>;

/**
 * The desktop app's secrets (source tokens, destination secrets), kept in one file encrypted with the OS
 * keychain through `safeStorage`; the plain values never touch the disk. The agent gets them as environment
 * variables of its utility process, and the config names them as `{ "env": "NAME" }`.
 */
export class SecretStore {
  readonly #file: string;
  readonly #encryptor: Encryptor;

  constructor(file: string, encryptor: Encryptor) {
    this.#file = file;
    this.#encryptor = encryptor;
  }

  #readAll(): Record<string, string> {
    let raw: Record<string, string>;
    try {
      raw = JSON.parse(readFileSync(this.#file, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
    return Object.fromEntries(
      Object.entries(raw).map(([name, b64]) => [
        name,
        this.#encryptor.decryptString(Buffer.from(b64, 'base64')),
      ]),
    );
  }

  /** Stores `value` under `name` (an environment variable name). Refuses when the OS offers no encryption. */
  set(name: string, value: string): void {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`${name} is not an environment variable name`);
    if (!this.#encryptor.isEncryptionAvailable())
      throw new Error('The operating system offers no secure storage; secrets are not saved in plain text.');
    const encrypted: Record<string, string> = {};
    try {
      Object.assign(encrypted, JSON.parse(readFileSync(this.#file, 'utf8')) as Record<string, string>);
    } catch {
      // no file yet
    }
    encrypted[name] = this.#encryptor.encryptString(value).toString('base64');
    const partial = `${this.#file}.partial`;
    writeFileSync(partial, JSON.stringify(encrypted), { mode: 0o600 });
    renameSync(partial, this.#file);
  }

  /** Every secret, decrypted, as environment variables for the agent's process. */
  environment(): Record<string, string> {
    return this.#readAll();
  }
}
