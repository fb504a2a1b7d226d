/** Exit codes of CONTRACT.md; `unsynced` (3) only from `backroom unsynced`, when something is not yet synced. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unsynced: 3 } as const;

/** Where a command writes: stdout and stderr, or a test's buffers. */
export type Io = { out: (text: string) => void; err: (text: string) => void };

export const defaultIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};
