import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { MicrosoftApp } from '../../directory/microsoft';
import { isGraphError, networkReason, parseRetryAfter } from '../../delegation/graph/errors';
import { problemFor } from '../../delegation/graph/http';
import type { TokenSource } from '../../delegation/graph/token';
import type { Logger } from '../../log';
import { PartnerCenterError, type PartnerCenterErrorDetails, type PartnerCenterProblem } from './errors';
import { PcErrorBodySchema } from './schemas';

export interface PartnerCenterHttpOptions {
  /** PARTNER_CENTER_BASE_URL, e.g. https://api.partnercenter.microsoft.com/v1. */
  baseUrl: string;
  tokens: TokenSource;
  log: Logger;
  /** One request, answer included. Default 30 s. */
  timeoutMs?: number;
  /** Tries per call for a 429, a 5xx or no answer, when the wait is short (below). Default 3. */
  attempts?: number;
  /** The longest wait between tries inside one call; a longer Retry-After is left to the caller. Default 30 s. */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PartnerCenterRequest {
  operation: string;
  method: 'GET' | 'POST' | 'PUT';
  /** Under the base URL: `customers/{id}/carts`. */
  path: string;
  body?: unknown;
  /**
   * `MS-RequestId`: Partner Center's idempotency key ("used to ensure id-potency"). The same id on every try of one
   * operation, and stored by the caller where a crash could repeat it (creating a cart).
   */
  requestId?: string;
  /** `MS-CorrelationId`: one per fulfilment. */
  correlationId?: string;
}

const sleeper = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One Partner Center call with the partner's token: Node's fetch, a timeout per try, the headers Partner Center asks
 * for (MS-RequestId, MS-CorrelationId, MS-Contract-Version), a fresh token once after a 401, and a few tries after a 429
 * (waiting its Retry-After), a 5xx or no answer, all with the same MS-RequestId. Every failure is a PartnerCenterError.
 * Logged: operation, status and the request ids; never the token.
 */
export class PartnerCenterHttp {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: PartnerCenterHttpOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.attempts = opts.attempts ?? 3;
    this.maxWaitMs = opts.maxWaitMs ?? 30_000;
    this.sleep = opts.sleep ?? sleeper;
  }

  async call<S extends z.ZodType>(app: MicrosoftApp, req: PartnerCenterRequest, schema: S): Promise<z.output<S>> {
    const ids = { requestId: req.requestId ?? randomUUID(), correlationId: req.correlationId ?? randomUUID() };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(app, req, ids, schema);
      } catch (err) {
        if (!(err instanceof PartnerCenterError) || !err.retryable || attempt >= this.attempts) throw err;
        const wait = err.retryAfterMs ?? 500 * 2 ** (attempt - 1);
        if (wait > this.maxWaitMs) throw err;
        await this.sleep(wait);
      }
    }
  }

  private async once<S extends z.ZodType>(
    app: MicrosoftApp,
    req: PartnerCenterRequest,
    ids: { requestId: string; correlationId: string },
    schema: S,
  ): Promise<z.output<S>> {
    let answer = await this.send(app, req, ids, await this.token(app, req, ids));
    if (answer.status === 401) answer = await this.send(app, req, ids, await this.token(app, req, ids, true));
    const { status, details, json } = answer;
    if (status >= 200 && status < 300) {
      const parsed = schema.safeParse(json);
      if (parsed.success) return parsed.data;
      const issues = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(body)'} ${i.message}`)
        .join('; ');
      throw this.failed(
        app,
        { kind: 'invalid' },
        `Partner Center's answer to ${req.operation} is not shaped as documented: ${issues}`,
        details,
      );
    }
    const error = PcErrorBodySchema.safeParse(json);
    const code = error.success && error.data.code !== undefined ? String(error.data.code) : undefined;
    const description = error.success ? (error.data.description ?? error.data.message) : undefined;
    const said = `HTTP ${status}${code ? ` (code ${code})` : ''}${description ? `: ${description}` : ''}`;
    throw this.failed(
      app,
      problemFor(status, answer.retryAfterMs),
      `Partner Center refused ${req.operation}: ${said}`,
      { ...details, ...(code ? { code } : {}) },
      description,
    );
  }

  private async token(
    app: MicrosoftApp,
    req: PartnerCenterRequest,
    ids: { requestId: string; correlationId: string },
    forceRefresh = false,
  ) {
    try {
      return await this.opts.tokens.token(app, { forceRefresh });
    } catch (err) {
      if (!isGraphError(err)) throw err;
      throw new PartnerCenterError(
        err.problem,
        err.message,
        { operation: req.operation, ...ids, ...(err.details.code ? { code: err.details.code } : {}) },
        undefined,
        {
          cause: err,
        },
      );
    }
  }

  private async send(app: MicrosoftApp, req: PartnerCenterRequest, ids: { requestId: string; correlationId: string }, token: string) {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'ms-requestid': ids.requestId,
      'ms-correlationid': ids.correlationId,
      'ms-contract-version': 'v1',
    };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const details: PartnerCenterErrorDetails = { operation: req.operation, ...ids };
    const started = Date.now();
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.base}/${req.path.replace(/^\/+/, '')}`, {
        method: req.method,
        headers,
        body: req.body === undefined ? (req.method === 'POST' ? '' : undefined) : JSON.stringify(req.body),
        signal: AbortSignal.timeout(this.timeoutMs),
        // Never carry the token to wherever a redirect points.
        redirect: 'manual',
      });
      text = await res.text();
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      const reason = timedOut ? `no answer within ${Math.round(this.timeoutMs / 1000)} s` : networkReason(err);
      throw this.failed(app, { kind: 'transient' }, `Partner Center did not answer ${req.operation}: ${reason}`, details, undefined, err);
    }
    this.opts.log.debug(
      { partnerTenantId: app.tenantId, method: req.method, status: res.status, ms: Date.now() - started, ...details },
      'Partner Center call',
    );
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return {
      status: res.status,
      details: { ...details, status: res.status },
      json,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    };
  }

  private failed(
    app: MicrosoftApp,
    problem: PartnerCenterProblem,
    message: string,
    details: PartnerCenterErrorDetails,
    description?: string,
    cause?: unknown,
  ): PartnerCenterError {
    this.opts.log.warn({ partnerTenantId: app.tenantId, kind: problem.kind, ...details }, message);
    return new PartnerCenterError(problem, message, details, description, { cause });
  }
}
