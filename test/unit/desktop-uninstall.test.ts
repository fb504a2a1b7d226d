import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import type { StatusResponse } from '../../shared/api.js';
import { EXIT } from '../../src-main/cli/cli-io.js';
import { unsyncedReport } from '../../src-main/cli/unsynced-report.js';
import {
  makeEvent,
  ROOT,
  runBackroom,
  startAgent,
  tempDir,
  testConfig,
  writeConfig,
} from '../support/harness.js';
import { agentStatus, destinationStatus, type DestinationStatus } from '../support/status-fixtures.js';

const destination = (id: string, pending: number, state?: DestinationStatus['state']) =>
  destinationStatus(id, pending, state, 5400);
const status = (destinations: DestinationStatus[], openExceptions: StatusResponse['openExceptions'] = []) =>
  agentStatus(destinations, openExceptions, false);

const WHERE = {
  configFile: 'C:\\Users\\kim\\AppData\\Roaming\\Backroom\\backroom.json',
  dataDir: 'D:\\backroom',
};

describe('uninstall check: what would be abandoned (unsyncedReport)', () => {
  test('is clear when nothing is pending and no problem is open', () => {
    assert.deepEqual(unsyncedReport(status([destination('hq', 0)]), WHERE), {
      pending: 0,
      openExceptions: 0,
      isClear: true,
      text: '',
    });
  });

  test('counts pending items per destination, names the data folder and the export command', () => {
    const report = unsyncedReport(
      status([destination('hq', 12, 'open'), destination('shop', 3), destination('nats', 0)]),
      WHERE,
    );
    assert.equal(report.pending, 15);
    assert.equal(report.isClear, false);
    const lines = report.text.split('\n');
    assert.deepEqual(lines.slice(0, 3), [
      '15 update(s) have not reached every system yet:',
      '  hq: 12 waiting, oldest 90 min (unreachable, retrying)',
      '  shop: 3 waiting, oldest 90 min',
    ]);
    assert.ok(!report.text.includes('nats'));
    assert.match(report.text, /kept in D:\\backroom/);
    assert.match(
      report.text,
      /backroom export --config "C:\\Users\\kim\\AppData\\Roaming\\Backroom\\backroom\.json" --unsynced --out/,
    );
  });

  test('open problems alone are enough to warn: uninstalling abandons them too', () => {
    const report = unsyncedReport(
      status(
        [destination('hq', 0)],
        [
          { kind: 'delivery_rejected', count: 2 },
          { kind: 'unknown_sku', count: 1 },
        ],
      ),
      WHERE,
    );
    assert.equal(report.isClear, false);
    assert.equal(report.openExceptions, 3);
    assert.match(report.text, /^3 problem\(s\) are still open \(delivery rejected: 2, unknown sku: 1\)\.\n/);
  });

  test('stays short enough for an uninstaller message box with many destinations', () => {
    const many = status(
      Array.from({ length: 40 }, (_, i) =>
        destination(`marketplace-with-a-long-name-${i}`, 1000 + i, 'open'),
      ),
      [{ kind: 'unknown_sku', count: 7 }],
    );
    const report = unsyncedReport(many, WHERE);
    assert.ok(report.text.length < 1024, `${report.text.length} characters`);
    assert.match(report.text, /\n {2}and 34 more destination\(s\)\n/);
    assert.equal(
      report.pending,
      many.destinations.reduce((n, d) => n + d.pending, 0),
    );
  });
});

/**
 * A data folder whose agent captured three sales for a destination it never reached, and a desktop-style config
 * for it whose secrets come from the keychain (`{ "env" }`) and are absent here, as in an uninstaller.
 */
async function dataWithPendingEvents(
  dir: string,
  name: string,
): Promise<{ config: string; dataDir: string }> {
  const dataDir = join(dir, name, 'data');
  mkdirSync(dataDir, { recursive: true });
  const hq = { id: 'hq', type: 'webhook' as const, url: 'http://127.0.0.1:9/events' };
  const agent = await startAgent(testConfig(dataDir, { destinations: [{ ...hq, secret: 'hmac-secret' }] }));
  try {
    const answer = await agent.post({ events: [1, 2, 3].map((i) => makeEvent({ id: `unsent-${i}` })) });
    assert.equal(answer.status, 200);
  } finally {
    await agent.stop();
  }
  const desktopConfig = {
    ...testConfig(dataDir, { destinations: [{ ...hq, secret: { env: 'HQ_SECRET_FROM_KEYCHAIN' } }] }),
    sources: [{ id: 'pos-1', token: { env: 'POS1_TOKEN_FROM_KEYCHAIN' } }],
  };
  return { config: writeConfig(join(dir, name), desktopConfig, 'backroom.json'), dataDir };
}

describe('uninstall check: backroom unsynced', () => {
  test("exits 3 with what is pending, reading the database without the config's secrets", async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const { config, dataDir } = await dataWithPendingEvents(dir.path, 'store');
    const run = await runBackroom(['unsynced', '--config', config]);
    assert.equal(run.code, EXIT.unsynced, run.stderr);
    assert.match(run.stdout, /^3 update\(s\) have not reached every system yet:\n {2}hq: 3 waiting/);
    assert.ok(run.stdout.includes(`kept in ${dataDir}`));
    assert.match(run.stdout, /backroom export --config ".*backroom\.json" --unsynced/);

    const json = await runBackroom(['unsynced', '--config', config, '--json']);
    assert.equal(json.code, EXIT.unsynced);
    const body = JSON.parse(json.stdout) as {
      pending: number;
      isClear: boolean;
      destinations: DestinationStatus[];
    };
    assert.equal(body.pending, 3);
    assert.equal(body.isClear, false);
    assert.equal(body.destinations[0]?.id, 'hq');
  });

  test('exits 0 when the agent never ran (no database yet)', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const config = writeConfig(dir.path, testConfig(join(dir.path, 'never-ran')));
    const run = await runBackroom(['unsynced', '--config', config]);
    assert.equal(run.code, EXIT.ok, run.stderr);
    assert.match(run.stdout, /^nothing unsynced in /);
  });
});

