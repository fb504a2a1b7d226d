// The layers of src-main (docs/architecture.md) as an ESLint rule: a file may import only from its own folder
// and from folders of earlier layers, so no two folders can ever import each other. Imports from outside
// src-main (shared/, migrations/, packages) are checked by the other rules in eslint.config.js.
import { dirname, relative, resolve, sep } from 'node:path';

/**
 * The layers, first to last. Each names the folders (paths inside src-main) that belong to it; a file belongs
 * to the first entry whose folder contains it. Folders of one layer may not import each other.
 */
export const LAYERS = [
  { name: 'platform', folders: ['platform'] },
  { name: 'db', folders: ['db'] },
  { name: 'connector port', folders: ['connectors/port'] },
  { name: 'HTTP kit', folders: ['connectors/http'] },
  { name: 'exceptions', folders: ['exceptions'] },
  { name: 'outbox', folders: ['outbox'] },
  { name: 'mappings', folders: ['mappings'] },
  { name: 'ledger', folders: ['ledger'] },
  { name: 'capture', folders: ['capture'] },
  { name: 'connectors', folders: ['connectors'] },
  { name: 'health', folders: ['health'] },
  { name: 'reconcile', folders: ['reconcile'] },
  { name: 'server', folders: ['server'] },
  { name: 'agent', folders: ['agent'] },
  { name: 'fleet', folders: ['fleet'] },
  { name: 'cli', folders: ['cli'] },
  { name: 'desktop', folders: ['desktop'] },
];

const SRC_MAIN = 'src-main';

/** Where `file` (relative to the repo root, `/`-separated) sits: its layer index and its folder, or null. */
export function placeOf(file) {
  if (!file.startsWith(`${SRC_MAIN}/`)) return null;
  const inner = file.slice(SRC_MAIN.length + 1);
  for (let layer = 0; layer < LAYERS.length; layer += 1)
    for (const folder of LAYERS[layer].folders) if (inner.startsWith(`${folder}/`)) return { layer, folder };
  return { layer: -1, folder: inner.includes('/') ? inner.slice(0, inner.indexOf('/')) : '' };
}

/** @type {import('eslint').Rule.RuleModule} */
export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'src-main folders import only earlier layers (docs/architecture.md)' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      upward:
        '{{from}} ({{fromLayer}}) may not import {{to}} ({{toLayer}}): a layer imports only the layers before it ({{order}}).',
      sideways:
        '{{from}} may not import {{to}}: folders of the layer "{{fromLayer}}" do not import each other.',
      unplaced: '{{folder}} is in no layer: add it to LAYERS in eslint/layers.js.',
    },
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const self = relative(root, context.filename).split(sep).join('/');
    const from = placeOf(self);
    if (from === null) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = relative(root, resolve(dirname(context.filename), source))
        .split(sep)
        .join('/');
      const to = placeOf(target);
      if (to === null) return;
      if (from.layer === -1 || to.layer === -1) {
        context.report({
          node,
          messageId: 'unplaced',
          data: { folder: (from.layer === -1 ? from : to).folder },
        });
        return;
      }
      if (to.folder === from.folder || to.layer < from.layer) return;
      const data = {
        from: from.folder,
        to: to.folder,
        fromLayer: LAYERS[from.layer].name,
        toLayer: LAYERS[to.layer].name,
        order: LAYERS.map((l) => l.name).join(' → '),
      };
      context.report({ node, messageId: to.layer === from.layer ? 'sideways' : 'upward', data });
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

/** HTTP libraries: only the connectors' HTTP kit and the server may import them. */
export const HTTP_LIBRARIES = [
  'got',
  'undici',
  'fastify',
  '@fastify/*',
  'node:http',
  'node:https',
  'http',
  'https',
];
