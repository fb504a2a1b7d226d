import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ConfigInput, ResolvedConfig } from '../../shared/config.js';
import { AgentError, ConfigError } from '../../src-main/platform/errors.js';
import { loadConfig, parseConfig } from '../../src-main/agent/config-loader.js';
import { tempDir, writeConfig } from '../support/harness.js';

const BASE = '/etc/backroom';

function minimal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    agentId: 'store-042',
    dataDir: './data',
    sources: [{ id: 'pos-1', token: 'a-long-random-secret' }],
    locations: [{ id: 'S042', name: 'Main St' }],
    ...overrides,
  } satisfies ConfigInput & Record<string, unknown>;
}

const webhook = (overrides: Record<string, unknown> = {}) => ({
  id: 'hq',
  type: 'webhook',
  url: 'http://127.0.0.1:9000/events',
  secret: 'hmac-secret',
  ...overrides,
});

/** Parses `json` expecting a ConfigError; returns its problem lines. */
function problemsOf(json: unknown, env: NodeJS.ProcessEnv = {}, baseDir = BASE): string[] {
  let caught: unknown;
  try {
    parseConfig(json, baseDir, env);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.reason, 'invalid_config');
  const problems = caught.details.problems as string[];
  assert.ok(Array.isArray(problems) && problems.length > 0);
  for (const p of problems) assert.ok(caught.message.includes(p), `the message lists "${p}"`);
  return problems;
}

function parsed(json: unknown, env: NodeJS.ProcessEnv = {}, baseDir = BASE): ResolvedConfig {
  return parseConfig(json, baseDir, env);
}

describe('unknown keys', () => {
  test('an unknown top-level key is rejected naming it', () => {
    assert.deepEqual(problemsOf(minimal({ sorces: [] })), ['(top level): unknown key "sorces"']);
  });

  test('an unknown nested key is rejected naming its path', () => {
    assert.deepEqual(problemsOf(minimal({ listen: { host: '0.0.0.0', prot: 80 } })), [
      'listen: unknown key "prot"',
    ]);
  });

  test('an unknown key in a destination is rejected naming the destination index', () => {
    assert.deepEqual(problemsOf(minimal({ destinations: [webhook(), webhook({ id: 'b', secrett: 'x' })] })), [
      'destinations.1: unknown key "secrett"',
    ]);
  });

  test('an unknown key in a source is rejected naming the source index', () => {
    assert.deepEqual(problemsOf(minimal({ sources: [{ id: 'pos-1', token: 't', name: 'Till 1' }] })), [
      'sources.0: unknown key "name"',
    ]);
  });

  test('a key that belongs to another destination type is rejected', () => {
    const problems = problemsOf(minimal({ destinations: [webhook({ accessToken: 'x' })] }));
    assert.deepEqual(problems, ['destinations.0: unknown key "accessToken"']);
  });
});

