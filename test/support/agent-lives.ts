import assert from 'node:assert/strict';
import { request, type Dispatcher } from 'undici';
import type { IngestResponse, IngestResult } from '../../shared/api.js';
import { spawnServe, type ServeProcess } from './harness.js';

export type Life = { generation: number; serve: ServeProcess; isKilled: boolean };

/**
 * The real `backroom serve` across its lives, for crash and chaos tests: clients ask for the current life and
 * wait (bounded) while it is down, so they follow the agent to its new port after each restart.
 */
export class AgentLives {
  #current: Life | null = null;
  #generation = 0;
  #waiters: ((life: Life) => void)[] = [];
  readonly #configFile: string;

  constructor(configFile: string) {
    this.#configFile = configFile;
  }

  get current(): Life | null {
    return this.#current;
  }

  async start(): Promise<Life> {
    const serve = await spawnServe(this.#configFile);
    this.#generation += 1;
    const life: Life = { generation: this.#generation, serve, isKilled: false };
    this.#current = life;
    for (const wake of this.#waiters.splice(0)) wake(life);
    return life;
  }

  /** SIGKILL: no clean stop, no flush; whatever is in flight is cut. */
  async kill(): Promise<void> {
    const life = this.#current;
    assert.ok(life, 'no agent to kill');
    life.isKilled = true;
    this.#current = null;
    life.serve.proc.kill('SIGKILL');
    const exit = await life.serve.exited;
    assert.equal(exit.signal, 'SIGKILL', `the agent died before its kill: ${life.serve.stderr()}`);
  }

  /** The running life, waiting (bounded) while the agent restarts. */
  async alive(timeoutMs = 45_000): Promise<Life> {
    if (this.#current) return this.#current;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        new Promise<Life>((resolve) => this.#waiters.push(resolve)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the agent was not back within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * POSTs an ingest body to whichever life is running, resending it unchanged when a kill cut the request
   * (anything else that fails while the agent lives is a test failure). Resolves with the results and how many
   * times the body had to be resent.
   */
  async postEvents(
    token: string,
    body: string,
    options: Readonly<{ dispatcher: Dispatcher; timeoutMs: number; maxAttempts: number; label: string }>,
  ): Promise<{ results: IngestResult[]; resends: number }> {
    for (let resends = 0; ; resends += 1) {
      assert.ok(resends < options.maxAttempts, `${options.label}: a request failed ${resends} times`);
      const life = await this.alive();
      try {
        const response = await request(`${life.serve.address}/api/v1/events`, {
          method: 'POST',
          dispatcher: options.dispatcher,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        });
        const text = await response.body.text();
        assert.equal(response.statusCode, 200, `${options.label}: answered ${response.statusCode}: ${text}`);
        return { results: (JSON.parse(text) as IngestResponse).results, resends };
      } catch (error) {
        // Only a kill may cut a request; anything else while the agent lives is a failure.
        if (error instanceof assert.AssertionError || !life.isKilled) throw error;
      }
    }
  }
}
