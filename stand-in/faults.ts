/**
 * Faults armed by tests: the next N matching requests are throttled (429 + Retry-After, fractional seconds allowed
 * as Graph sends them: https://learn.microsoft.com/en-us/graph/throttling), answer 5xx, hang, answer late, or lose
 * their connection. A fault is consumed by the request it hits, before authentication. Partner Center's throttling
 * answer follows https://learn.microsoft.com/en-us/partner-center/developer/api-throttling-guidance.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { entraErrorBody, graphErrorBody, requestIds } from './http';
import { pcErrorBody, pcIds } from './partner-center';
import type { Fault, FaultSpec, RequestLogEntry } from './types';

const KINDS = ['throttle', 'error', 'hang', 'delay', 'drop', 'reset'] as const;
const TARGETS = ['graph', 'token', 'admin', 'partnercenter', 'any'] as const;

export class Faults {
  private list: Fault[] = [];

  add(spec: FaultSpec): Fault {
    if (!(KINDS as readonly string[]).includes(spec.kind))
      throw new Error(`Unknown fault kind ${String(spec.kind)}; one of ${KINDS.join(', ')}`);
    const target = spec.target ?? 'graph';
    if (!(TARGETS as readonly string[]).includes(target))
      throw new Error(`Unknown fault target ${String(target)}; one of ${TARGETS.join(', ')}`);
    const times = spec.times ?? 1;
    if (times !== 'always' && (!Number.isInteger(times) || times < 1)) throw new Error('times is a positive integer or "always"');
    if (spec.kind === 'delay' && !(typeof spec.delayMs === 'number' && spec.delayMs >= 0)) throw new Error('A delay fault needs delayMs');
    if (spec.retryAfterSeconds !== undefined && !(spec.retryAfterSeconds >= 0))
      throw new Error('retryAfterSeconds is a non-negative number');
    if (spec.kind === 'error' && spec.status !== undefined && !(spec.status >= 500 && spec.status <= 599))
      throw new Error('An error fault has a 5xx status');
    const fault: Fault = { id: randomUUID(), kind: spec.kind, target, spec, remaining: times };
    this.list.push(fault);
    return fault;
  }

  remove(id: string): void {
    this.list = this.list.filter((f) => f.id !== id);
  }

  removeWhere(pred: (f: Fault) => boolean): void {
    this.list = this.list.filter((f) => !pred(f));
  }

  clear(): void {
    this.list = [];
  }

  all(): Fault[] {
    return this.list.map((f) => ({ ...f }));
  }

  /** The first armed fault matching the request, consumed by one. */
  take(kind: RequestLogEntry['kind'], method: string, path: string): Fault | undefined {
    const fault = this.list.find((f) => {
      if (f.target !== 'any' && f.target !== kind) return false;
      if (f.spec.method && f.spec.method.toUpperCase() !== method.toUpperCase()) return false;
      const p = f.spec.path;
      if (p instanceof RegExp) return p.test(path);
      if (typeof p === 'string') return path.toLowerCase().includes(p.toLowerCase());
      return true;
    });
    if (!fault) return undefined;
    if (fault.remaining !== 'always') {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.remove(fault.id);
    }
    return fault;
  }
}

/** The status, headers and body a throttle or error fault answers with, in the shape of the endpoint it hits. */
export function faultAnswer(
  fault: Fault,
  kind: RequestLogEntry['kind'],
  req: IncomingMessage,
  now: Date,
): { status: number; headers: Record<string, string>; body: unknown } {
  const throttle = fault.kind === 'throttle';
  const status = throttle ? 429 : (fault.spec.status ?? 503);
  const retryAfter = throttle ? (fault.spec.retryAfterSeconds ?? 1) : fault.spec.retryAfterSeconds;
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
  if (kind === 'token') {
    const body = throttle
      ? entraErrorBody(
          'temporarily_unavailable',
          50196,
          'The server terminated an operation because it encountered a client request loop. Please try again later.',
          now,
        )
      : entraErrorBody('temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.', now);
    return { status, headers, body };
  }
  if (kind === 'partnercenter') {
    // api-throttling-guidance: 429 `{ statusCode, message }` + Retry-After; other errors in error-codes' shape.
    const ids = pcIds(req);
    Object.assign(headers, { 'MS-RequestId': ids.requestId, 'MS-CorrelationId': ids.correlationId });
    if (throttle)
      return { status, headers, body: { statusCode: 429, message: `Rate limit is exceeded. Try again in ${retryAfter ?? 1} seconds.` } };
    const description =
      status === 503 ? 'The service is temporarily unavailable. Try again later.' : 'An unexpected error occurred. Try again later.';
    return {
      status,
      headers,
      body: pcErrorBody(status, description, status === 503 ? 'ServiceUnavailable' : 'InternalServerError', status),
    };
  }
  const ids = requestIds(req);
  Object.assign(headers, { 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId });
  if (throttle) {
    // The throttling page's sample response.
    const body = graphErrorBody('TooManyRequests', 'Please retry again later.', ids, now, '429');
    Object.assign(body.error.innerError, { message: 'Please retry after', status: '429' });
    return { status, headers, body };
  }
  const code =
    status === 503 ? 'serviceNotAvailable' : status === 504 ? 'gatewayTimeout' : status === 502 ? 'badGateway' : 'generalException';
  const message =
    status === 503 ? 'The service is temporarily unavailable. Try the request again after a delay.' : 'An unspecified error has occurred.';
  return { status, headers, body: graphErrorBody(code, message, ids, now) };
}
