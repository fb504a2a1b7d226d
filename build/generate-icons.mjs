#!/usr/bin/env node
// Draws Backroom's icons: the app icon (build/icon.png 512 px, build/icon.ico 16-256 px, used by electron-builder)
// and the tray icons per sync state (assets/tray/tray-<state>.png 16 px and tray-<state>@2x.png 32 px, loaded by
// the desktop app; Electron picks the @2x file on HiDPI screens by itself).
//
//   node build/generate-icons.mjs           write the files
//   node build/generate-icons.mjs --check   exit 1 if a committed file differs from what this script draws
//
// Plain Node, no dependencies: every shape is an inside/outside test on the unit square, sampled 4 × 4 times per
// pixel for anti-aliasing, encoded as RGBA PNG with node:zlib. Deterministic: the same pixels on every run. The
// compressed bytes may differ between zlib builds, so --check compares decoded pixels, not bytes.
import { Buffer } from 'node:buffer';
import { deflateSync, inflateSync, crc32 } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The tray states of src-main/desktop/sync-state.ts, each with its colour and glyph. */
export const TRAY_STATES = ['synced', 'syncing', 'attention', 'offline'];

const SAMPLES = 4;

// ---- geometry: every test takes a point (x, y) in the unit square, y pointing down ----

const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

/** A thick segment from (ax, ay) to (bx, by) with round ends, `w` wide. */
const segment = (ax, ay, bx, by, w) => (x, y) => {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= (w / 2) ** 2;
};

const polyline = (points, w) => {
  const parts = points.slice(1).map((p, i) => segment(points[i][0], points[i][1], p[0], p[1], w));
  return (x, y) => parts.some((inside) => inside(x, y));
};

/** A filled triangle (any winding). */
const triangle = (a, b, c) => (x, y) => {
  const side = (p, q) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const s1 = side(a, b);
  const s2 = side(b, c);
  const s3 = side(c, a);
  return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
};

const roundedRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};

/**
 * A ring arc around (cx, cy): radius r, `w` wide, from angle `from` clockwise to `to` (degrees, 0 = right,
 * 90 = down, since y points down).
 */
const arc = (cx, cy, r, w, from, to) => (x, y) => {
  const d = Math.hypot(x - cx, y - cy);
  if (Math.abs(d - r) > w / 2) return false;
  const angle = ((Math.atan2(y - cy, x - cx) * 180) / Math.PI + 360) % 360;
  return from <= to ? angle >= from && angle <= to : angle >= from || angle <= to;
};

const at = (cx, cy, r, degrees) => [
  cx + r * Math.cos((degrees * Math.PI) / 180),
  cy + r * Math.sin((degrees * Math.PI) / 180),
];

const rgb = (hex) => [
  parseInt(hex.slice(1, 3), 16),
  parseInt(hex.slice(3, 5), 16),
  parseInt(hex.slice(5, 7), 16),
];

/** Layers painted bottom to top: `[inside, '#rrggbb']`. */
function render(size, layers) {
  const rgba = new Uint8Array(size * size * 4);
  const colours = layers.map(([, hex]) => rgb(hex));
  for (let py = 0; py < size; py += 1) {
    for (let px = 0; px < size; px += 1) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < SAMPLES; sy += 1) {
        for (let sx = 0; sx < SAMPLES; sx += 1) {
          const x = (px + (sx + 0.5) / SAMPLES) / size;
          const y = (py + (sy + 0.5) / SAMPLES) / size;
          for (let i = layers.length - 1; i >= 0; i -= 1) {
            if (layers[i][0](x, y)) {
              r += colours[i][0];
              g += colours[i][1];
              b += colours[i][2];
              a += 1;
              break;
            }
          }
        }
      }
      const o = (py * size + px) * 4;
      if (a > 0) {
        // Opaque layers only, so the covered samples' mean colour is the pixel's colour; coverage is its alpha.
        rgba[o] = Math.round(r / a);
        rgba[o + 1] = Math.round(g / a);
        rgba[o + 2] = Math.round(b / a);
        rgba[o + 3] = Math.round((a / (SAMPLES * SAMPLES)) * 255);
      }
    }
  }
  return rgba;
}

// ---- the drawings ----

