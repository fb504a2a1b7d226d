import type { BrowserWindowConstructorOptions } from 'electron';

export type WindowOptionsInput = Readonly<{
  /** Absolute path of the built preload script (`preload.cjs`). */
  preloadPath: string;
  title?: string;
}>;

/**
 * The options of the one app window. Secure by default, as Electron's security checklist asks: the page runs
 * isolated from the preload (contextIsolation), in the OS sandbox, without Node; web security stays on; no
 * `<webview>`; no remote content runs with more than a web page's rights. The UI reaches the agent over HTTP on
 * loopback like any browser, and the preload exposes only the typed bridge of `bridge.ts`.
 */
export function windowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    title: input.title ?? 'Backroom',
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: input.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}
