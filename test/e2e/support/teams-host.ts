/**
 * A stand-in for the Microsoft Teams web client, for browser tests of the tab: an HTML page that embeds the tab in a
 * full-size iframe and answers the postMessage protocol of @microsoft/teams-js 2.58 the way Teams does.
 *
 * The protocol, as read from teams-js 2.58.0 (dist/esm/packages/teams-js/src/internal/communication.js):
 * - the tab posts `{ id, uuidAsString, func, args, apiVersionTag, timestamp, monotonicTimestamp, isProxiedFromChild,
 *   teamsJsInstanceId }` to `window.parent` (`initialize` with target origin `*`, everything after it with the origin
 *   of the first accepted message from the parent; until then the tab queues its messages);
 * - the host answers a request with `{ id, uuidAsString, args }` posted to the tab's window (a message with a numeric
 *   `id` is a response; teams-js finds the waiting call by `uuidAsString`, or by `id` when there is none);
 * - the host pushes events as `{ func, args }` with no `id`, e.g. `{ func: 'themeChange', args: ['dark'] }`;
 * - teams-js ignores every message from the parent whose origin is not the tab's own, not an https origin on its
 *   allow-list (teams.microsoft.com and the like), and not one of the `validMessageOrigins` given to
 *   `app.initialize`, so a tab under this host must call `app.initialize(['http://127.0.0.1:<host port>'])`
 *   (scheme, host and port exactly; a port cannot be wildcarded), or be served from the host's own origin.
 *
 * In the page, `window.__teamsHost` holds what the tests need: `calls` (the `func` of each message from the tab, in
 * order), `messages` (the same with their `args` and `apiVersionTag`, e.g. `v2_app.registerOnThemeChangeHandler`),
 * `handlers` (the events the tab registered handlers for) and `setTheme(theme)`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';

export type TeamsTheme = 'default' | 'dark' | 'contrast';

export interface TeamsHostOptions {
  /** The tab page the host embeds (absolute, or relative to the host page). */
  tabUrl: string;
  context: {
    userObjectId: string;
    userPrincipalName: string;
    tenantId: string;
    /** `app.theme`; `default` unless given. */
    theme?: TeamsTheme;
    /** `app.locale`; `en-us` unless given. */
    locale?: string;
    /** `page.id` (the manifest's `entityId`); `index` unless given. */
    entityId?: string;
    /** `user.loginHint`; the user principal name unless given. */
    loginHint?: string;
    /** `user.displayName`. */
    displayName?: string;
    /** More fields of the legacy (v1) context object that `getContext` answers with, e.g. `{ teamId, channelId }`. */
    extra?: Record<string, unknown>;
  };
  /** What `authentication.getAuthToken()` resolves to, or the message it rejects with. */
  token: string | { error: string };
  /** `args` of the answer to other requests, by `func` (e.g. `{ executeDeepLink: [true] }`); otherwise `[]`. */
  responses?: Record<string, unknown[]>;
  /** The runtime config sent with the answer to `initialize` (the host's capabilities); a Teams-web-like one unless given. */
  runtimeConfig?: Record<string, unknown>;
}

/**
 * What Teams on the web declares, roughly. teams-js checks only that `apiVersion` is 4 (then `app.notifySuccess()`
 * and the capability-gated APIs work); getContext, getAuthToken and registerOnThemeChangeHandler check no capability.
 * `supports.app.notifySuccessResponse` is left out on purpose: with it, notifySuccess would wait for an answer.
 */
const DEFAULT_RUNTIME_CONFIG = {
  apiVersion: 4,
  isLegacyTeams: false,
  hostVersionsInfo: { adaptiveCardSchemaVersion: { majorVersion: 1, minorVersion: 5 } },
  supports: {
    appEntity: {},
    appInstallDialog: {},
    call: {},
    chat: {},
    conversations: {},
    dialog: { card: { bot: {} }, url: { bot: {}, parentCommunication: {} }, update: {} },
    pages: { appButton: {}, tabs: {}, config: {}, backStack: {}, fullTrust: {} },
    profile: {},
    sharing: {},
    stageView: {},
    teams: { fullTrust: { joinedTeams: {} } },
    teamsCore: {},
    webStorage: {},
  },
};

