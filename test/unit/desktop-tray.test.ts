import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import type { StatusResponse } from '../../shared/api.js';
import type { SyncState } from '../../src-main/desktop/sync-state.js';
import { fitTooltip, trayView, WINDOWS_TOOLTIP_MAX } from '../../src-main/desktop/tray-view.js';
import { ROOT } from '../support/harness.js';
import { agentStatus, destinationStatus, type DestinationStatus } from '../support/status-fixtures.js';

const STATES: readonly SyncState[] = ['synced', 'syncing', 'attention', 'offline'];

const destination = (id: string, pending: number, state?: DestinationStatus['state']) =>
  destinationStatus(id, pending, state, 600);
const status = (destinations: DestinationStatus[], openExceptions: StatusResponse['openExceptions'] = []) =>
  agentStatus(destinations, openExceptions, true);

describe('desktop tray: icon, tooltip and menu from the sync state', () => {
  const cases: [string, StatusResponse | null, SyncState][] = [
    ['everything sent', status([destination('hq', 0)]), 'synced'],
    ['items waiting', status([destination('hq', 4)]), 'syncing'],
    ['a destination unreachable', status([destination('hq', 4, 'open')]), 'attention'],
    ['an open exception', status([destination('hq', 0)], [{ kind: 'unknown_sku', count: 1 }]), 'attention'],
    ['no answer from the agent', null, 'offline'],
  ];
  for (const [what, given, state] of cases) {
    test(`${what}: shows the ${state} icon, which exists with its @2x twin`, () => {
      const view = trayView(given, { platform: 'linux' });
      assert.equal(view.state, state);
      assert.equal(view.icon, `assets/tray/tray-${state}.png`);
      assert.ok(existsSync(join(ROOT, view.icon)), view.icon);
      assert.ok(existsSync(join(ROOT, view.icon.replace('.png', '@2x.png'))));
    });
  }

  test('the menu repeats the state first (disabled), then Open and Quit', () => {
    const view = trayView(status([destination('hq', 4, 'open')]), { platform: 'linux' });
    assert.deepEqual(view.menu, [
      { label: 'Needs a look', action: null },
      { label: 'Open Backroom', action: 'open' },
      { label: 'Quit Backroom', action: 'quit' },
    ]);
    assert.match(
      view.tooltip,
      /^Backroom \(store-042\): sending\nhq: 4 waiting, oldest 10 min \(unreachable, retrying\)$/,
    );
  });

  test('while the agent stops, the tray says so and offers neither Open nor a second Quit', () => {
    const view = trayView(status([destination('hq', 4)]), { platform: 'win32', isStopping: true });
    assert.deepEqual(view.menu, [{ label: 'Stopping…', action: null }]);
    assert.equal(view.tooltip, 'Backroom: stopping, finishing what is in flight');
  });

  test('on Windows the tooltip fits 127 characters, keeping whole lines and counting the rest', () => {
    const many = status(
      Array.from({ length: 8 }, (_, i) => destination(`marketplace-${i}`, 100 + i, 'open')),
      [{ kind: 'unknown_sku', count: 3 }],
    );
    const full = trayView(many, { platform: 'linux' }).tooltip;
    assert.ok(full.length > WINDOWS_TOOLTIP_MAX, 'the untrimmed tooltip is long');
    const tip = trayView(many, { platform: 'win32' }).tooltip;
    assert.ok(tip.length <= WINDOWS_TOOLTIP_MAX, `${tip.length} characters`);
    const lines = tip.split('\n');
    assert.equal(lines[0], 'Backroom (store-042): sending');
    assert.match(lines.at(-1)!, /^\+\d+ more$/);
    const hidden = Number(/\d+/.exec(lines.at(-1)!)![0]);
    assert.equal(lines.length - 1 + hidden, full.split('\n').length, 'every line is shown or counted');
    for (const line of lines.slice(0, -1)) assert.ok(full.split('\n').includes(line), `whole line: ${line}`);
  });

  test('fitTooltip leaves short text alone and cuts a single over-long line with an ellipsis', () => {
    assert.equal(fitTooltip('short\ntext', 127), 'short\ntext');
    const cut = fitTooltip('x'.repeat(200), 127);
    assert.equal(cut.length, 127);
    assert.ok(cut.endsWith('…'));
  });
});