/** A stockroom box on a teal tile: the app icon. */
function appIcon(size) {
  return render(size, [
    [roundedRect(0.04, 0.04, 0.96, 0.96, 0.2), '#0f4c5c'],
    [roundedRect(0.24, 0.4, 0.76, 0.78, 0.03), '#f2a541'],
    [roundedRect(0.2, 0.29, 0.8, 0.42, 0.03), '#d9822b'],
    [(x, y) => x >= 0.46 && x <= 0.54 && y >= 0.29 && y <= 0.6, '#fbe3b6'],
    [roundedRect(0.33, 0.62, 0.5, 0.7, 0.015), '#fff7e8'],
  ]);
}

/**
 * Tray icons differ by colour and by shape, so they read without colour too: a check on green (everything
 * sent), a circular arrow on blue (sending), an exclamation mark on an amber triangle (needs a look), a slash
 * through a grey disc (the agent does not answer).
 */
function trayIcon(state, size) {
  switch (state) {
    case 'synced':
      return render(size, [
        [circle(0.5, 0.5, 0.47), '#2e7d32'],
        [
          polyline(
            [
              [0.27, 0.52],
              [0.43, 0.68],
              [0.74, 0.35],
            ],
            0.15,
          ),
          '#ffffff',
        ],
      ]);
    case 'syncing': {
      const head = at(0.5, 0.5, 0.25, 300);
      return render(size, [
        [circle(0.5, 0.5, 0.47), '#1565c0'],
        [arc(0.5, 0.5, 0.25, 0.13, 20, 300), '#ffffff'],
        [
          triangle(
            [head[0] - 0.15, head[1] - 0.06],
            [head[0] + 0.13, head[1] - 0.12],
            [head[0] + 0.04, head[1] + 0.16],
          ),
          '#ffffff',
        ],
      ]);
    }
    case 'attention':
      return render(size, [
        [triangle([0.5, 0.04], [0.98, 0.93], [0.02, 0.93]), '#f0a202'],
        [segment(0.5, 0.34, 0.5, 0.62, 0.13), '#2b2118'],
        [circle(0.5, 0.79, 0.075), '#2b2118'],
      ]);
    case 'offline':
      return render(size, [
        [circle(0.5, 0.5, 0.47), '#757575'],
        [segment(0.29, 0.71, 0.71, 0.29, 0.14), '#ffffff'],
      ]);
    default:
      throw new Error(`unknown tray state ${state}`);
  }
}

// ---- PNG and ICO ----

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** An 8-bit RGBA PNG (colour type 6), no filter on any row, no ancillary chunks (so no timestamps). */
export function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y += 1)
    raw.set(rgba.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Decodes an 8-bit RGBA, non-interlaced PNG (what encodePng writes), undoing any of the five row filters. */
export function decodePng(file) {
  if (!file.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  const data = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    const body = file.subarray(offset + 8, offset + 8 + length);
    if (file.readUInt32BE(offset + 8 + length) !== crc32(file.subarray(offset + 4, offset + 8 + length)))
      throw new Error(`bad CRC in ${type}`);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 6 || body[12] !== 0) throw new Error('not 8-bit RGBA, non-interlaced');
    } else if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 4;
  const rgba = new Uint8Array(height * stride);
  for (let y = 0; y < height; y += 1) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i += 1) {
      const x = raw[y * (stride + 1) + 1 + i];
      const left = i >= 4 ? rgba[y * stride + i - 4] : 0;
      const up = y > 0 ? rgba[(y - 1) * stride + i] : 0;
      const upLeft = i >= 4 && y > 0 ? rgba[(y - 1) * stride + i - 4] : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const pa = Math.abs(p - left);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - upLeft);
        predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      } else if (filter !== 0) throw new Error(`unknown PNG filter ${filter}`);
      rgba[y * stride + i] = (x + predictor) & 0xff;
    }
  }
  return { width, height, rgba };
}

/** A 32-bit BMP icon image (BITMAPINFOHEADER, bottom-up BGRA, an all-clear AND mask: alpha does the masking). */
function bmpImage(size, rgba) {
  const maskStride = Math.ceil(size / 32) * 4;
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8); // colour rows + mask rows
  header.writeUInt16LE(1, 12);
  header.writeUInt16LE(32, 14);
  header.writeUInt32LE(size * size * 4 + maskStride * size, 20);
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const from = (y * size + x) * 4;
      const to = ((size - 1 - y) * size + x) * 4;
      pixels[to] = rgba[from + 2];
      pixels[to + 1] = rgba[from + 1];
      pixels[to + 2] = rgba[from];
      pixels[to + 3] = rgba[from + 3];
    }
  }
  return Buffer.concat([header, pixels, Buffer.alloc(maskStride * size)]);
}