/** The page's script; `__CONFIG__` is replaced by the options as JSON. Plain ES2017, so it needs no build step. */
const HOST_SCRIPT = String.raw`
(function () {
  'use strict';
  var config = __CONFIG__;
  var frame = document.getElementById('tab');
  var tabUrl = new URL(config.tabUrl, location.href);
  var tabOrigin = tabUrl.origin;
  var theme = config.context.theme || 'default';
  var sessionId = 'teams-host-' + Math.random().toString(16).slice(2);
  // Messages the tab sends without waiting for an answer; Teams does not answer them.
  var oneWay = ['registerHandler', 'appInitialization.appLoaded', 'appInitialization.success', 'appInitialization.failure',
    'appInitialization.expectedFailure', 'readyToUnload'];

  var host = {
    calls: [],
    messages: [],
    handlers: [],
    initialized: false,
    /** The validMessageOrigins the tab passed to app.initialize (the third argument of 'initialize'). */
    validMessageOrigins: null,
    /** Pushes a theme change to the tab; false when the tab has not (yet) registered a theme handler. */
    setTheme: function (next) {
      theme = next;
      frame.contentWindow.postMessage({ func: 'themeChange', args: [next] }, tabOrigin);
      return host.handlers.indexOf('themeChange') >= 0;
    },
    /** Pushes any event (e.g. 'contextChange') to the tab. */
    push: function (func, args) {
      frame.contentWindow.postMessage({ func: func, args: args || [] }, tabOrigin);
    },
  };
  window.__teamsHost = host;

  function legacyContext() {
    var c = config.context;
    var context = {
      locale: c.locale || 'en-us',
      theme: theme,
      entityId: c.entityId || 'index',
      frameContext: 'content',
      hostClientType: 'web',
      hostName: 'Teams',
      appSessionId: sessionId,
      sessionId: sessionId,
      ringId: 'general',
      isFullScreen: false,
      isMultiWindow: false,
      userObjectId: c.userObjectId,
      userPrincipalName: c.userPrincipalName,
      loginHint: c.loginHint || c.userPrincipalName,
      userLicenseType: 'Unknown',
      tid: c.tenantId,
      tenantSKU: 'enterprise',
      teamsJsVersion: '2.58.0',
    };
    if (c.displayName) context.userDisplayName = c.displayName;
    var extra = c.extra || {};
    Object.keys(extra).forEach(function (k) { context[k] = extra[k]; });
    return context;
  }

  function answer(message) {
    switch (message.func) {
      case 'initialize':
        host.validMessageOrigins = Array.isArray(message.args[2]) ? message.args[2] : [];
        if (host.validMessageOrigins.indexOf(location.origin) < 0 && tabOrigin !== location.origin) {
          console.warn('teams host: the tab did not pass ' + location.origin + ' to app.initialize; teams-js will ignore this host');
        }
        host.initialized = true;
        // frameContext, hostClientType, runtime config (a JSON string), the teams-js version the host supports.
        return ['content', 'web', JSON.stringify(config.runtimeConfig), message.args[0] || '2.58.0'];
      case 'getContext':
        return [legacyContext()];
      case 'authentication.getAuthToken':
        return typeof config.token === 'string' ? [true, config.token] : [false, config.token.error];
      default:
        if (Object.prototype.hasOwnProperty.call(config.responses, message.func)) return config.responses[message.func];
        return oneWay.indexOf(message.func) >= 0 ? null : [];
    }
  }

  window.addEventListener('message', function (event) {
    var message = event.data;
    if (event.source !== frame.contentWindow || !message || typeof message !== 'object' || typeof message.func !== 'string') return;
    host.calls.push(message.func);
    host.messages.push({ func: message.func, args: message.args, apiVersionTag: message.apiVersionTag, origin: event.origin });
    if (message.func === 'registerHandler' && message.args && typeof message.args[0] === 'string') host.handlers.push(message.args[0]);
    var args = answer(message);
    if (args === null || typeof message.id !== 'number') return;
    event.source.postMessage({ id: message.id, uuidAsString: message.uuidAsString, args: args }, event.origin);
  });

  // Only now, with the listener in place, load the tab.
  frame.src = tabUrl.href;
})();
`;

/** A complete HTML document (no external resources) that hosts `options.tabUrl` the way Teams does. */
export function teamsHostPage(options: TeamsHostOptions): string {
  const config = {
    tabUrl: options.tabUrl,
    context: options.context,
    token: options.token,
    responses: options.responses ?? {},
    runtimeConfig: options.runtimeConfig ?? DEFAULT_RUNTIME_CONFIG,
  };
  // JSON inside <script>: no "</script>" or "<!--" can end it early.
  const json = JSON.stringify(config)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Microsoft Teams (test host)</title>
<style>
  html, body { margin: 0; padding: 0; width: 100%; height: 100%; overflow: hidden; }
  #tab { display: block; border: 0; width: 100%; height: 100%; }
</style>
</head>
<body>
<iframe id="tab" title="Tab" allow="clipboard-read; clipboard-write; fullscreen"></iframe>
<script>${HOST_SCRIPT.replace('__CONFIG__', () => json)}</script>
</body>
</html>
`;
}

export interface ServedTeamsHost {
  /** The host page, `http://127.0.0.1:<port>/`. */
  url: string;
  /** `http://127.0.0.1:<port>`: what the tab must pass to `app.initialize([...])`. */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves the host page on 127.0.0.1 (a port of its own, so a different origin from the tab's, as in Teams) at every
 * path. `page` may be a function of the host's origin, asked at every request.
 */
export async function serveTeamsHost(
  page: string | ((hostOrigin: string) => string),
  options: { port?: number } = {},
): Promise<ServedTeamsHost> {
  let origin = '';
  // A function is asked at every request, so the page can name a tab that started after the host did.
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(typeof page === 'string' ? page : page(origin));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * Where teams-js 2.58 fetches, as soon as it loads, the current list of Teams' origins (validOriginsCdnEndpoint in
 * dist/esm/packages/teams-js/src/internal/constants.js); it falls back to its built-in list if the fetch fails.
 */
export const TEAMS_JS_VALID_DOMAINS_URL = 'https://res.cdn.office.net/teams-js/validDomains/json/validDomains.json';

/**
 * The internet as the tab sees it from inside Teams, on a machine without one: the valid-domains request is answered
 * the way Microsoft's CDN answers it (JSON readable from any origin), so the page's policy decides whether it gets
 * through; every other request that leaves the machine is refused, so the tab cannot come to depend on one.
 */
export async function offlineButTeamsCdn(context: BrowserContext): Promise<void> {
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, (route) =>
    route.request().url() === TEAMS_JS_VALID_DOMAINS_URL
      ? route.fulfill({
          status: 200,
          contentType: 'application/json',
          headers: { 'Access-Control-Allow-Origin': '*' },
          body: JSON.stringify({ validOrigins: ['teams.microsoft.com', '*.teams.microsoft.com', '*.cloud.microsoft'] }),
        })
      : route.abort(),
  );
}

/**
 * What the page and its frames report as broken, collected as it happens: console errors (a request the policy
 * refused, a failed load, a logged error) and uncaught exceptions. A test empties it and expects nothing in it.
 */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error at ${message.location().url}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught in the page: ${error.message}`));
  return errors;
}
