// The Electron main process: wiring only. Decisions live in the plain modules beside this file (unit-tested
// without Electron); the agent itself runs in a utility process, or is the headless service already running.
import { join } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  type IpcMainInvokeEvent,
  Menu,
  nativeImage,
  Notification,
  safeStorage,
  session,
  shell,
  Tray,
  utilityProcess,
  type UtilityProcess,
} from 'electron';
import type { StatusResponse } from '../../shared/api.js';
import { loadConfig } from '../agent/config-loader.js';
import { readLock } from '../agent/data-dir-lock.js';
import { chooseAgentConnection } from './agent-connection.js';
import { stopAgent, type StoppableProcess } from './agent-stop.js';
import { CHANNELS } from './bridge.js';
import { withContentSecurityPolicy } from './content-security-policy.js';
import {
  agentOrigin,
  isNavigationAllowed,
  isPermissionGranted,
  windowOpenDecision,
} from './navigation-policy.js';
import { SecretStore } from './secret-store.js';
import { newExceptions, quitWarning } from './sync-state.js';
import { trayView, type TrayAction } from './tray-view.js';
import { windowOptions } from './window-options.js';

const STATUS_INTERVAL_MS = 5_000;

/** Runs a promise whose result nobody waits for, logging a failure instead of leaving it unhandled. */
function runInBackground(work: Promise<unknown>, what: string): void {
  work.catch((error: unknown) =>
    process.stderr.write(`backroom desktop: ${what} failed: ${String(error)}\n`),
  );
}

type Connected = {
  address: string;
  origin: string;
  token: string;
  /** The agent this app started; null when it connected to a running service, which it never stops. */
  agent: StoppableProcess | null;
};

let connected: Connected | null = null;
let window: BrowserWindow | null = null;
let tray: Tray | null = null;
let shownIcon = '';
let lastStatus: StatusResponse | null = null;
/** The user chose Quit and the quit is under way (the warning, then the agent's stop). */
let isQuitting = false;
/** The agent has stopped (or was never ours): let the app quit. */
let isQuitConfirmed = false;
/** Stopping our agent: the tray says so. */
let isStopping = false;

/** Electron's utility process as the stop sequence of agent-stop.ts sees it. */
function stoppable(child: UtilityProcess): StoppableProcess {
  let hasExited = false;
  child.once('exit', () => (hasExited = true));
  return {
    hasExited: () => hasExited,
    postMessage: (message) => child.postMessage(message),
    onMessage: (listener) => {
      child.on('message', listener);
      return () => child.off('message', listener);
    },
    onExit: (listener) => {
      child.on('exit', listener);
      return () => child.off('exit', listener);
    },
    kill: () => {
      child.kill();
    },
  };
}

function configFile(): string {
  return process.env.BACKROOM_CONFIG ?? join(app.getPath('userData'), 'backroom.json');
}

/** Starts `backroom serve` in a utility process and resolves with the address it prints. */
function startAgent(
  file: string,
  env: Record<string, string>,
): Promise<{ child: UtilityProcess; address: string }> {
  const entry = join(import.meta.dirname, '../cli/index.js');
  const child = utilityProcess.fork(
    entry,
    ['serve', '--config', file, '--log-file', join(app.getPath('logs'), 'agent.log')],
    { serviceName: 'Backroom agent', stdio: 'pipe', env: { ...process.env, ...env } },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ child, address: match[1]! });
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) =>
      reject(new Error(`the agent exited (${code}) before it listened: ${err.trim()}`)),
    );
  });
}

async function readStatus(): Promise<StatusResponse | null> {
  if (connected === null) return null;
  try {
    const response = await fetch(`${connected.address}/api/v1/status`, {
      headers: { authorization: `Bearer ${connected.token}` },
      signal: AbortSignal.timeout(3_000),
    });
    return response.ok ? ((await response.json()) as StatusResponse) : null;
  } catch {
    return null;
  }
}

function runTrayAction(action: TrayAction): void {
  switch (action) {
    case 'open':
      runInBackground(openWindow(), 'open window');
      return;
    case 'quit':
      app.quit();
      return;
    case null:
      return;
  }
}

/** Shows the tray of `status` (trayView decides icon, tooltip and menu). Returns the sync state shown. */
function applyTray(status: StatusResponse | null): ReturnType<typeof trayView>['state'] {
  const view = trayView(status, { platform: process.platform, isStopping });
  if (tray === null) return view.state;
  if (view.icon !== shownIcon) {
    tray.setImage(nativeImage.createFromPath(join(app.getAppPath(), view.icon)));
    shownIcon = view.icon;
  }
  tray.setToolTip(view.tooltip);
  // Rebuilt each time: on Linux a changed menu item shows only once the menu is set again.
  tray.setContextMenu(
    Menu.buildFromTemplate(
      view.menu.map(({ label, action }) =>
        action === null ? { label, enabled: false } : { label, click: () => runTrayAction(action) },
      ),
    ),
  );
  return view.state;
}

async function refreshStatus(): Promise<void> {
  if (isStopping) return;
  const status = await readStatus();
  const state = applyTray(status);
  window?.webContents.send(CHANNELS.syncState, state);
  if (status !== null && Notification.isSupported()) {
    for (const { kind, added } of newExceptions(lastStatus, status))
      new Notification({
        title: 'Backroom needs a look',
        body: `${added} new problem(s): ${kind.replaceAll('_', ' ')}`,
      }).show();
  }
  if (status !== null) lastStatus = status;
}