describe('validation errors name their path', () => {
  test('a missing required key is named', () => {
    const rest = minimal();
    delete rest.agentId;
    assert.deepEqual(
      problemsOf(rest).map((p) => p.split(':')[0]),
      ['agentId'],
    );
  });

  test('every problem is listed, not only the first', () => {
    const problems = problemsOf(minimal({ agentId: '', listen: { port: 70000 }, locations: [] }));
    const paths = new Set(problems.map((p) => p.split(':')[0]));
    assert.deepEqual([...paths].sort(), ['agentId', 'listen.port', 'locations']);
  });

  test('an unknown destination type names destinations.N.type and the known types', () => {
    const [problem] = problemsOf(minimal({ destinations: [{ id: 'x', type: 'ftp' }] }));
    assert.match(problem!, /^destinations\.0\.type: /);
    assert.match(problem!, /webhook/);
  });

  test('a destination URL that is not http(s) is rejected at its path', () => {
    const [problem] = problemsOf(minimal({ destinations: [webhook({ url: 'ftp://example.com/x' })] }));
    assert.match(problem!, /^destinations\.0\.url: /);
  });

  test('an id with characters outside letters, digits, ".", "_" and "-" is rejected', () => {
    const [problem] = problemsOf(minimal({ sources: [{ id: 'pos 1', token: 't' }] }));
    assert.match(problem!, /^sources\.0\.id: /);
  });

  test('a daily close time or day end that is no time of day is refused naming its key; valid ones are kept', () => {
    const tryton = (dayClose: Record<string, unknown>) => ({
      id: 'erp',
      type: 'tryton',
      url: 'http://127.0.0.1:8000/',
      database: 'tryton',
      username: 'admin',
      password: 'admin',
      postingMode: 'daily_statement',
      dayClose,
    });
    const problems = problemsOf(minimal({ destinations: [tryton({ at: '24:00', dayEndsAt: '4am' })] }));
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      ['destinations.0.dayClose.at', 'destinations.0.dayClose.dayEndsAt'],
    );
    assert.match(problems[1]!, /must be a local time "HH:MM"/);
    const ok = parsed(minimal({ destinations: [tryton({ at: '02:30', dayEndsAt: '04:00' })] }));
    assert.deepEqual(ok.destinations[0]!.type === 'tryton' && ok.destinations[0]!.dayClose, {
      at: '02:30',
      dayEndsAt: '04:00',
    });
  });

  test('a channel a destination names must exist', () => {
    const shopify = {
      id: 'shop',
      type: 'shopify',
      url: 'https://shop.example.com',
      accessToken: 'x',
      channel: 'web',
    };
    const problems = problemsOf(minimal({ destinations: [shopify] }));
    assert.deepEqual(problems, ['destinations.0.channel: names no channel in "channels" ("web")']);
    assert.equal(
      parsed(minimal({ destinations: [shopify], channels: [{ id: 'web' }] })).destinations[0]!.id,
      'shop',
    );
  });
});

describe('duplicate ids', () => {
  test('two sources with the same id are rejected at the second one', () => {
    const problems = problemsOf(
      minimal({
        sources: [
          { id: 'pos-1', token: 'a' },
          { id: 'pos-2', token: 'b' },
          { id: 'pos-1', token: 'c' },
        ],
      }),
    );
    assert.deepEqual(problems, ['sources.2.id: duplicate id "pos-1"']);
  });

  test('two locations with the same id are rejected', () => {
    const problems = problemsOf(
      minimal({
        locations: [
          { id: 'S1', name: 'a' },
          { id: 'S1', name: 'b' },
        ],
      }),
    );
    assert.deepEqual(problems, ['locations.1.id: duplicate id "S1"']);
  });

  test('two destinations with the same id are rejected, even of different types', () => {
    const nats = { id: 'hq', type: 'nats', servers: ['nats://127.0.0.1:4222'], subject: 's', stream: 'S' };
    assert.deepEqual(problemsOf(minimal({ destinations: [webhook(), nats] })), [
      'destinations.1.id: duplicate id "hq"',
    ]);
  });

  test('two channels with the same id are rejected', () => {
    assert.deepEqual(problemsOf(minimal({ channels: [{ id: 'web' }, { id: 'web', buffer: 2 }] })), [
      'channels.1.id: duplicate id "web"',
    ]);
  });
});

describe('drop folders', () => {
  test('a drop folder naming an unknown source is rejected at dropFolders.N.source', () => {
    const problems = problemsOf(
      minimal({
        dropFolders: [
          { path: './in', source: 'pos-1' },
          { path: './in2', source: 'legacy' },
        ],
      }),
    );
    assert.deepEqual(problems, ['dropFolders.1.source: names no source in "sources" ("legacy")']);
  });

  test('a drop folder naming a configured source is accepted with its path resolved', () => {
    const config = parsed(minimal({ dropFolders: [{ path: 'exports/in', source: 'pos-1' }] }));
    assert.equal(config.dropFolders[0]!.path, join(BASE, 'exports/in'));
    assert.equal(config.dropFolders[0]!.source, 'pos-1');
  });
});

