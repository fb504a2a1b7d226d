/**
 * The loop of a sender that works off what is due (fulfilments, statements, prices): a run at start, then every
 * `everyMs`, and whenever it is woken (something just became due). Never two runs at once: a wake during a run
 * makes that run go round again once it ends, so nothing woken for waits for the next tick, and `run` joins it.
 * `stop` aborts the run under way (through `signal`) and waits for it.
 */
export class SenderLoop {
  readonly #runOnce: () => Promise<number>;
  readonly #everyMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #again = false;

  /** `runOnce` works off what is due once and says how much it tried; `onError`: a woken or timed run failed. */
  constructor(
    runOnce: () => Promise<number>,
    options: Readonly<{ everyMs: number; onError: (error: unknown) => void }>,
  ) {
    this.#runOnce = runOnce;
    this.#everyMs = options.everyMs;
    this.#onError = options.onError;
  }

  /** Aborted once `stop` is called: a run checks it between items and passes it to its calls. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Runs now and then every `everyMs` (the timer does not keep the process alive). */
  start(): void {
    this.wake();
    this.#timer = setInterval(() => this.wake(), this.#everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
  }

  /** Runs soon: something became due. */
  wake(): void {
    this.run().catch(this.#onError);
  }

  /** Works off everything due now (joining a run under way, which then goes round again); how much it tried. */
  run(): Promise<number> {
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let tried = 0;
      do {
        this.#again = false;
        tried += await this.#runOnce();
      } while (this.#again && !this.#abort.signal.aborted);
      return tried;
    })().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }
}