/** IPC from anything but our own window's page at the agent's origin is refused. */
function isFromAgentPage(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url;
  return connected !== null && url !== undefined && isNavigationAllowed(url, connected.origin);
}

function lockDownContents(origin: string): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isNavigationAllowed(url, origin)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isNavigationAllowed(url, origin)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      const decision = windowOpenDecision(url, origin);
      if (decision.openExternally !== null)
        runInBackground(shell.openExternal(decision.openExternally), 'open link');
      return { action: decision.action };
    });
  });
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((contents, permission, callback) =>
    callback(isPermissionGranted(permission, contents.getURL(), origin)),
  );
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    isPermissionGranted(permission, requestingOrigin, origin),
  );
  ses.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders ?? {}, origin) }),
  );
}

async function connect(): Promise<Connected> {
  const file = configFile();
  const secrets = new SecretStore(join(app.getPath('userData'), 'secrets.json'), safeStorage);
  const env = secrets.environment();
  const config = loadConfig(file, { ...process.env, ...env });
  const choice = await chooseAgentConnection({ dataDir: config.dataDir, agentId: config.agentId });
  switch (choice.kind) {
    case 'connect':
      return {
        address: choice.address,
        origin: agentOrigin(choice.address) ?? '',
        token: choice.controlToken,
        agent: null,
      };
    case 'start': {
      const { child, address } = await startAgent(file, env);
      const token = readLock(config.dataDir)?.controlToken ?? '';
      return { address, origin: agentOrigin(address) ?? '', token, agent: stoppable(child) };
    }
    case 'blocked':
      throw new Error(choice.message);
  }
}

async function onReady(): Promise<void> {
  try {
    connected = await connect();
  } catch (error) {
    dialog.showErrorBox('Backroom cannot start', error instanceof Error ? error.message : String(error));
    app.exit(1);
    return;
  }
  if (connected.origin === '') {
    dialog.showErrorBox(
      'Backroom cannot start',
      `The agent listens on ${connected.address}, which is not loopback.`,
    );
    app.exit(1);
    return;
  }
  lockDownContents(connected.origin);
  ipcMain.handle(CHANNELS.connection, (event) => {
    if (!isFromAgentPage(event) || connected === null) throw new Error('refused');
    return { address: connected.address, token: connected.token };
  });
  ipcMain.handle(CHANNELS.startAtLogin, (event) => {
    if (!isFromAgentPage(event)) throw new Error('refused');
    return app.getLoginItemSettings().openAtLogin;
  });
  ipcMain.handle(CHANNELS.setStartAtLogin, (event, isEnabled: unknown) => {
    if (!isFromAgentPage(event)) throw new Error('refused');
    app.setLoginItemSettings({ openAtLogin: isEnabled === true });
  });

  tray = new Tray(nativeImage.createEmpty());
  // Windows and macOS report clicks on the icon; most Linux desktops only open the menu, which has "Open".
  tray.on('click', () => runInBackground(openWindow(), 'open window'));
  applyTray(null);
  await openWindow();
  await refreshStatus();
  setInterval(() => runInBackground(refreshStatus(), 'status refresh'), STATUS_INTERVAL_MS).unref();
}

/** Shows the app window, creating it again if it was closed (the tray keeps the app running without one). */
async function openWindow(): Promise<void> {
  if (connected === null || isStopping) return;
  if (window !== null) {
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    return;
  }
  const created = new BrowserWindow(windowOptions({ preloadPath: join(import.meta.dirname, 'preload.cjs') }));
  window = created;
  created.once('ready-to-show', () => created.show());
  created.on('closed', () => {
    if (window === created) window = null;
  });
  await created.loadURL(`${connected.address}/`);
}

async function confirmQuit(): Promise<boolean> {
  const status = await readStatus();
  const warning = status === null ? null : quitWarning(status, connected?.agent != null);
  if (warning === null) return true;
  const { response } = await dialog.showMessageBox({
    type: 'warning',
    title: warning.title,
    message: warning.message,
    detail: warning.detail,
    buttons: ['Keep Backroom running', 'Quit anyway'],
    defaultId: 0,
    cancelId: 0,
  });
  return response === 1;
}

/**
 * Quits after the warning: stops the agent this app started by asking it (no SIGTERM on Windows; see
 * agent-stop.ts), then lets the app quit. A service the app only connected to keeps running.
 */
async function quit(): Promise<void> {
  let isConfirmed = false;
  try {
    isConfirmed = await confirmQuit();
  } finally {
    if (!isConfirmed) isQuitting = false;
  }
  if (!isConfirmed) return;
  isStopping = true;
  applyTray(lastStatus);
  window?.hide();
  const agent = connected?.agent;
  if (agent) {
    const outcome = await stopAgent(agent);
    if (!outcome.isClean)
      process.stderr.write(
        `backroom desktop: the agent did not stop cleanly (${outcome.kind}); it resends what was in flight at its next start\n`,
      );
  }
  isQuitConfirmed = true;
  app.quit();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => runInBackground(openWindow(), 'open window'));
  // macOS: a click on the dock icon.
  app.on('activate', () => runInBackground(openWindow(), 'open window'));
  // The tray keeps the app (and its agent) running when the window is closed.
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', (event) => {
    if (isQuitConfirmed) return;
    event.preventDefault();
    // A second Quit while the warning shows or the agent stops changes nothing: the first one finishes.
    if (isQuitting) return;
    isQuitting = true;
    runInBackground(quit(), 'quit');
  });
  runInBackground(app.whenReady().then(onReady), 'start');
}