describe('secrets', () => {
  test('an inline secret is used as it is', () => {
    assert.equal(parsed(minimal()).sources[0]!.token, 'a-long-random-secret');
  });

  test('a secret from an environment variable is read', () => {
    const config = parsed(
      minimal({
        sources: [{ id: 'pos-1', token: { env: 'POS1_TOKEN' } }],
        destinations: [webhook({ secret: { env: 'HQ_SECRET' } })],
      }),
      { POS1_TOKEN: 'from-env', HQ_SECRET: 'hq-from-env' },
    );
    assert.equal(config.sources[0]!.token, 'from-env');
    const destination = config.destinations[0]!;
    assert.ok(destination.type === 'webhook');
    assert.equal(destination.secret, 'hq-from-env');
  });

  test('a missing environment variable is an error naming the field and the variable', () => {
    assert.deepEqual(problemsOf(minimal({ sources: [{ id: 'pos-1', token: { env: 'POS1_TOKEN' } }] })), [
      'sources.0.token: environment variable POS1_TOKEN is not set',
    ]);
  });

  test('an empty environment variable is an error too', () => {
    const problems = problemsOf(minimal({ destinations: [webhook({ secret: { env: 'HQ_SECRET' } })] }), {
      HQ_SECRET: '',
    });
    assert.deepEqual(problems, ['destinations.0.secret: environment variable HQ_SECRET is not set']);
  });

  test('a secret file is read, relative to the config folder, without its final newline', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    mkdirSync(join(dir.path, 'secrets'));
    writeFileSync(join(dir.path, 'secrets/pos1'), 'from-file\n');
    writeFileSync(join(dir.path, 'secrets/hq'), 'hq-from-file\r\n');
    const config = parsed(
      minimal({
        sources: [{ id: 'pos-1', token: { file: 'secrets/pos1' } }],
        destinations: [webhook({ secret: { file: join(dir.path, 'secrets/hq') } })],
      }),
      {},
      dir.path,
    );
    assert.equal(config.sources[0]!.token, 'from-file');
    const destination = config.destinations[0]!;
    assert.ok(destination.type === 'webhook');
    assert.equal(destination.secret, 'hq-from-file');
  });

  test('an unreadable secret file is an error naming the field and the resolved file path', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const problems = problemsOf(
      minimal({ destinations: [webhook({ secret: { file: 'missing/hq.secret' } })] }),
      {},
      dir.path,
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^destinations\.0\.secret: cannot read secret file /);
    assert.ok(problems[0]!.includes(join(dir.path, 'missing/hq.secret')), problems[0]);
  });

  test('an empty secret file is an error naming the field', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    writeFileSync(join(dir.path, 'empty'), '');
    const [problem] = problemsOf(
      minimal({ sources: [{ id: 'pos-1', token: { file: 'empty' } }] }),
      {},
      dir.path,
    );
    assert.match(problem!, /^sources\.0\.token: secret file .*empty is empty$/);
  });

  test('every secret problem is listed at once', () => {
    const problems = problemsOf(
      minimal({
        sources: [{ id: 'pos-1', token: { env: 'A' } }],
        destinations: [webhook({ secret: { env: 'B' } })],
      }),
    );
    assert.deepEqual(problems, [
      'sources.0.token: environment variable A is not set',
      'destinations.0.secret: environment variable B is not set',
    ]);
  });

  test('a secret object with both env and file is rejected at its path', () => {
    const [problem] = problemsOf(minimal({ sources: [{ id: 'pos-1', token: { env: 'A', file: 'b' } }] }), {
      A: 'x',
    });
    assert.match(problem!, /^sources\.0\.token: /);
  });

  test('every secret key of every destination type is resolved', () => {
    const env = { P: 'p', T: 't', C: 'c', R: 'r' };
    const config = parsed(
      minimal({
        destinations: [
          {
            id: 'erp',
            type: 'tryton',
            url: 'http://127.0.0.1:8000',
            database: 'db',
            username: 'u',
            password: { env: 'P' },
          },
          { id: 'shop', type: 'shopify', url: 'https://s.example.com', accessToken: { env: 'T' } },
          {
            id: 'amz',
            type: 'amazon',
            endpoint: 'https://a.example.com',
            tokenUrl: 'https://t.example.com',
            sellerId: 's',
            marketplaceId: 'm',
            clientId: 'c',
            clientSecret: { env: 'C' },
            refreshToken: { env: 'R' },
          },
          { id: 'ven', type: 'vendure', url: 'http://v.example.com', username: 'u', password: { env: 'P' } },
        ],
      }),
      env,
    );
    assert.deepEqual(
      config.destinations.map((d) => {
        switch (d.type) {
          case 'tryton':
          case 'vendure':
            return [d.password];
          case 'shopify':
            return [d.accessToken];
          case 'amazon':
            return [d.clientSecret, d.refreshToken];
          case 'webhook':
          case 'level_webhook':
          case 'nats':
            return [];
        }
      }),
      [['p'], ['t'], ['c', 'r'], ['p']],
    );
  });
});

