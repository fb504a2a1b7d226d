import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import { ROOT } from '../support/harness.js';

/**
 * The project's own lint config (eslint.config.js) on a real file of the engine with one wrong import added:
 * the layering rules must refuse it, naming what is wrong.
 */
async function lintWith(file: string, extraImport: string): Promise<string[]> {
  const path = join(ROOT, file);
  const text = `${readFileSync(path, 'utf8')}\n${extraImport}\n`;
  const [result] = await new ESLint({ cwd: ROOT }).lintText(text, { filePath: path });
  return result!.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('lint keeps the layers of src-main', () => {
  test('the outbox importing an HTTP library (got) fails lint', async () => {
    const messages = await lintWith(
      'src-main/outbox/retry-policy.ts',
      "export { default as got } from 'got';",
    );
    assert.ok(
      messages.some(
        (m) => m.startsWith('no-restricted-imports:') && m.includes('never imports an HTTP library'),
      ),
      messages.join('\n'),
    );
  });

  test('an earlier layer importing a later one (the outbox importing the server) fails lint', async () => {
    const messages = await lintWith(
      'src-main/outbox/retry-policy.ts',
      "export { createHttpServer } from '../server/http-server.js';",
    );
    assert.ok(
      messages.some(
        (m) => m.startsWith('backroom/layers:') && m.includes('outbox (outbox) may not import server'),
      ),
      messages.join('\n'),
    );
  });

  test('shared/ importing agent code fails lint', async () => {
    const messages = await lintWith(
      'shared/api.ts',
      "export { VERSION } from '../src-main/platform/version.js';",
    );
    assert.ok(
      messages.some(
        (m) => m.startsWith('no-restricted-imports:') && m.includes('imports nothing of the agent'),
      ),
      messages.join('\n'),
    );
  });

  test('the same file as it is passes the layering rules', async () => {
    const messages = await lintWith('src-main/outbox/retry-policy.ts', '');
    assert.deepEqual(messages, []);
  });
});
