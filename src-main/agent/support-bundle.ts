import {
  createCipheriv,
  createDecipheriv,
  randomBytes,
  scrypt as scryptCallback,
  type ScryptOptions,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ResolvedConfig } from '../../shared/config.js';
import type { AgentDatabase } from '../db/agent-database.js';
import { AgentError } from '../platform/errors.js';
import { VERSION } from '../platform/version.js';

/** One outbox row of an event that some destination still lacks. */
export type BundleDelivery = {
  destinationId: string;
  state: string;
  attempts: number;
  idempotencyKey: string;
  lastError: string | null;
  nextAttemptAt: string;
};

export type BundleEvent = {
  seq: number;
  source: string;
  eventId: string;
  receivedAt: string;
  /** The event as captured (its canonical body, parsed). */
  event: unknown;
  deliveries: BundleDelivery[];
};

/** What `backroom export --unsynced` puts in the encrypted bundle. Never a secret: no tokens, no config values. */
export type UnsyncedBundle = {
  kind: 'backroom-unsynced';
  agentId: string;
  /** The Backroom version that wrote the bundle. */
  version: string;
  schemaVersion: number;
  createdAt: string;
  lastSeq: number;
  destinations: { id: string; type: string }[];
  /** Events not yet delivered to every ledger destination, oldest first, with the state of each delivery. */
  events: BundleEvent[];
  /** Level updates (marketplaces) not yet sent. */
  pendingLevels: {
    destinationId: string;
    sku: string;
    location: string;
    version: number;
    sentVersion: number;
  }[];
  openExceptions: {
    id: number;
    kind: string;
    message: string;
    details: unknown;
    occurrences: number;
    createdAt: string;
    sku: string | null;
    location: string | null;
    destinationId: string | null;
    eventSeq: number | null;
  }[];
};

/**
 * Reads everything not yet synced, in one read transaction (safe while the agent runs: the agent stays the only
 * writer). An event is unsynced while any of its outbox rows is not `delivered` or `discarded`; `rejected` and
 * `dead` rows count, as they are exactly what support needs to see.
 */
export function readUnsynced(
  db: AgentDatabase,
  config: Pick<ResolvedConfig, 'agentId' | 'destinations'>,
): UnsyncedBundle {
  const iso = (ms: number) => new Date(ms).toISOString();
  return db.sqlite.transaction((): UnsyncedBundle => {
    const rows = db.sqlite
      .prepare(
        `SELECT e.seq, e.source, e.event_id, e.received_at, e.body,
                o.destination_id, o.state, o.attempts, o.idempotency_key, o.last_error, o.next_attempt_at
         FROM outbox o JOIN events e ON e.seq = o.event_seq
         WHERE o.state NOT IN ('delivered', 'discarded')
         ORDER BY e.seq, o.destination_id`,
      )
      .all() as {
      seq: number;
      source: string;
      event_id: string;
      received_at: number;
      body: string;
      destination_id: string;
      state: string;
      attempts: number;
      idempotency_key: string;
      last_error: string | null;
      next_attempt_at: number;
    }[];
    const events: BundleEvent[] = [];
    for (const row of rows) {
      let current = events.at(-1);
      if (current?.seq !== row.seq) {
        current = {
          seq: row.seq,
          source: row.source,
          eventId: row.event_id,
          receivedAt: iso(row.received_at),
          event: JSON.parse(row.body) as unknown,
          deliveries: [],
        };
        events.push(current);
      }
      current.deliveries.push({
        destinationId: row.destination_id,
        state: row.state,
        attempts: row.attempts,
        idempotencyKey: row.idempotency_key,
        lastError: row.last_error,
        nextAttemptAt: iso(row.next_attempt_at),
      });
    }
    const pendingLevels = (
      db.sqlite
        .prepare(
          `SELECT destination_id, sku, location, version, sent_version FROM level_dirty
           WHERE version > sent_version ORDER BY destination_id, sku, location`,
        )
        .all() as {
        destination_id: string;
        sku: string;
        location: string;
        version: number;
        sent_version: number;
      }[]
    ).map((r) => ({
      destinationId: r.destination_id,
      sku: r.sku,
      location: r.location,
      version: r.version,
      sentVersion: r.sent_version,
    }));
    const openExceptions = (
      db.sqlite.prepare(`SELECT * FROM exceptions WHERE status = 'open' ORDER BY id`).all() as {
        id: number;
        kind: string;
        message: string;
        details: string;
        occurrences: number;
        created_at: number;
        sku: string | null;
        location: string | null;
        destination_id: string | null;
        event_seq: number | null;
      }[]
    ).map((e) => ({
      id: e.id,
      kind: e.kind,
      message: e.message,
      details: JSON.parse(e.details) as unknown,
      occurrences: e.occurrences,
      createdAt: iso(e.created_at),
      sku: e.sku,
      location: e.location,
      destinationId: e.destination_id,
      eventSeq: e.event_seq,
    }));
    const schema = db.sqlite.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
      v: number | null;
    };
    const head = db.sqlite.prepare('SELECT MAX(seq) AS s FROM events').get() as { s: number | null };
    return {
      kind: 'backroom-unsynced',
      agentId: config.agentId,
      version: VERSION,
      schemaVersion: schema.v ?? 0,
      createdAt: new Date().toISOString(),
      lastSeq: head.s ?? 0,
      destinations: config.destinations.map((d) => ({ id: d.id, type: d.type })),
      events,
      pendingLevels,
      openExceptions,
    };
  })();
}