describe('paths', () => {
  test('relative dataDir, catalog and drop folder paths are resolved against the config folder', () => {
    const config = parsed(
      minimal({
        dataDir: 'data',
        catalog: { path: '../shared/items.csv' },
        dropFolders: [{ path: './exports', source: 'pos-1' }],
      }),
    );
    assert.equal(config.dataDir, join(BASE, 'data'));
    assert.equal(config.catalog?.path, '/etc/shared/items.csv');
    assert.equal(config.dropFolders[0]!.path, join(BASE, 'exports'));
  });

  test('absolute paths are kept as they are', () => {
    const config = parsed(minimal({ dataDir: '/var/lib/backroom', catalog: { path: '/srv/items.csv' } }));
    assert.equal(config.dataDir, '/var/lib/backroom');
    assert.equal(config.catalog?.path, '/srv/items.csv');
  });

  test('loadConfig resolves relative paths against the config file folder, not the working directory', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    mkdirSync(join(dir.path, 'etc'));
    writeFileSync(join(dir.path, 'etc/token'), 'tok\n');
    const file = writeConfig(
      join(dir.path, 'etc'),
      minimal({ dataDir: '../data', sources: [{ id: 'pos-1', token: { file: 'token' } }] }),
    );
    const config = loadConfig(file, {});
    assert.notEqual(process.cwd(), join(dir.path, 'etc'));
    assert.equal(config.dataDir, join(dir.path, 'data'));
    assert.equal(config.sources[0]!.token, 'tok');
  });
});

describe('loadConfig', () => {
  test('a missing file is a ConfigError naming the file', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const file = join(dir.path, 'nope.json');
    assert.throws(
      () => loadConfig(file, {}),
      (error: unknown) => error instanceof ConfigError && error.message.includes(file),
    );
  });

  test('a file that is not JSON is a ConfigError naming the file', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const file = join(dir.path, 'config.json');
    writeFileSync(file, '{ "agentId": "a", }');
    assert.throws(
      () => loadConfig(file, {}),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes(file) && /not valid JSON/.test(error.message),
    );
  });

  test('a validation error names the file and the field', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const file = writeConfig(dir.path, minimal({ listen: { port: 'eighty' } }));
    assert.throws(
      () => loadConfig(file, {}),
      (error: unknown) =>
        error instanceof AgentError &&
        error.reason === 'invalid_config' &&
        error.message.includes(file) &&
        error.message.includes('listen.port:'),
    );
  });

  test('a valid file loads', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const config = loadConfig(writeConfig(dir.path, minimal()), {});
    assert.equal(config.agentId, 'store-042');
  });
});

