/**
 * The Teams side: teams-js initialised (bundled with the page by esbuild, only the parts used), the context read
 * and SSO tokens fetched. Outside Teams (a plain browser tab) the page still works against a local-mode server, which
 * answers as the development identity.
 */
import { app, authentication } from '@microsoft/teams-js';

export type Theme = 'default' | 'dark' | 'contrast';

export interface TeamsConnection {
  inTeams: boolean;
  theme: Theme;
  locale?: string;
  /**
   * A token for the API; `fresh` skips the cached one (after the server said it expired). Undefined when Teams could
   * not give one: the request goes without, and the server decides (a local-mode server needs none).
   */
  tokens: (fresh: boolean) => Promise<string | undefined>;
  /** Why Teams could not sign the person in, if it could not. */
  ssoProblem(): string | undefined;
  onThemeChange(handler: (theme: Theme) => void): void;
  /** Tells Teams the tab has loaded (or failed to, with the reason), so it stops showing its own loading state. */
  loaded(failure?: string): void;
  /**
   * Opens a Teams deep link in the Teams client (a chat, for example). False outside Teams: the link's own href
   * opens it then (a browser tab, which offers to open Teams).
   */
  openLink(url: string): boolean;
}

/** Teams answers the handshake in well under a second; a page framed by something else must not wait forever. */
const INITIALIZE_TIMEOUT_MS = 5_000;
/** Renew a little before expiry so a request never leaves with a token that dies on the way. */
const EXPIRY_MARGIN_MS = 2 * 60_000;

const asTheme = (t: string | undefined): Theme => (t === 'dark' || t === 'contrast' ? t : 'default');

function expiryOf(token: string): number {
  try {
    const payload = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return (payload.exp ?? 0) * 1000;
  } catch {
    return 0;
  }
}

function outsideTeams(): TeamsConnection {
  const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches;
  return {
    inTeams: false,
    theme: dark ? 'dark' : 'default',
    tokens: async () => undefined,
    ssoProblem: () => undefined,
    onThemeChange: () => undefined,
    loaded: () => undefined,
    openLink: () => false,
  };
}

/** Origins besides Teams' own that may host this page: the server lists them in local mode only (test hosts). */
function extraHostOrigins(): string[] | undefined {
  const listed = document.querySelector<HTMLMetaElement>('meta[name="teams-host-origins"]')?.content.split(' ').filter(Boolean) ?? [];
  return listed.length ? listed : undefined;
}

export async function connectTeams(): Promise<TeamsConnection> {
  // Neither framed nor opened by a window nor in a mobile Teams client (which runs tabs unframed, with a native
  // interface): a plain browser tab, not Teams.
  if (window.parent === window && !window.opener && !('nativeInterface' in window)) return outsideTeams();
  try {
    await Promise.race([
      app.initialize(extraHostOrigins()),
      new Promise((_, reject) => setTimeout(() => reject(new Error('Teams did not answer')), INITIALIZE_TIMEOUT_MS)),
    ]);
  } catch {
    return outsideTeams();
  }
  performance.mark('teams-initialized');
  let cached: { token: string; expiresAt: number } | undefined;
  let problem: string | undefined;
  const connection: TeamsConnection = {
    inTeams: true,
    theme: 'default',
    async tokens(fresh) {
      if (!fresh && cached && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return cached.token;
      try {
        const token = await authentication.getAuthToken();
        cached = { token, expiresAt: expiryOf(token) };
        problem = undefined;
        performance.mark('teams-token');
        return token;
      } catch (err) {
        // Teams says why (consent needed, not signed in, app not set up for SSO); shown if the server wants a token.
        problem = err instanceof Error ? err.message : String(err);
        return undefined;
      }
    },
    ssoProblem: () => problem,
    onThemeChange: (handler) => app.registerOnThemeChangeHandler((t) => handler(asTheme(t))),
    loaded: (failure) => void (failure ? app.notifyFailure({ reason: app.FailedReason.Other, message: failure }) : app.notifySuccess()),
    openLink(url) {
      // Teams refusing it (an older client, a link it does not know) is not the page's error: nothing else to do.
      app.openLink(url).catch(() => undefined);
      return true;
    },
  };
  // The context and the first token are asked for together: each is a round trip to Teams.
  const [context] = await Promise.all([app.getContext().catch(() => undefined), connection.tokens(false)]);
  performance.mark('teams-context');
  return { ...connection, theme: asTheme(context?.app.theme), locale: context?.app.locale };
}
