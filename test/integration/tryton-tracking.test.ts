import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { z } from 'zod';
import type { PosEvent } from '../../shared/events.js';
import type { LedgerItem } from '../../src-main/connectors/port/connector.js';
import { createTrytonConnector } from '../../src-main/connectors/tryton/tryton-connector.js';
import { connectorContext } from '../support/connector-context.js';
import { makeEvent, startAgent, tempDir, testConfig } from '../support/harness.js';
import { missingBinary } from '../support/require-binary.js';
import { startTrytonServer, type TrytonServer } from '../support/tryton-server.js';

/*
 * The warehouse's shipment of a marketplace order, in Tryton: its customer shipment carries the carrier and the
 * tracking number (a note on the shipment, tryton-tracking.ts), against a real trytond 6.0.
 */

const skip = missingBinary('trytond');
const DESTINATION = 'erp';

function trytonDestination(server: TrytonServer) {
  return {
    id: DESTINATION,
    type: 'tryton' as const,
    url: server.url,
    database: server.database,
    username: server.username,
    password: server.password,
    customerParty: 'WALKIN',
    supplierParty: 'SUPPLIER',
  };
}

async function startServer(t: { after: (fn: () => unknown) => void }): Promise<TrytonServer> {
  const server = await startTrytonServer();
  t.after(() => server.stop());
  return server;
}

/** The customer shipments with this reference, with their state and the text of their notes. */
async function shipmentsWithNotes(server: TrytonServer, reference: string) {
  const signal = AbortSignal.timeout(30_000);
  const shipments = await server.rpc.call(
    z.array(z.object({ id: z.number(), state: z.string() })),
    'stock.shipment.out',
    'search_read',
    [[['reference', '=', reference]], 0, null, null, ['state']],
    { signal, isWrite: false },
  );
  const out = [];
  for (const shipment of shipments) {
    const notes = await server.rpc.call(
      z.array(z.object({ message: z.string().nullable() })),
      'ir.note',
      'search_read',
      [[['resource', '=', `stock.shipment.out,${shipment.id}`]], 0, null, null, ['message']],
      { signal, isWrite: false },
    );
    out.push({ state: shipment.state, notes: notes.map((n) => n.message) });
  }
  return out;
}

test(
  'a marketplace order shipped with tracking: Tryton’s customer shipment is done and carries carrier, tracking number and page',
  { skip, timeout: 300_000 },
  async (t) => {
    const server = await startServer(t);
    const dir = tempDir('backroom-tryton-tracking-');
    t.after(dir.cleanup);
    const agent = await startAgent(
      testConfig(dir.path, {
        destinations: [trytonDestination(server)],
        delivery: { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 100, maxAgeHours: 1 },
      }),
    );
    t.after(() => agent.stop());
    for (const event of [
      { id: 'in-tracking', type: 'receipt', lines: [{ sku: 'SKU-1', qty: 5 }] },
      { id: 'reserve-1001', type: 'reserve', reference: 'O-1001', lines: [{ sku: 'SKU-1', qty: 2 }] },
      {
        id: 'ship-1001',
        type: 'ship',
        reference: 'O-1001',
        lines: [{ sku: 'SKU-1', qty: 2 }],
        carrier: 'DHL',
        trackingNumber: 'JJD000390007',
        trackingUrl: 'https://track.carrier.test/p/JJD000390007',
      },
    ]) {
      const res = await agent.post(makeEvent(event));
      assert.equal(res.body.results[0]!.status, 'accepted', JSON.stringify(res.body));
    }
    const delivered = () =>
      (
        agent.agent.db.sqlite
          .prepare("SELECT COUNT(*) AS n FROM outbox WHERE destination_id = ? AND state = 'delivered'")
          .get(DESTINATION) as { n: number }
      ).n;
    // Bounded: 60 s at most.
    for (let i = 0; i < 600 && delivered() < 3; i += 1) await sleep(100);
    assert.equal(delivered(), 3, 'receipt, reservation and shipment delivered');

    const agentId = testConfig(dir.path).agentId;
    assert.deepEqual(await shipmentsWithNotes(server, `${agentId}:pos-1:ship-1001`), [
      {
        state: 'done',
        notes: [
          'Shipped with DHL, tracking number JJD000390007 (https://track.carrier.test/p/JJD000390007), order O-1001',
        ],
      },
    ]);
  },
);

test(
  'the tracking is noted once: a resend of the same shipment, alone or in a batch, adds no second note; a shipment without tracking gets none',
  { skip, timeout: 300_000 },
  async (t) => {
    const server = await startServer(t);
    const ctx = connectorContext(DESTINATION);
    t.after(ctx.cleanup);
    const { connector } = createTrytonConnector(
      { ...trytonDestination(server), postingMode: 'per_event', eventTypes: undefined, locations: undefined },
      ctx.context,
    );
    if (connector.mode !== 'ledger') throw new Error('the Tryton connector is a ledger connector');
    const signal = AbortSignal.timeout(120_000);
    let seq = 0;
    const item = (id: string, extra: Record<string, unknown>): LedgerItem => {
      seq += 1;
      return {
        outboxId: seq,
        seq,
        source: 'wms',
        idempotencyKey: `store-test:wms:${id}`,
        event: makeEvent({ id, type: 'ship', lines: [{ sku: 'SKU-2', qty: 1 }], ...extra }) as PosEvent,
        receivedAt: Date.now(),
        attempts: 0,
      };
    };
    const one = item('ship-a', { reference: 'O-A', carrier: 'UPS', trackingNumber: '1Z999AA10123456784' });
    const two = item('ship-b', { reference: 'O-B', carrier: 'Own van', trackingNumber: 'VAN-0002' });
    const bare = item('ship-c', { reference: 'O-C' });

    const first = await connector.send([one], signal);
    assert.deepEqual(first.results, [{ kind: 'delivered' }]);
    // A batch (one search, one create, one note call) with the first one again.
    const batch = await connector.send([one, two, bare], signal);
    assert.deepEqual(
      batch.results.map((r) => r.kind),
      ['already_applied', 'delivered', 'delivered'],
    );
    const again = await connector.send([two], signal);
    assert.deepEqual(again.results, [{ kind: 'already_applied' }]);

    assert.deepEqual(await shipmentsWithNotes(server, one.idempotencyKey), [
      { state: 'done', notes: ['Shipped with UPS, tracking number 1Z999AA10123456784, order O-A'] },
    ]);
    assert.deepEqual(await shipmentsWithNotes(server, two.idempotencyKey), [
      { state: 'done', notes: ['Shipped with Own van, tracking number VAN-0002, order O-B'] },
    ]);
    assert.deepEqual(await shipmentsWithNotes(server, bare.idempotencyKey), [{ state: 'done', notes: [] }]);
  },
);