describe('defaults', () => {
  test('a minimal config gets the documented defaults', () => {
    const config = parsed(minimal());
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 7420 });
    assert.deepEqual(config.stock, { safetyStock: 0, safetyStockBySku: {} });
    assert.deepEqual(config.channels, []);
    assert.deepEqual(config.destinations, []);
    assert.deepEqual(config.dropFolders, []);
    assert.deepEqual(config.ingest, { maxBodyBytes: 5 * 1024 * 1024 });
    assert.equal(config.catalog, undefined);
  });

  test('a partial listen block keeps the default of the key left out', () => {
    assert.deepEqual(parsed(minimal({ listen: { port: 8080 } })).listen, { host: '127.0.0.1', port: 8080 });
  });

  test('nested defaults: webhook batch size 1, Shopify API version, drop folder stability time, channel buffer', () => {
    const config = parsed(
      minimal({
        destinations: [
          webhook(),
          { id: 'shop', type: 'shopify', url: 'https://s.example.com', accessToken: 'x', channel: 'web' },
        ],
        channels: [{ id: 'web' }],
        dropFolders: [{ path: 'in', source: 'pos-1' }],
      }),
    );
    const [hq, shop] = config.destinations;
    assert.ok(hq?.type === 'webhook' && shop?.type === 'shopify');
    assert.equal(hq.batchSize, 1);
    assert.equal(hq.eventTypes, undefined);
    assert.equal(shop.apiVersion, '2026-10');
    assert.equal(config.dropFolders[0]!.stableMs, 2000);
    assert.equal(config.channels[0]!.buffer, 0);
  });
});

test('two sources sharing one token is a config error naming the second', () => {
  assert.throws(
    () =>
      parseConfig(
        {
          agentId: 'a',
          dataDir: './d',
          sources: [
            { id: 'p1', token: 'same-token' },
            { id: 'p2', token: 'same-token' },
          ],
          locations: [{ id: 'S1', name: 'one' }],
        },
        '/tmp',
      ),
    /sources\.1\.token: is the same as sources\.0\.token/,
  );
});

describe('NATS TLS', () => {
  const nats = (tls: unknown) =>
    minimal({
      destinations: [
        { id: 'fleet', type: 'nats', servers: ['tls://nats.central:4222'], subject: 'b.e', stream: 'B', tls },
      ],
    });

  test('the CA, client certificate and key are read like secrets (from files, relative to the config folder)', (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    writeFileSync(join(dir.path, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nCA\n');
    writeFileSync(join(dir.path, 'store.key'), '-----BEGIN PRIVATE KEY-----\nK\n');
    const config = parsed(
      nats({ ca: { file: 'ca.pem' }, cert: '-----BEGIN CERTIFICATE-----\nC', key: { file: 'store.key' } }),
      {},
      dir.path,
    );
    const destination = config.destinations[0]!;
    assert.ok(destination.type === 'nats');
    assert.deepEqual(destination.tls, {
      ca: '-----BEGIN CERTIFICATE-----\nCA',
      cert: '-----BEGIN CERTIFICATE-----\nC',
      key: '-----BEGIN PRIVATE KEY-----\nK',
      handshakeFirst: false,
    });
  });

  test('a client certificate without its key, an unreadable CA file or an unknown key is refused, naming it', () => {
    assert.deepEqual(problemsOf(nats({ cert: 'PEM' })), [
      'destinations.0.tls.key: cert and key go together: a client certificate needs its key, and a key its certificate',
    ]);
    assert.match(
      problemsOf(nats({ ca: { file: '/nowhere/ca.pem' } })).join('\n'),
      /^destinations\.0\.tls\.ca: cannot read secret file \/nowhere\/ca\.pem: ENOENT$/,
    );
    assert.match(problemsOf(nats({ caFile: 'ca.pem' })).join('\n'), /destinations\.0\.tls.*caFile/);
  });
});
