/**
 * Runs async work one at a time per key, in the order it was asked for; work under other keys runs alongside.
 * For a check-then-write spanning an `await` (the check reads the database, the write commits later), so two
 * requests about the same thing cannot both pass the check. Within one process only: the agent is the one
 * writer of its database (`data-dir-lock.ts`).
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => {});
    this.#tails.set(key, tail);
    // The last one out removes the key, so the map holds only keys with work under way.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}
