import { spawn, type ChildProcess } from 'node:child_process';
import { tempDir } from './harness.js';
import { freePort, stopProcess } from './server-process.js';

/** How long nats-server may take to say it is ready (JetStream recovers its store first). */
const START_TIMEOUT_MS = 15_000;
/** How long a clean stop may take before the server is killed. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * A real `nats-server` with JetStream on 127.0.0.1, its store in a temp folder. `stop()` and `start()` again keep
 * the port and the store, so a test can take the server down and bring it back with its streams intact.
 *
 * @example
 * const nats = await NatsServer.start();
 * t.after(() => nats.dispose());
 * const nc = await connect({ servers: nats.url });
 */
/** TLS for the server: its certificate and key files, and with `verifyClientsWith` a CA file clients must match. */
export type NatsServerTls = Readonly<{ cert: string; key: string; verifyClientsWith?: string }>;

export class NatsServer {
  readonly port: number;
  readonly #store: { path: string; cleanup: () => void };
  readonly #tls: NatsServerTls | null;
  #proc: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #log = '';

  private constructor(port: number, store: { path: string; cleanup: () => void }, tls: NatsServerTls | null) {
    this.port = port;
    this.#store = store;
    this.#tls = tls;
  }

  /** Starts a server on a free port with a fresh store (with `tls`, TLS only); resolves once it accepts clients. */
  static async start(options: Readonly<{ tls?: NatsServerTls }> = {}): Promise<NatsServer> {
    const server = new NatsServer(await freePort(), tempDir('backroom-nats-'), options.tls ?? null);
    try {
      await server.restart();
    } catch (error) {
      server.#store.cleanup();
      throw error;
    }
    return server;
  }

  /** `nats://127.0.0.1:<port>`, or `tls://` for a TLS server. */
  get url(): string {
    return `${this.#tls === null ? 'nats' : 'tls'}://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.#proc !== null;
  }

  /** What the server logged (for assertion messages). */
  get log(): string {
    return this.#log;
  }

  /** Starts the server again on the same port and store (after `stop()`); resolves once it is ready. */
  restart(): Promise<void> {
    if (this.#proc) return Promise.reject(new Error('nats-server is already running'));
    return new Promise((resolve, reject) => {
      const proc = spawn(
        'nats-server',
        [
          ...['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.#store.path],
          ...(this.#tls === null ? [] : ['--tls', '--tlscert', this.#tls.cert, '--tlskey', this.#tls.key]),
          ...(this.#tls?.verifyClientsWith === undefined
            ? []
            : ['--tlsverify', '--tlscacert', this.#tls.verifyClientsWith]),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      this.#proc = proc;
      let isReady = false;
      // The log spans every run; only this run's lines say whether it is ready.
      const runStart = this.#log.length;
      this.#exited = new Promise((done) =>
        proc.once('exit', (code, signal) => {
          this.#proc = null;
          if (!isReady) {
            clearTimeout(timer);
            reject(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${this.#log}`));
          }
          done();
        }),
      );
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`nats-server was not ready within ${START_TIMEOUT_MS} ms:\n${this.#log}`));
      }, START_TIMEOUT_MS);
      proc.stderr.on('data', (chunk: Buffer) => {
        this.#log += chunk.toString();
        if (!isReady && this.#log.includes('Server is ready', runStart)) {
          isReady = true;
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Stops the server (SIGTERM, then SIGKILL past a bound); the store stays for `restart()`. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    await stopProcess(proc, this.#exited, STOP_TIMEOUT_MS);
  }

  /** Stops the server and removes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    this.#store.cleanup();
  }
}

/** One node of a `NatsCluster`: its client port, cluster port, store and process. */
type ClusterNode = {
  name: string;
  port: number;
  clusterPort: number;
  store: { path: string; cleanup: () => void };
  proc: ChildProcess | null;
  exited: Promise<void>;
  log: string;
};

/**
 * Three real `nats-server` nodes with JetStream on 127.0.0.1, routed to each other (a JetStream cluster, so
 * streams and buckets can be replicated 3 ways). `kill(i)` SIGKILLs one node, `restart(i)` brings it back with
 * its store; `urls` lists every node for clients, which fail over among them.
 *
 * @example
 * const cluster = await NatsCluster.start();
 * t.after(() => cluster.dispose());
 */
export class NatsCluster {
  readonly #nodes: ClusterNode[];
  readonly #name: string;

  private constructor(nodes: ClusterNode[], name: string) {
    this.#nodes = nodes;
    this.#name = name;
  }

  /** Starts three nodes; resolves once each says it is ready (the meta leader may take a moment more). */
  static async start(size = 3): Promise<NatsCluster> {
    const nodes: ClusterNode[] = [];
    for (let i = 0; i < size; i += 1)
      nodes.push({
        name: `n${i + 1}`,
        port: await freePort(),
        clusterPort: await freePort(),
        store: tempDir(`backroom-nats-n${i + 1}-`),
        proc: null,
        exited: Promise.resolve(),
        log: '',
      });
    const cluster = new NatsCluster(nodes, `backroom-test-${process.pid}`);
    try {
      await Promise.all(nodes.map((_, i) => cluster.restart(i)));
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** Every node's client URL. */
  get urls(): string[] {
    return this.#nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  }

  /** What each node logged (for assertion messages). */
  get log(): string {
    return this.#nodes.map((n) => `--- ${n.name}\n${n.log}`).join('\n');
  }

  isRunning(i: number): boolean {
    return this.#nodes[i]!.proc !== null;
  }

  /** Starts node `i` (again) on its ports and store; resolves once it is ready. */
  restart(i: number): Promise<void> {
    const node = this.#nodes[i]!;
    if (node.proc) return Promise.reject(new Error(`${node.name} is already running`));
    const routes = this.#nodes
      .filter((n) => n !== node)
      .map((n) => `nats-route://127.0.0.1:${n.clusterPort}`)
      .join(',');
    return new Promise((resolve, reject) => {
      const proc = spawn(
        'nats-server',
        [
          ...['-js', '-a', '127.0.0.1', '-p', String(node.port), '-sd', node.store.path],
          ...['--server_name', node.name, '--cluster_name', this.#name],
          ...['--cluster', `nats://127.0.0.1:${node.clusterPort}`, '--routes', routes],
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      node.proc = proc;
      let isReady = false;
      const runStart = node.log.length;
      node.exited = new Promise((done) =>
        proc.once('exit', (code, signal) => {
          node.proc = null;
          if (!isReady) {
            clearTimeout(timer);
            reject(new Error(`${node.name} exited (${code ?? signal}) before it was ready:\n${node.log}`));
          }
          done();
        }),
      );
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${node.name} was not ready within ${START_TIMEOUT_MS} ms:\n${node.log}`));
      }, START_TIMEOUT_MS);
      proc.stderr.on('data', (chunk: Buffer) => {
        node.log += chunk.toString();
        if (!isReady && node.log.includes('Server is ready', runStart)) {
          isReady = true;
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** SIGKILLs node `i` (a crash: nothing flushed); its store stays for `restart(i)`. */
  async kill(i: number): Promise<void> {
    const node = this.#nodes[i]!;
    if (!node.proc) return;
    node.proc.kill('SIGKILL');
    await node.exited;
  }

  /** Stops every node and removes the stores. */
  async dispose(): Promise<void> {
    await Promise.all(
      this.#nodes.map(async (n) => {
        if (n.proc) await stopProcess(n.proc, n.exited, STOP_TIMEOUT_MS);
        n.store.cleanup();
      }),
    );
  }
}
