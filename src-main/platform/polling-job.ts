/**
 * A job that runs at start and then every `everyMs`, never twice at once: `runNow` joins the run under way, and
 * `stop` aborts it (through `signal`) and waits for it. The order and catalog pullers are such jobs.
 */
export class PollingJob<T> {
  readonly #run: () => Promise<T>;
  readonly #everyMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<T> | null = null;

  /** `onError`: a timed run failed (a run asked for with `runNow` throws to its caller instead). */
  constructor(
    run: () => Promise<T>,
    options: Readonly<{ everyMs: number; onError: (error: unknown) => void }>,
  ) {
    this.#run = run;
    this.#everyMs = options.everyMs;
    this.#onError = options.onError;
  }

  /** Aborted once `stop` is called: a run checks it between steps and passes it to its calls. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The run under way, if any. */
  get running(): Promise<T> | null {
    return this.#running;
  }

  /** Runs now and then every `everyMs` (the timer does not keep the process alive). */
  start(): void {
    const tick = () => {
      this.runNow().catch(this.#onError);
    };
    tick();
    this.#timer = setInterval(tick, this.#everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
  }

  /** Runs once, joining a run already under way. Throws the error of a failed run. */
  runNow(): Promise<T> {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }
}
