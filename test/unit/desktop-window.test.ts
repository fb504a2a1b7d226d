import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  contentSecurityPolicy,
  withContentSecurityPolicy,
} from '../../src-main/desktop/content-security-policy.js';
import {
  agentOrigin,
  isNavigationAllowed,
  isPermissionGranted,
  windowOpenDecision,
} from '../../src-main/desktop/navigation-policy.js';
import { windowOptions } from '../../src-main/desktop/window-options.js';

const ORIGIN = 'http://127.0.0.1:7420';

describe('desktop window options', () => {
  test('isolate the page: context isolation, sandbox, no Node, web security on, no webview', () => {
    const options = windowOptions({ preloadPath: '/app/dist/src-main/desktop/preload.cjs' });
    assert.deepEqual(
      {
        contextIsolation: options.webPreferences?.contextIsolation,
        sandbox: options.webPreferences?.sandbox,
        nodeIntegration: options.webPreferences?.nodeIntegration,
        nodeIntegrationInWorker: options.webPreferences?.nodeIntegrationInWorker,
        nodeIntegrationInSubFrames: options.webPreferences?.nodeIntegrationInSubFrames,
        webSecurity: options.webPreferences?.webSecurity,
        allowRunningInsecureContent: options.webPreferences?.allowRunningInsecureContent,
        webviewTag: options.webPreferences?.webviewTag,
        preload: options.webPreferences?.preload,
      },
      {
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        preload: '/app/dist/src-main/desktop/preload.cjs',
      },
    );
    assert.equal(options.show, false, 'shown on ready-to-show, without a white flash');
  });
});

describe('desktop navigation policy', () => {
  test('the agent origin is taken only from a loopback http address', () => {
    assert.equal(agentOrigin('http://127.0.0.1:7420'), ORIGIN);
    assert.equal(agentOrigin('http://localhost:7420/'), 'http://localhost:7420');
    assert.equal(agentOrigin('http://[::1]:7420'), 'http://[::1]:7420');
    assert.equal(agentOrigin('http://192.168.1.20:7420'), null);
    assert.equal(agentOrigin('https://127.0.0.1:7420'), null);
    assert.equal(agentOrigin('not a url'), null);
  });

  test('navigation stays within the agent origin', () => {
    assert.equal(isNavigationAllowed(`${ORIGIN}/exceptions?id=3`, ORIGIN), true);
    for (const url of [
      'http://127.0.0.1:7421/',
      'http://localhost:7420/',
      'https://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'garbage',
    ])
      assert.equal(isNavigationAllowed(url, ORIGIN), false, url);
  });

  test('no new window ever opens; web and mail links go to the browser, other schemes nowhere', () => {
    assert.deepEqual(windowOpenDecision(`${ORIGIN}/popup`, ORIGIN), { action: 'deny', openExternally: null });
    assert.deepEqual(windowOpenDecision('https://erp.example.com/order/7', ORIGIN), {
      action: 'deny',
      openExternally: 'https://erp.example.com/order/7',
    });
    assert.deepEqual(windowOpenDecision('mailto:support@example.com', ORIGIN), {
      action: 'deny',
      openExternally: 'mailto:support@example.com',
    });
    for (const url of [
      'file:///C:/Windows/System32/calc.exe',
      'javascript:alert(1)',
      'ms-msdt:/id',
      'smb://host/share',
      'x',
    ])
      assert.deepEqual(windowOpenDecision(url, ORIGIN), { action: 'deny', openExternally: null }, url);
  });

  test('every permission request is denied, from the agent page too', () => {
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
      'fullscreen',
    ])
      assert.equal(isPermissionGranted(permission, `${ORIGIN}/`, ORIGIN), false, permission);
  });
});

describe('desktop content security policy', () => {
  test('allows scripts and connections only to the agent, no inline script, no eval, no frames', () => {
    const csp = contentSecurityPolicy(ORIGIN);
    const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1)]));
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('script-src'), [ORIGIN]);
    assert.deepEqual(directives.get('connect-src'), [ORIGIN, 'ws://127.0.0.1:7420']);
    assert.deepEqual(directives.get('object-src'), ["'none'"]);
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
    assert.ok(!csp.includes("'unsafe-eval'"));
    assert.ok(!directives.get('script-src')!.includes("'unsafe-inline'"));
  });

  test('replaces a policy the server sent and keeps other headers', () => {
    const headers = withContentSecurityPolicy(
      { 'content-type': ['text/html'], 'content-security-policy': ['default-src *'] },
      ORIGIN,
    );
    assert.deepEqual(Object.keys(headers).sort(), ['Content-Security-Policy', 'content-type']);
    assert.deepEqual(headers['Content-Security-Policy'], [contentSecurityPolicy(ORIGIN)]);
  });
});
