import assert from 'node:assert/strict';
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
}
