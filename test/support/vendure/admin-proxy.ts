import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What the proxy does with the next requests whose GraphQL document matches `operation`. */
export type ProxyFault =
  | Readonly<{ kind: 'status'; status: number; headers?: Record<string, string>; body?: string }>
  /** Forwards the request to Vendure (so it takes effect) and never answers: a timeout after sending. */
  | Readonly<{ kind: 'swallow' }>;

type Seen = { operation: string; token: string | null };

/**
 * A pass-through proxy on 127.0.0.1 in front of a real Vendure, for what a healthy server will not do on cue:
 * it records every request (the operation and the bearer token), remembers the session tokens Vendure hands
 * out, and can inject a fault for requests whose document contains a given operation name. Everything else
 * is Vendure's own answer.
 *
 * @example
 * const proxy = await AdminProxy.start(vendure.url);
 * t.after(() => proxy.stop());
 * proxy.inject('BackroomSetStock', { kind: 'swallow' });
 */
export class AdminProxy {
  readonly #server: Server;
  readonly #upstream: string;
  readonly #faults: { operation: string; fault: ProxyFault; times: number }[] = [];
  readonly #open = new Set<ServerResponse>();
  /** Requests seen, in order. */
  readonly seen: Seen[] = [];
  /** Session tokens Vendure returned (`vendure-auth-token`), in order. */
  readonly tokens: string[] = [];

  private constructor(server: Server, upstream: string) {
    this.#server = server;
    this.#upstream = upstream;
  }

  static start(upstream: string): Promise<AdminProxy> {
    return new Promise((resolve, reject) => {
      let proxy: AdminProxy | undefined = undefined;
      const server = createServer((req, res) => {
        proxy!.#handle(req, res).catch(() => {
          if (!res.headersSent) res.writeHead(502).end();
        });
      });
      proxy = new AdminProxy(server, upstream);
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(proxy));
    });
  }

  /** `http://127.0.0.1:<port>`: use as the destination's `url`. */
  get url(): string {
    const address = this.#server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }

  /** How many logins went through. */
  get logins(): number {
    return this.seen.filter((s) => s.operation === 'BackroomLogin').length;
  }

  /** Applies `fault` to the next `times` requests whose document names `operation`. */
  inject(operation: string, fault: ProxyFault, times = 1): void {
    this.#faults.push({ operation, fault, times });
  }

  async stop(): Promise<void> {
    for (const res of this.#open) res.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const query = (JSON.parse(body) as { query?: string }).query ?? '';
    const operation = /(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? 'anonymous';
    const auth = req.headers.authorization;
    this.seen.push({ operation, token: auth?.startsWith('Bearer ') ? auth.slice(7) : null });
    const index = this.#faults.findIndex((f) => f.operation === operation && f.times > 0);
    const fault = index >= 0 ? this.#faults[index]!.fault : null;
    if (index >= 0) this.#faults[index]!.times -= 1;
    if (fault?.kind === 'status') {
      res
        .writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
        .end(fault.body ?? '{}');
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const name of ['authorization', 'vendure-token'])
      if (typeof req.headers[name] === 'string') headers[name] = req.headers[name];
    const upstream = await fetch(`${this.#upstream}${req.url ?? '/'}`, { method: 'POST', headers, body });
    const text = await upstream.text();
    const token = upstream.headers.get('vendure-auth-token');
    if (token !== null) this.tokens.push(token);
    if (fault?.kind === 'swallow') {
      // Vendure applied it; the caller never hears (its own timeout ends the wait; stop() closes the socket).
      this.#open.add(res);
      return;
    }
    res
      .writeHead(upstream.status, {
        'content-type': 'application/json',
        ...(token === null ? {} : { 'vendure-auth-token': token }),
      })
      .end(text);
  }
}