/**
 * The envelope on disk: JSON, so support can see what it is without the passphrase. The header (everything but
 * `data` and `tag`) is authenticated as associated data, so changing the KDF parameters fails like a wrong
 * passphrase does.
 */
type Envelope = {
  format: 'backroom-bundle';
  formatVersion: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: 'aes-256-gcm';
  iv: string;
  tag: string;
  data: string;
};

/** scrypt cost: 2^15 takes about 100 ms and 32 MiB, the level OWASP suggests for interactive use. */
const KDF = { N: 2 ** 15, r: 8, p: 1 } as const;

function deriveKey(
  passphrase: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCallback(passphrase.normalize('NFC'), salt, 32, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

function headerOf(e: Pick<Envelope, 'format' | 'formatVersion' | 'kdf' | 'cipher' | 'iv'>): Buffer {
  return Buffer.from(
    JSON.stringify({
      format: e.format,
      formatVersion: e.formatVersion,
      kdf: e.kdf,
      cipher: e.cipher,
      iv: e.iv,
    }),
  );
}

/** Encrypts `value` (as JSON) with a key derived from `passphrase` (scrypt, then AES-256-GCM). */
export async function encryptBundle(value: unknown, passphrase: string): Promise<string> {
  if (passphrase.length === 0) throw new AgentError('bad_passphrase', 'The passphrase is empty.');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await deriveKey(passphrase, salt, KDF);
  const head = {
    format: 'backroom-bundle',
    formatVersion: 1,
    kdf: { name: 'scrypt', ...KDF, salt: salt.toString('base64') },
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
  } as const;
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(headerOf(head));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  const envelope: Envelope = {
    ...head,
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
  return `${JSON.stringify(envelope, null, 1)}\n`;
}

/**
 * Decrypts a bundle written by `encryptBundle`. A wrong passphrase and a changed file are told apart from a file
 * that is not a bundle at all, but not from each other (GCM cannot say which).
 */
export async function decryptBundle(text: string, passphrase: string): Promise<unknown> {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch {
    throw new AgentError('not_a_bundle', 'This file is not a Backroom bundle (not JSON).');
  }
  if (
    envelope.format !== 'backroom-bundle' ||
    envelope.formatVersion !== 1 ||
    envelope.cipher !== 'aes-256-gcm'
  )
    throw new AgentError('not_a_bundle', 'This file is not a Backroom bundle this version can read.');
  const { N, r, p, salt } = envelope.kdf;
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20 || r > 32 || p > 16)
    throw new AgentError('not_a_bundle', 'The bundle names key-derivation parameters out of range.');
  const key = await deriveKey(passphrase, Buffer.from(salt, 'base64'), { N, r, p });
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
  decipher.setAAD(headerOf(envelope));
  decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]);
  } catch {
    throw new AgentError(
      'bad_passphrase',
      'Cannot decrypt the bundle: the passphrase is wrong, or the file was changed after it was written.',
    );
  }
  return JSON.parse(plain.toString('utf8')) as unknown;
}

/**
 * The passphrase from an environment variable or a file (a trailing newline dropped). Never from the command
 * line itself: arguments show up in `ps` and in shell history.
 */
export function readPassphrase(
  opts: Readonly<{ passphraseEnv?: string; passphraseFile?: string }>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  let value: string | undefined;
  if (opts.passphraseEnv !== undefined) {
    value = env[opts.passphraseEnv];
    if (value === undefined || value === '')
      throw new AgentError(
        'bad_passphrase',
        `The environment variable ${opts.passphraseEnv} is not set or empty.`,
      );
  } else if (opts.passphraseFile !== undefined) {
    try {
      value = readFileSync(opts.passphraseFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new AgentError(
        'bad_passphrase',
        `Cannot read the passphrase file ${opts.passphraseFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    if (value === '')
      throw new AgentError('bad_passphrase', `The passphrase file ${opts.passphraseFile} is empty.`);
  }
  if (value === undefined)
    throw new AgentError('bad_passphrase', 'Give --passphrase-env NAME or --passphrase-file PATH.');
  return value;
}