/** Runs the deb prerm script with the repository's CLI standing in for the packaged one. */
function runPrerm(
  args: readonly string[],
  homes: readonly string[],
  dir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // The packaged app is Electron run as Node (ELECTRON_RUN_AS_NODE=1); here it is Node with tsx.
  const exe = join(dir, 'backroom-as-node');
  const loader = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href; // dist/loader.mjs
  writeFileSync(exe, `#!/bin/sh\nexec "${process.execPath}" --import "${loader}" "$@"\n`);
  chmodSync(exe, 0o755);
  return new Promise((resolve) => {
    const proc = spawn('sh', [join(ROOT, 'deploy/linux/before-remove.sh'), ...args], {
      cwd: dir,
      env: {
        ...process.env,
        BACKROOM_EXE: exe,
        BACKROOM_CLI: join(ROOT, 'src-main/cli/index.ts'),
        BACKROOM_HOMES: homes.join(' '),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('uninstall check: deb prerm and NSIS include', () => {
  test('prerm warns about the user with unsent events, stays quiet about the one without, never fails', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const withData = join(dir.path, 'home-kim');
    const clean = join(dir.path, 'home-lee');
    const { config } = await dataWithPendingEvents(join(withData, '.config'), 'Backroom');
    mkdirSync(join(clean, '.config', 'Backroom'), { recursive: true });
    writeConfig(join(clean, '.config', 'Backroom'), testConfig(join(clean, 'data')), 'backroom.json');

    const removal = await runPrerm(['remove'], [withData, clean, join(dir.path, 'nobody-*')], dir.path);
    assert.equal(removal.code, 0, removal.stderr);
    assert.match(
      removal.stderr,
      /WARNING: Backroom \(\w+\) has not finished its work:\n3 update\(s\) have not reached/,
    );
    assert.ok(removal.stderr.includes(`backroom export --config "${config}" --unsynced`));
    assert.equal(removal.stderr.match(/WARNING/g)?.length, 1, 'only the user with unsent events');

    const upgrade = await runPrerm(['upgrade', '0.2.0'], [withData], dir.path);
    assert.deepEqual([upgrade.code, upgrade.stderr], [0, ''], 'an upgrade keeps the data and says nothing');
  });

  test('the NSIS include runs the packaged CLI where electron-builder puts it and acts on its exit codes', () => {
    const nsh = readFileSync(join(ROOT, 'deploy/windows/uninstall-check.nsh'), 'utf8');
    const builder = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8');
    // The built CLI: tsconfig.build.json compiles src-main/cli/index.ts to dist/src-main/cli/index.js, in app.asar.
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    assert.deepEqual([build.compilerOptions.outDir, build.compilerOptions.rootDir], ['dist', '.']);
    assert.ok(
      nsh.includes('"$INSTDIR\\resources\\app.asar\\dist\\src-main\\cli\\index.js" unsynced --config'),
    );
    assert.ok(nsh.includes('ELECTRON_RUN_AS_NODE'));
    assert.match(nsh, /!macro customUnInit\n {2}\$\{ifNot\} \$\{isUpdated\}/, 'upgrades are not asked');
    assert.ok(nsh.includes(`\${if} $R1 == "${EXIT.ok}"`));
    assert.ok(nsh.includes(`\${elseIf} $R1 == "${EXIT.unsynced}"`));
    assert.match(nsh, /MB_DEFBUTTON2 .*\/SD IDOK IDOK done/, 'Cancel is the default button');
    assert.match(nsh, /\$APPDATA\\\$\{PRODUCT_NAME\}\\backroom\.json/);
    // Electron's userData folder is named after the product, where the NSIS include and prerm look.
    assert.match(builder, /extraMetadata:\n(?: {2}.*\n)*? {2}productName: Backroom\n/);
    const prerm = readFileSync(join(ROOT, 'deploy/linux/before-remove.sh'), 'utf8');
    assert.ok(prerm.includes('/.config/Backroom/backroom.json'));
  });

  test('electron-builder.yml is valid for electron-builder and every file it names exists', () => {
    // electron-builder's own YAML reader and JSON schema, found the way electron-builder finds them.
    const rootRequire = createRequire(join(ROOT, 'package.json'));
    const builderLib = dirname(
      createRequire(rootRequire.resolve('electron-builder')).resolve('app-builder-lib/package.json'),
    );
    const builderRequire = createRequire(join(builderLib, 'package.json'));
    const yaml = builderRequire('js-yaml') as { load: (text: string) => unknown };
    const schema = JSON.parse(readFileSync(join(builderLib, 'scheme.json'), 'utf8')) as unknown;
    const Ajv = rootRequire('ajv') as new (options: object) => {
      compile: (schema: unknown) => ((data: unknown) => boolean) & { errors?: unknown };
    };
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as {
      win: { icon: string };
      linux: { icon: string };
      mac: { icon: string };
      nsis: { include: string };
      deb: { fpm: string[] };
    };
    assert.ok(validate(config), JSON.stringify(validate.errors));
    const named = [
      config.win.icon,
      config.linux.icon,
      config.mac.icon,
      config.nsis.include,
      config.deb.fpm[1]!,
    ];
    for (const file of named) assert.ok(existsSync(join(ROOT, file)), `${file} exists`);
    assert.deepEqual(config.deb.fpm, ['--before-remove', 'deploy/linux/before-remove.sh']);
  });
});
