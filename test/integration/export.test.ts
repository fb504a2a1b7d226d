import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { decryptBundle, encryptBundle, type UnsyncedBundle } from '../../src-main/agent/support-bundle.js';
import { FaultSink } from '../simulators/fault-sink.js';
import {
  makeEvent,
  runBackroom,
  startAgent,
  tempDir,
  testConfig,
  TOKEN,
  writeConfig,
} from '../support/harness.js';

const SECRET = 'webhook-secret-0123456789';
const PASSPHRASE = 'correct horse battery staple';

describe('backroom export --unsynced', () => {
  test('writes an encrypted bundle of what is not delivered everywhere, which --decrypt reads back; a wrong passphrase fails clearly', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const sink = await FaultSink.start({ secret: SECRET, rejectWhen: (e) => e['id'] === 'bad' });
    t.after(() => sink.stop());
    const config = testConfig(join(dir.path, 'data'), {
      destinations: [{ id: 'hq', type: 'webhook', url: `${sink.url}/events`, secret: SECRET }],
    });
    const agent = await startAgent(config);
    t.after(() => agent.stop());
    const posted = await agent.post({
      events: [
        makeEvent({ id: 'ok1' }),
        makeEvent({ id: 'bad', lines: [{ sku: 'SKU-9', qty: 2 }] }),
        makeEvent({ id: 'ok2' }),
        makeEvent({ id: 'ghost', location: 'S9' }),
      ],
    });
    assert.ok(posted.body.results.every((r) => r.status === 'accepted'));
    const open = agent.agent.db.sqlite.prepare(
      "SELECT COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'in_flight')",
    );
    for (let i = 0; (open.get() as { n: number }).n > 0; i += 1) {
      assert.ok(i < 500, 'the outbox drained');
      await sleep(20);
    }

    // Exported while the agent runs.
    const configFile = writeConfig(dir.path, config);
    const bundleFile = join(dir.path, 'support.bundle');
    const env = { BUNDLE_PASSPHRASE: PASSPHRASE };
    const exported = await runBackroom(
      [
        'export',
        '--config',
        configFile,
        '--unsynced',
        '--out',
        bundleFile,
        '--passphrase-env',
        'BUNDLE_PASSPHRASE',
      ],
      { env },
    );
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /1 unsynced event\(s\)/);
    assert.equal(statSync(bundleFile).mode & 0o777, 0o600, 'readable by its owner only');
    const raw = readFileSync(bundleFile, 'utf8');
    assert.ok(
      !raw.includes('SKU-9') && !raw.includes('store-test'),
      'nothing readable without the passphrase',
    );

    const passFile = join(dir.path, 'pass.txt');
    writeFileSync(passFile, `${PASSPHRASE}\n`);
    const decrypted = await runBackroom(['export', '--decrypt', bundleFile, '--passphrase-file', passFile]);
    assert.equal(decrypted.code, 0, decrypted.stderr);
    const bundle = JSON.parse(decrypted.stdout) as UnsyncedBundle;
    assert.equal(bundle.kind, 'backroom-unsynced');
    assert.equal(bundle.agentId, 'store-test');
    assert.equal(bundle.lastSeq, 4);
    assert.deepEqual(
      bundle.events.map((e) => ({
        id: e.eventId,
        deliveries: e.deliveries.map((d) => [d.destinationId, d.state]),
      })),
      [{ id: 'bad', deliveries: [['hq', 'rejected']] }],
    );
    assert.deepEqual(bundle.events[0]!.event, {
      id: 'bad',
      type: 'sale',
      location: 'S1',
      occurredAt: '2026-11-24T10:15:00+01:00',
      lines: [{ sku: 'SKU-9', qty: 2 }],
    });
    assert.equal(bundle.events[0]!.deliveries[0]!.idempotencyKey, 'store-test:pos-1:bad');
    // Sales from empty stock also raise negative_stock (one per sku and location).
    assert.deepEqual([...new Set(bundle.openExceptions.map((e) => e.kind))].sort(), [
      'delivery_rejected',
      'negative_stock',
      'unknown_location',
    ]);
    assert.ok(
      !decrypted.stdout.includes(SECRET) && !decrypted.stdout.includes(TOKEN),
      'no secrets in the bundle',
    );

    const wrong = await runBackroom(
      ['export', '--decrypt', bundleFile, '--passphrase-env', 'BUNDLE_PASSPHRASE'],
      {
        env: { BUNDLE_PASSPHRASE: 'not it' },
      },
    );
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Cannot decrypt the bundle: the passphrase is wrong/);
    assert.equal(wrong.stdout, '');

    const noPassphrase = await runBackroom([
      'export',
      '--config',
      configFile,
      '--unsynced',
      '--out',
      join(dir.path, 'x'),
    ]);
    assert.equal(noPassphrase.code, 2);
    assert.match(noPassphrase.stderr, /--passphrase-env NAME or --passphrase-file PATH/);
  });

  test('a bundle whose data or header was changed does not decrypt', async () => {
    const text = await encryptBundle({ hello: 'world' }, PASSPHRASE);
    assert.deepEqual(await decryptBundle(text, PASSPHRASE), { hello: 'world' });
    const envelope = JSON.parse(text) as Record<string, unknown> & {
      kdf: Record<string, unknown>;
      data: string;
    };
    const flipped = Buffer.from(envelope.data, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    await assert.rejects(
      decryptBundle(JSON.stringify({ ...envelope, data: flipped.toString('base64') }), PASSPHRASE),
      /passphrase is wrong, or the file was changed/,
    );
    await assert.rejects(
      decryptBundle(JSON.stringify({ ...envelope, kdf: { ...envelope.kdf, p: 2 } }), PASSPHRASE),
      /passphrase is wrong, or the file was changed/,
    );
    await assert.rejects(decryptBundle('{"format":"zip"}', PASSPHRASE), /not a Backroom bundle/);
  });
});
