import { randomUUID } from 'node:crypto';
import {
  AuthError,
  ClientConfigurationError,
  ConfidentialClientApplication,
  ServerError,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import type { MicrosoftApp } from '../../directory/microsoft';
import type { Logger } from '../../log';
import { graphScope, msalAuthority } from './authority';
import { CredentialUnavailableError, readCredential, type CredentialSources } from './credentials';
import { GraphError, networkReason, parseRetryAfter, type GraphErrorDetails, type GraphProblem } from './errors';

export interface TokenSourceOptions {
  /** Entra's login host (MICROSOFT_AUTHORITY_HOST). */
  authorityHost: string;
  /** Graph's base URL (MICROSOFT_GRAPH_BASE_URL): the token's scope is its origin + `/.default`. */
  graphBaseUrl: string;
  /** Another API's `.default` scope instead of Graph's (Partner Center's is fixed, whatever its base URL). */
  scope?: string;
  /** Which API the tokens are for, in log lines. Default "Graph". */
  api?: string;
  log: Logger;
  /** How long one request to the token endpoint may take (msal-node sets no limit on it). Default 30 s. */
  timeoutMs?: number;
  /** Where secrets are read from at every call: `secretSources(process.env)` in the composition root. */
  sources: CredentialSources;
  now?: () => number;
}

/** msal-node's wait after a 429 or 5xx without Retry-After, and its longest (msal-common ThrottlingUtils). */
const MSAL_DEFAULT_THROTTLE_MS = 60_000;
const MSAL_MAX_THROTTLE_MS = 3_600_000;

interface LastAnswer {
  status: number;
  requestId?: string;
  clientRequestId?: string;
}

interface PartnerApp {
  cca: ConfidentialClientApplication;
  /** Of the secret or certificate the app was built with: a rotated one builds a new app. */
  fingerprint: string;
  /**
   * msal-node remembers a 429, a 5xx or a Retry-After from the token endpoint and fails every call locally, without a
   * request, until the wait is over. The same wait is kept here, so callers get the original problem and how long is
   * left rather than msal's replay (which has no status).
   */
  blocked?: { until: number; problem: GraphProblem; message: string; details: GraphErrorDetails };
  last?: LastAnswer;
  lastFailure?: string;
}

/**
 * Access tokens for Microsoft Graph with each partner's own Entra app (client credentials, msal-node). One
 * ConfidentialClientApplication per partner app, kept while its credential stays the same, so msal's token cache
 * serves every call until the token is about to expire. The secret is read from its source at every call (cheap: an
 * environment variable or a small file) and only its fingerprint is kept here; tokens and secrets are never logged.
 */
export class TokenSource {
  private readonly apps = new Map<string, PartnerApp>();
  private readonly scope: string;
  private readonly timeoutMs: number;
  private readonly sources: CredentialSources;
  private readonly now: () => number;

  constructor(private readonly opts: TokenSourceOptions) {
    this.scope = opts.scope ?? graphScope(opts.graphBaseUrl);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.sources = opts.sources;
    this.now = opts.now ?? Date.now;
  }

  /** A bearer token for Graph; `forceRefresh` skips msal's cache (after Graph refused a cached token). */
  async token(app: MicrosoftApp, options: { forceRefresh?: boolean } = {}): Promise<string> {
    const details: GraphErrorDetails = { operation: 'token' };
    let credential;
    try {
      credential = readCredential(app, this.sources);
    } catch (err) {
      if (!(err instanceof CredentialUnavailableError)) throw err;
      throw this.fail(
        app,
        { kind: 'unauthorized' },
        `The Microsoft credential of app ${app.clientId} is unavailable: ${err.message}.`,
        details,
        err,
      );
    }
    const key = `${app.tenantId}|${app.clientId}`;
    let entry = this.apps.get(key);
    if (!entry || entry.fingerprint !== credential.fingerprint) {
      entry = this.build(app, credential.credential, credential.fingerprint);
      this.apps.set(key, entry);
    }
    const blocked = entry.blocked;
    if (blocked && blocked.until > this.now()) {
      const left = blocked.until - this.now();
      const problem: GraphProblem =
        blocked.problem.kind === 'throttled' || blocked.problem.kind === 'transient'
          ? { ...blocked.problem, retryAfterMs: left }
          : blocked.problem;
      throw new GraphError(
        problem,
        `${blocked.message} (msal-node waits ${Math.ceil(left / 1000)} s more before asking again)`,
        blocked.details,
      );
    }
    entry.last = undefined;
    entry.lastFailure = undefined;
    try {
      const result = await entry.cca.acquireTokenByClientCredential({ scopes: [this.scope], skipCache: options.forceRefresh ?? false });
      if (!result?.accessToken)
        throw this.fail(app, { kind: 'transient' }, 'Entra answered without an access token.', this.withIds(details, entry));
      this.opts.log.debug(
        { partnerTenantId: app.tenantId, clientId: app.clientId, fromCache: result.fromCache, expiresOn: result.expiresOn?.toISOString() },
        `${this.opts.api ?? 'Graph'} token`,
      );
      return result.accessToken;
    } catch (err) {
      if (err instanceof GraphError) throw err;
      throw this.mapMsalError(app, entry, err, this.withIds(details, entry));
    }
  }

  private build(app: MicrosoftApp, credential: ReturnType<typeof readCredential>['credential'], fingerprint: string): PartnerApp {
    const entry = { fingerprint } as PartnerApp;
    entry.cca = new ConfidentialClientApplication({
      auth: { clientId: app.clientId, ...msalAuthority(this.opts.authorityHost, app.tenantId), ...credential },
      system: { networkClient: this.networkClient(entry) },
    });
    return entry;
  }

  private withIds(details: GraphErrorDetails, entry: PartnerApp): GraphErrorDetails {
    return {
      ...details,
      ...(entry.last?.status ? { status: entry.last.status } : {}),
      ...(entry.last?.requestId ? { requestId: entry.last.requestId } : {}),
      ...(entry.last?.clientRequestId ? { clientRequestId: entry.last.clientRequestId } : {}),
    };
  }

  private mapMsalError(app: MicrosoftApp, entry: PartnerApp, err: unknown, details: GraphErrorDetails): GraphError {
    const who = `app ${app.clientId} of tenant ${app.tenantId}`;
    if (err instanceof ServerError) {
      const code = err.errorCode || undefined;
      const aadsts = err.errorNo ? ` (AADSTS${err.errorNo})` : '';
      const status = err.status ?? entry.last?.status;
      const withCode = { ...details, ...(code ? { code } : {}) };
      if (err.status === undefined && !entry.last) {
        // msal-node's replay of a throttled answer; our own record of the wait is gone or shorter.
        return this.fail(app, { kind: 'throttled', retryAfterMs: 1_000 }, `Entra's token endpoint asked ${who} to wait.`, withCode, err);
      }
      if (status === 429 || (status !== undefined && status >= 500)) {
        const problem = entry.blocked?.problem ?? { kind: 'transient' as const, retryAfterMs: MSAL_DEFAULT_THROTTLE_MS };
        const message =
          problem.kind === 'throttled'
            ? `Entra's token endpoint is throttling ${who} (HTTP ${status}).`
            : `Entra's token endpoint is unavailable (HTTP ${status}${code ? `, ${code}` : ''}${aadsts}).`;
        return this.fail(app, problem, message, withCode, err, entry);
      }
      return this.fail(
        app,
        { kind: 'unauthorized' },
        `Entra refused a token to ${who}: ${code ?? 'error'}${aadsts}. ${describe(err.errorMessage)}`.trim(),
        withCode,
        err,
        entry,
      );
    }
    if (err instanceof ClientConfigurationError) {
      return this.fail(app, { kind: 'unauthorized' }, `msal-node cannot use the settings of ${who}: ${err.errorCode}.`, details, err);
    }
    if (err instanceof AuthError && TRANSIENT_MSAL_CODES.has(err.errorCode)) {
      const reason = entry.lastFailure ?? err.errorCode;
      return this.fail(app, { kind: 'transient' }, `Entra's token endpoint could not be reached: ${reason}.`, details, err);
    }
    const what = err instanceof AuthError ? err.errorCode : err instanceof Error ? err.message : String(err);
    return this.fail(app, { kind: 'unauthorized' }, `No token for ${who}: ${what}.`, details, err);
  }

  private fail(
    app: MicrosoftApp,
    problem: GraphProblem,
    message: string,
    details: GraphErrorDetails,
    cause?: unknown,
    entry?: PartnerApp,
  ): GraphError {
    if (entry?.blocked && entry.blocked.until > this.now()) {
      entry.blocked = { ...entry.blocked, problem, message, details };
    }
    this.opts.log.warn(
      { partnerTenantId: app.tenantId, clientId: app.clientId, kind: problem.kind, ...details },
      `${this.opts.api ?? 'Graph'} token: ${message}`,
    );
    return new GraphError(problem, message, details, { cause });
  }

  /**
   * msal-node's requests go through this: Node's fetch with a timeout (msal's own client has none for POST), and a
   * look at each answer's status, request ids and Retry-After. The request body (which carries the secret) is never
   * logged.
   */
  private networkClient(entry: PartnerApp): INetworkModule {
    const send = async <T>(
      url: string,
      method: 'GET' | 'POST',
      options?: NetworkRequestOptions,
      timeoutMs = this.timeoutMs,
    ): Promise<NetworkResponse<T>> => {
      const clientRequestId = new URL(url).searchParams.get('client-request-id') ?? randomUUID();
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, {
          method,
          headers: options?.headers,
          body: method === 'POST' ? (options?.body ?? '') : undefined,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual',
        });
        text = await res.text();
      } catch (err) {
        const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : networkReason(err);
        entry.lastFailure = reason;
        entry.last = { status: 0, clientRequestId };
        throw new AuthError('network_error', `Token endpoint request failed: ${reason}`);
      }
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => (headers[name] = value));
      entry.last = {
        status: res.status,
        ...(headers['x-ms-request-id'] ? { requestId: headers['x-ms-request-id'] } : {}),
        clientRequestId: headers['client-request-id'] ?? clientRequestId,
      };
      this.noteThrottle(entry, res.status, headers['retry-after']);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        if (res.ok)
          throw new AuthError('token_parsing_error', `The token endpoint answered HTTP ${res.status} with a body that is not JSON`);
        // A proxy's HTML error page: shaped as Entra's error so msal-node reports the status.
        body = {
          error: res.status === 429 ? 'throttled' : res.status >= 500 ? 'server_error' : 'invalid_request',
          error_description: `HTTP ${res.status}`,
        };
      }
      return { headers, body: body as T, status: res.status };
    };
    return {
      sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) => send<T>(url, 'GET', options, timeout),
      sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>(url, 'POST', options),
    };
  }

  /** Mirrors msal-common's ThrottlingUtils: a 429, a 5xx, or any error answer with Retry-After makes msal wait. */
  private noteThrottle(entry: PartnerApp, status: number, retryAfterHeader: string | undefined): void {
    const isError = status < 200 || status >= 300;
    if (!(status === 429 || status >= 500 || (isError && retryAfterHeader !== undefined))) return;
    const given = parseRetryAfter(retryAfterHeader, this.now());
    // msal reads Retry-After with parseInt (whole seconds, 60 s when absent or 0); a little margin keeps this wait
    // at least as long as msal's, so a call after it really reaches the endpoint.
    const waitMs = Math.min(given && given > 0 ? given : MSAL_DEFAULT_THROTTLE_MS, MSAL_MAX_THROTTLE_MS) + 250;
    const problem: GraphProblem =
      status === 429 || given !== undefined ? { kind: 'throttled', retryAfterMs: waitMs } : { kind: 'transient', retryAfterMs: waitMs };
    entry.blocked = {
      until: this.now() + waitMs,
      problem,
      message: `Entra's token endpoint answered HTTP ${status}`,
      details: { operation: 'token', status },
    };
  }
}

/** msal-node's error codes for a request that failed on the way, not a refusal. */
const TRANSIENT_MSAL_CODES = new Set([
  'network_error',
  'token_parsing_error',
  'no_network_connectivity',
  'endpoints_resolution_error',
  'openid_config_error',
]);

/** Entra's error description without msal's framing ("Error(s): ... - Description: ... - Correlation ID: ..."). */
function describe(message: string): string {
  const m = /Description: (.*?)(?: - Correlation ID:| - Trace ID:|$)/s.exec(message);
  return (m?.[1] ?? message).split(/\r?\n/)[0]!.slice(0, 300);
}