/** Reads an 8-bit RGBA PNG independently of the generator: chunks, CRCs checked by zlib's inflate, filters. */
function readPng(file: string): { width: number; height: number; rgba: Uint8Array } {
  const bytes = readFileSync(file);
  assert.deepEqual(
    [...bytes.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    `${file} is a PNG`,
  );
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      assert.deepEqual([...body.subarray(8, 13)], [8, 6, 0, 0, 0], 'RGBA, 8 bits, not interlaced');
    }
    if (type === 'IDAT') idat.push(body);
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  assert.equal(raw.length, height * (stride + 1));
  const rgba = new Uint8Array(height * stride);
  for (let y = 0; y < height; y += 1) {
    const filter = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i += 1) {
      const left = i >= 4 ? rgba[y * stride + i - 4]! : 0;
      const up = y > 0 ? rgba[(y - 1) * stride + i]! : 0;
      const upLeft = i >= 4 && y > 0 ? rgba[(y - 1) * stride + i - 4]! : 0;
      const paeth = () => {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      };
      const predictor = [0, left, up, (left + up) >> 1, filter === 4 ? paeth() : 0][filter]!;
      rgba[y * stride + i] = (raw[y * (stride + 1) + 1 + i]! + predictor) & 0xff;
    }
  }
  return { width, height, rgba };
}

/** The mean colour of the opaque pixels. */
function meanOpaqueColour(rgba: Uint8Array): [number, number, number] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i + 3] !== 255) continue;
    for (let c = 0; c < 3; c += 1) sum[c]! += rgba[i + c]!;
    n += 1;
  }
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

describe('desktop icons (build/generate-icons.mjs)', () => {
  test('the committed icons are exactly what the generator draws', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'build/generate-icons.mjs'), '--check'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
  });

  test('tray icons are 16 px with 32 px @2x twins, transparent outside their shape', () => {
    for (const state of STATES) {
      for (const [suffix, size] of [
        ['', 16],
        ['@2x', 32],
      ] as const) {
        const png = readPng(join(ROOT, `assets/tray/tray-${state}${suffix}.png`));
        assert.deepEqual([png.width, png.height], [size, size], `${state}${suffix}`);
        assert.equal(png.rgba[3], 0, `${state}${suffix}: the top-left corner is transparent`);
        const opaque = png.rgba.filter((_, i) => i % 4 === 3 && png.rgba[i] === 255).length;
        assert.ok(opaque > size * size * 0.3, `${state}${suffix}: a solid shape (${opaque} opaque pixels)`);
      }
    }
  });

  test('each state has its own colour: green synced, blue syncing, amber attention, grey offline', () => {
    const hue = (state: SyncState) =>
      meanOpaqueColour(readPng(join(ROOT, `assets/tray/tray-${state}@2x.png`)).rgba);
    const [r1, g1, b1] = hue('synced');
    assert.ok(g1 > r1 && g1 > b1, 'synced is green');
    const [r2, g2, b2] = hue('syncing');
    assert.ok(b2 > r2 && b2 > g2, 'syncing is blue');
    const [r3, g3, b3] = hue('attention');
    assert.ok(r3 > b3 + 80 && g3 > b3 + 40, 'attention is amber');
    const [r4, g4, b4] = hue('offline');
    assert.ok(Math.max(r4, g4, b4) - Math.min(r4, g4, b4) < 10, 'offline is grey');
  });

  test('the app icon is a 512 px PNG and a Windows .ico with 16, 32, 48 and 256 px images', () => {
    const png = readPng(join(ROOT, 'build/icon.png'));
    assert.deepEqual([png.width, png.height], [512, 512]);
    const ico = readFileSync(join(ROOT, 'build/icon.ico'));
    assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2)], [0, 1], 'an icon resource');
    const sizes = Array.from({ length: ico.readUInt16LE(4) }, (_, i) => ico[6 + 16 * i] || 256);
    assert.deepEqual(sizes, [16, 32, 48, 256]);
    for (let i = 0; i < sizes.length; i += 1) {
      const [bytes, at] = [ico.readUInt32LE(6 + 16 * i + 8), ico.readUInt32LE(6 + 16 * i + 12)];
      assert.ok(at + bytes <= ico.length, `image ${sizes[i]} lies inside the file`);
    }
  });
});
