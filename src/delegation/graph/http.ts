import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { MicrosoftApp } from '../../directory/microsoft';
import type { Logger } from '../../log';
import { GraphError, networkReason, parseRetryAfter, type GraphErrorDetails, type GraphProblem } from './errors';
import { GraphErrorBodySchema } from './schemas';
import type { TokenSource } from './token';

export interface GraphHttpOptions {
  /** MICROSOFT_GRAPH_BASE_URL, e.g. https://graph.microsoft.com/v1.0. */
  graphBaseUrl: string;
  tokens: TokenSource;
  log: Logger;
  /** How long one Graph request may take, answer included. Default 30 s. */
  timeoutMs?: number;
}

export interface GraphRequest {
  /** The client operation, for logs and errors. */
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Under the base URL (`/tenantRelationships/...`), or an `@odata.nextLink` Graph gave (same origin only). */
  path: string;
  body?: unknown;
  /** An `@odata.etag`, sent as If-Match. */
  ifMatch?: string;
}

/** When Graph answers 429 without Retry-After (it documents sending one), wait this long. */
const DEFAULT_THROTTLE_MS = 10_000;

/**
 * One Graph request with the partner's token: Node's fetch, a timeout per call, one retry with a fresh token when
 * Graph refuses a cached one (401), the answer checked against its schema, and every failure turned into a GraphError.
 * Logged: operation, status, Graph's request-id and our client-request-id; never the token.
 */
export class GraphHttp {
  private readonly base: string;
  private readonly origin: string;
  private readonly timeoutMs: number;

  constructor(private readonly opts: GraphHttpOptions) {
    this.base = opts.graphBaseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  async call<S extends z.ZodType>(app: MicrosoftApp, req: GraphRequest, schema: S): Promise<z.output<S>>;
  async call(app: MicrosoftApp, req: GraphRequest, schema?: undefined): Promise<undefined>;
  async call<S extends z.ZodType>(app: MicrosoftApp, req: GraphRequest, schema?: S): Promise<z.output<S> | undefined> {
    const url = this.url(req);
    let answer = await this.send(app, req, url, await this.opts.tokens.token(app));
    if (answer.status === 401) {
      answer = await this.send(app, req, url, await this.opts.tokens.token(app, { forceRefresh: true }));
    }
    const { status, details, json } = answer;
    if (status >= 200 && status < 300) {
      if (!schema) return undefined;
      const parsed = schema.safeParse(json);
      if (parsed.success) return parsed.data;
      const issues = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(body)'} ${i.message}`)
        .join('; ');
      throw this.failed(app, { kind: 'invalid' }, `Graph's answer to ${req.operation} is not shaped as documented: ${issues}`, details);
    }
    const error = GraphErrorBodySchema.safeParse(json);
    const code = error.success ? (error.data.error.innerError?.code ?? error.data.error.code) : undefined;
    const topCode = error.success ? error.data.error.code : undefined;
    const text = error.success ? error.data.error.message : undefined;
    const withCode = { ...details, ...(topCode ? { code: topCode } : {}) };
    const said = `HTTP ${status}${topCode ? ` ${topCode}` : ''}${code && code !== topCode ? ` (${code})` : ''}${text ? `: ${text}` : ''}`;
    throw this.failed(app, problemFor(status, answer.retryAfterMs), `Graph refused ${req.operation}: ${said}`, withCode);
  }

  private url(req: GraphRequest): string {
    if (!/^https?:/i.test(req.path)) return `${this.base}${req.path.startsWith('/') ? '' : '/'}${req.path}`;
    // A nextLink is followed with the partner's token only on Graph's own origin.
    if (new URL(req.path).origin !== this.origin) {
      throw new GraphError({ kind: 'invalid' }, `Graph gave a next page on another host for ${req.operation}; not followed`, {
        operation: req.operation,
      });
    }
    return req.path;
  }

  private async send(app: MicrosoftApp, req: GraphRequest, url: string, token: string) {
    const clientRequestId = randomUUID();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'client-request-id': clientRequestId,
      'return-client-request-id': 'true',
    };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.ifMatch) headers['if-match'] = req.ifMatch;
    const started = Date.now();
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: AbortSignal.timeout(this.timeoutMs),
        // Never carry the token to wherever a redirect points.
        redirect: 'manual',
      });
      text = await res.text();
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      const reason = timedOut ? `no answer within ${Math.round(this.timeoutMs / 1000)} s` : networkReason(err);
      throw this.failed(
        app,
        { kind: 'transient' },
        `Graph did not answer ${req.operation}: ${reason}`,
        { operation: req.operation, clientRequestId },
        err,
      );
    }
    const details: GraphErrorDetails = {
      operation: req.operation,
      status: res.status,
      ...(res.headers.get('request-id') ? { requestId: res.headers.get('request-id')! } : {}),
      clientRequestId: res.headers.get('client-request-id') ?? clientRequestId,
    };
    this.opts.log.debug({ partnerTenantId: app.tenantId, method: req.method, ms: Date.now() - started, ...details }, 'Graph call');
    let json: unknown;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: res.status, details, json, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
  }

  private failed(app: MicrosoftApp, problem: GraphProblem, message: string, details: GraphErrorDetails, cause?: unknown): GraphError {
    this.opts.log.warn({ partnerTenantId: app.tenantId, kind: problem.kind, ...details }, message);
    return new GraphError(problem, message, details, { cause });
  }
}

/** HTTP status (and Retry-After) to what the caller does about it. */
export function problemFor(status: number, retryAfterMs: number | undefined): GraphProblem {
  if (status === 429) return { kind: 'throttled', retryAfterMs: retryAfterMs ?? DEFAULT_THROTTLE_MS };
  if (status >= 500) return retryAfterMs !== undefined ? { kind: 'throttled', retryAfterMs } : { kind: 'transient' };
  if (status === 401 || status === 403) return { kind: 'unauthorized' };
  if (status === 404) return { kind: 'notFound' };
  if (status === 409) return { kind: 'conflict' };
  if (status === 412) return { kind: 'preconditionFailed' };
  return { kind: 'invalid' };
}