/** A Windows .ico: BMP images below 256 px (what every Windows shell and NSIS read), a PNG image at 256 px. */
export function encodeIco(images) {
  const entries = images.map(({ size, rgba }) =>
    size >= 256 ? encodePng(size, rgba) : bmpImage(size, rgba),
  );
  const directory = Buffer.alloc(6 + 16 * images.length);
  directory.writeUInt16LE(0, 0);
  directory.writeUInt16LE(1, 2);
  directory.writeUInt16LE(images.length, 4);
  let offset = directory.length;
  images.forEach(({ size }, i) => {
    const at16 = 6 + 16 * i;
    directory[at16] = size >= 256 ? 0 : size;
    directory[at16 + 1] = size >= 256 ? 0 : size;
    directory.writeUInt16LE(1, at16 + 4);
    directory.writeUInt16LE(32, at16 + 6);
    directory.writeUInt32LE(entries[i].length, at16 + 8);
    directory.writeUInt32LE(offset, at16 + 12);
    offset += entries[i].length;
  });
  return Buffer.concat([directory, ...entries]);
}

/** Reads back the images of an .ico written by encodeIco, as RGBA. */
export function decodeIco(file) {
  const count = file.readUInt16LE(4);
  return Array.from({ length: count }, (_, i) => {
    const at16 = 6 + 16 * i;
    const size = file[at16] === 0 ? 256 : file[at16];
    const body = file.subarray(
      file.readUInt32LE(at16 + 12),
      file.readUInt32LE(at16 + 12) + file.readUInt32LE(at16 + 8),
    );
    if (body.subarray(0, 8).equals(PNG_SIGNATURE)) return { size, rgba: decodePng(body).rgba };
    const rgba = new Uint8Array(size * size * 4);
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        const from = 40 + ((size - 1 - y) * size + x) * 4;
        const to = (y * size + x) * 4;
        rgba.set([body[from + 2], body[from + 1], body[from], body[from + 3]], to);
      }
    }
    return { size, rgba };
  });
}

// ---- the files ----

/** Every icon file: its path from the repository root, and its images. */
export function iconFiles() {
  return [
    { path: 'build/icon.png', kind: 'png', images: [{ size: 512, rgba: appIcon(512) }] },
    {
      path: 'build/icon.ico',
      kind: 'ico',
      images: [16, 32, 48, 256].map((size) => ({ size, rgba: appIcon(size) })),
    },
    ...TRAY_STATES.flatMap((state) => [
      {
        path: `assets/tray/tray-${state}.png`,
        kind: 'png',
        images: [{ size: 16, rgba: trayIcon(state, 16) }],
      },
      {
        path: `assets/tray/tray-${state}@2x.png`,
        kind: 'png',
        images: [{ size: 32, rgba: trayIcon(state, 32) }],
      },
    ]),
  ];
}

function encode(file) {
  return file.kind === 'png' ? encodePng(file.images[0].size, file.images[0].rgba) : encodeIco(file.images);
}

function decode(kind, bytes) {
  if (kind === 'ico') return decodeIco(bytes);
  const { width, rgba } = decodePng(bytes);
  return [{ size: width, rgba }];
}

/** The files whose decoded pixels differ from the drawing by more than one step in any channel. */
export function staleFiles(root = ROOT) {
  return iconFiles().flatMap((file) => {
    let committed;
    try {
      committed = decode(file.kind, readFileSync(join(root, file.path)));
    } catch (error) {
      return [`${file.path}: ${error.code === 'ENOENT' ? 'missing' : error.message}`];
    }
    const isSame =
      committed.length === file.images.length &&
      file.images.every(
        (image, i) =>
          committed[i].size === image.size &&
          committed[i].rgba.length === image.rgba.length &&
          image.rgba.every((v, j) => Math.abs(v - committed[i].rgba[j]) <= 1),
      );
    return isSame ? [] : [`${file.path}: differs from what build/generate-icons.mjs draws`];
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length > 0) {
      console.error(`Icons out of date (run node build/generate-icons.mjs):\n  ${stale.join('\n  ')}`);
      process.exit(1);
    }
    console.log('icons up to date');
  } else {
    for (const file of iconFiles()) {
      const path = join(ROOT, file.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, encode(file));
      console.log(`wrote ${relative(ROOT, path)}`);
    }
  }
}
