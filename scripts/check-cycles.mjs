#!/usr/bin/env node
// Part of `npm run lint`: no import cycles between the files of src-main/ and shared/, counting `import type`
// too. ESLint's import-x/no-cycle catches the cycles that run; this one also catches those only types close,
// which still tie two files (and so two folders) together in the design.
// Usage: node scripts/check-cycles.mjs [folder ...]   (default: src-main shared)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src-main', 'shared'];

function collect(path) {
  if (statSync(path).isFile()) return /\.(ts|tsx|cts|mts)$/.test(path) ? [path] : [];
  return readdirSync(path, { withFileTypes: true }).flatMap((e) =>
    e.name === 'node_modules' ? [] : collect(join(path, e.name)),
  );
}

const files = roots.flatMap((r) => collect(resolve(ROOT, r)));
const known = new Set(files);
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;

/** The files `file` imports (relative specifiers only; `.js` names the `.ts` source, as TypeScript resolves it). */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const base = resolve(dirname(file), m[1]);
    const candidates = [
      base,
      base.replace(/\.js$/, '.ts'),
      base.replace(/\.js$/, '.tsx'),
      base.replace(/\.cjs$/, '.cts'),
      `${base}.ts`,
      join(base, 'index.ts'),
    ];
    const hit = candidates.find((c) => known.has(c));
    if (hit !== undefined) out.push(hit);
  }
  return out;
}

const graph = new Map(files.map((f) => [f, importsOf(f)]));

// Tarjan's strongly connected components: every component of more than one file (or a file importing itself)
// is a cycle.
let index = 0;
const stack = [];
const onStack = new Set();
const indexOf = new Map();
const low = new Map();
const cycles = [];
function visit(v) {
  indexOf.set(v, index);
  low.set(v, index);
  index += 1;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v)) {
    if (!indexOf.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indexOf.get(w)));
  }
  if (low.get(v) === indexOf.get(v)) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v).includes(v)) cycles.push(component);
  }
}
for (const f of files) if (!indexOf.has(f)) visit(f);

if (cycles.length > 0) {
  console.error(`Import cycles (type imports included) among ${files.length} files:`);
  for (const c of cycles)
    console.error(
      `  ${c
        .map((f) => relative(ROOT, f))
        .sort()
        .join(' <-> ')}`,
    );
  process.exit(1);
}
console.log(`no import cycles among ${files.length} files`);
