import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MASK, maskSecrets } from '../../src-main/server/mask-secrets.js';

test('every secret of a destination is masked, whatever its type, and other settings are kept', () => {
  const masked = maskSecrets({
    url: 'https://shop.example.test',
    accessToken: 'shpat_0123',
    secret: 's3cr3t',
    password: 'pw',
    clientSecret: 'cs',
    refreshToken: 'rt',
    token: 'nats-token',
    credentials: '-----BEGIN NATS USER JWT-----',
    tls: { ca: '-----BEGIN CERTIFICATE-----', key: '-----BEGIN PRIVATE KEY-----', handshakeFirst: false },
    batchSize: 100,
    locationNames: { S1: 'Main street' },
  });
  assert.deepEqual(masked, {
    url: 'https://shop.example.test',
    accessToken: MASK,
    secret: MASK,
    password: MASK,
    clientSecret: MASK,
    refreshToken: MASK,
    token: MASK,
    credentials: MASK,
    tls: { ca: '-----BEGIN CERTIFICATE-----', key: MASK, handshakeFirst: false },
    batchSize: 100,
    locationNames: { S1: 'Main street' },
  });
});

test('a password inside a URL is masked and the rest of the URL kept', () => {
  assert.deepEqual(
    maskSecrets({ servers: ['nats://store:hunter2@127.0.0.1:4222', 'nats://127.0.0.1:4223'] }),
    {
      servers: [`nats://store:${MASK}@127.0.0.1:4222`, 'nats://127.0.0.1:4223'],
    },
  );
  assert.equal(
    maskSecrets('https://shpat_0123@shop.example.test/admin'),
    `https://${MASK}@shop.example.test/admin`,
  );
});

test('a key that only looks like a secret (apiKey, private...) is masked too', () => {
  assert.deepEqual(maskSecrets({ nested: { apiKey: 'k', privateKey: 'p', name: 'x' } }), {
    nested: { apiKey: MASK, privateKey: MASK, name: 'x' },
  });
});
