import { readFileSync } from 'node:fs';

function readVersion(): string {
  // Source runs from src-main/agent, the build from dist/src-main/agent: package.json is two or three levels up.
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version: string })
        .version;
    } catch {
      // try the next
    }
  }
  return '0.0.0';
}

/** The agent's version, from package.json. */
export const VERSION: string = readVersion();
