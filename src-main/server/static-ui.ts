import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendError } from './http-server.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
};

/** The built UI (`npm run build:ui`) of this checkout: `src-renderer/dist`. */
export function defaultUiDir(): string {
  // From the sources (src-main/server) and from the tsc build (dist/src-main/server).
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.split(sep).includes('dist')
    ? resolve(here, '../../../src-renderer/dist')
    : resolve(here, '../../src-renderer/dist');
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * The built UI at `/`: files from `uiDir` (only inside it), `index.html` for any other page path (the UI routes
 * itself), hashed assets cached for a year. A tiny handler instead of @fastify/static: the UI is a handful of
 * files on loopback, and this is the whole of what we need.
 */
export function registerStaticUi(app: FastifyInstance, uiDir: string): void {
  const root = resolve(uiDir);

  const sendFile = async (reply: FastifyReply, file: string) => {
    const body = await readFile(file);
    const ext = extname(file);
    return reply
      .headers(SECURITY_HEADERS)
      .header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream')
      .header(
        'cache-control',
        file.startsWith(resolve(root, 'assets') + sep) ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
      .send(body);
  };

  app.get('/*', async (req, reply) => {
    const path = decodeURIComponent(req.url.split('?')[0] ?? '/');
    if (path.startsWith('/api/')) return sendError(reply, 'not_found', `No route GET ${req.url}.`);
    const index = resolve(root, 'index.html');
    if (!(await isFile(index))) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The UI is not built. Run `npm run build:ui`, then reload.');
    }
    const file = resolve(root, `.${path}`);
    if (file.startsWith(root + sep) && (await isFile(file))) return sendFile(reply, file);
    // A page path (no extension) is the UI's; a missing asset is a 404.
    if (extname(path) === '') return sendFile(reply, index);
    return sendError(reply, 'not_found', `No file ${path}.`);
  });
}
