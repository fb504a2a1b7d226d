import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type LookupFunction, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import {
  classifyTransportError,
  type TransportFailure,
} from '../../src-main/connectors/http/classify-transport-error.js';
import { createHttpClient } from '../../src-main/connectors/http/create-http-client.js';

/** A TCP server on a free loopback port that hands every socket to `onConnection`; closed after the test. */
async function tcpServer(t: TestContext, onConnection: (socket: Socket) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** A loopback URL on a port nothing listens on: a server was bound there and closed. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/`;
}

/** How a POST to `url` failed, classified; the request must fail without an HTTP answer. */
async function failureOf(
  url: string,
  options: Readonly<{ timeoutMs?: number; connectTimeoutMs?: number; dnsLookup?: LookupFunction }> = {},
): Promise<TransportFailure> {
  const client = createHttpClient({
    agentId: 'test',
    timeoutMs: options.timeoutMs ?? 5_000,
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
  });
  const http = options.dnsLookup === undefined ? client : client.extend({ dnsLookup: options.dnsLookup });
  // got's timers do not hold the process open; with a lookup that never answers nothing else would.
  const keepAlive = setInterval(() => {}, 1000);
  let response;
  try {
    response = await http.post(url, { body: '{"sale":1}', headers: { 'content-type': 'application/json' } });
  } catch (error) {
    const failure = classifyTransportError(error);
    assert.ok(failure !== null, `not a transport error: ${String(error)}`);
    return failure;
  } finally {
    clearInterval(keepAlive);
  }
  assert.fail(`expected no answer, got HTTP ${response.statusCode}`);
}

/** Reads until the end of the request's headers and its body (small: one chunk after the blank line). */
function onRequestRead(socket: Socket, then: () => void): void {
  let seen = '';
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.toString('latin1');
    if (seen.includes('\r\n\r\n') && seen.endsWith('{"sale":1}')) then();
  });
}

test('a connection refused (nothing listens on the port) is not_sent', async () => {
  const failure = await failureOf(await closedPortUrl());
  assert.equal(failure.kind, 'not_sent');
  assert.equal(failure.code, 'ECONNREFUSED');
  assert.equal(failure.timeout, null);
});

test('a server that reads the request and then destroys the socket leaves it maybe_sent', async (t) => {
  const url = await tcpServer(t, (socket) => onRequestRead(socket, () => socket.destroy()));
  const failure = await failureOf(url);
  assert.equal(failure.kind, 'maybe_sent');
  assert.equal(failure.timeout, null);
});

test('a server that resets the connection after reading the request leaves it maybe_sent', async (t) => {
  const url = await tcpServer(t, (socket) => onRequestRead(socket, () => socket.resetAndDestroy()));
  const failure = await failureOf(url);
  assert.equal(failure.kind, 'maybe_sent');
  assert.equal(failure.code, 'ECONNRESET');
});

test('a server that never answers, past the request timeout, leaves it maybe_sent', async (t) => {
  const url = await tcpServer(t, () => {});
  const failure = await failureOf(url, { timeoutMs: 200 });
  assert.equal(failure.kind, 'maybe_sent');
  assert.equal(failure.code, 'ETIMEDOUT');
  assert.equal(failure.timeout, 'request');
});

test('a DNS failure is not_sent', async () => {
  const failure = await failureOf('http://shop.backroom.invalid/', {
    dnsLookup: ((hostname: string, _options: unknown, callback: (error: Error) => void) => {
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    }) as LookupFunction,
  });
  assert.equal(failure.kind, 'not_sent');
  assert.equal(failure.code, 'ENOTFOUND');
});

test('a DNS lookup that times out is not_sent', async () => {
  const failure = await failureOf('http://shop.backroom.invalid/', {
    connectTimeoutMs: 100,
    dnsLookup: () => {},
  });
  assert.equal(failure.kind, 'not_sent');
  assert.equal(failure.timeout, 'lookup');
});

test('a request timeout that fires before the connection was made is not_sent', async () => {
  // The lookup never answers and its own timeout is longer: the request's timer fires first, before any byte
  // could leave.
  const failure = await failureOf('http://shop.backroom.invalid/', {
    timeoutMs: 100,
    connectTimeoutMs: 5_000,
    dnsLookup: () => {},
  });
  assert.equal(failure.kind, 'not_sent');
  assert.equal(failure.timeout, 'request');
});

test('an error that is not a transport failure is not classified', () => {
  assert.equal(classifyTransportError(new Error('a bug')), null);
  assert.equal(classifyTransportError('text'), null);
});
