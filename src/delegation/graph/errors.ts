/**
 * What went wrong with a call to Microsoft (Entra's token endpoint or Graph), in the few kinds a caller acts on:
 * - `throttled`: wait `retryAfterMs` (Graph's or Entra's Retry-After), then try again;
 * - `transient`: 5xx, timeout, network: try again later with backoff (the change may or may not have happened:
 *   a create is recovered by its display name, see `createOrRecover`); `retryAfterMs` when a wait is known;
 * - `conflict` (409) and `preconditionFailed` (412, the ETag is stale): read the resource again and decide;
 * - `notFound` (404);
 * - `invalid` (any other 4xx, or an answer not shaped as documented): the request itself is wrong, do not repeat it;
 * - `unauthorized`: the partner's Entra app cannot get a token (wrong secret, app or tenant; the secret cannot be read)
 *   or Graph refused it (401, 403: a missing permission or service principal); the partner's setup needs fixing.
 */
export type GraphProblem =
  | { kind: 'throttled'; retryAfterMs: number }
  | { kind: 'transient'; retryAfterMs?: number }
  | { kind: 'conflict' }
  | { kind: 'preconditionFailed' }
  | { kind: 'notFound' }
  | { kind: 'invalid' }
  | { kind: 'unauthorized' };

export type GraphProblemKind = GraphProblem['kind'];

export interface GraphErrorDetails {
  /** The client operation, e.g. `createRelationship`. */
  operation: string;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** Graph's `error.code` (`badRequest`, `itemNotFound`, ...) or Entra's `error` (`invalid_client`). */
  code?: string;
  /** Graph's `request-id` or Entra's `x-ms-request-id`: what Microsoft support asks for. */
  requestId?: string;
  /** The `client-request-id` this client sent (Graph and Entra echo it). */
  clientRequestId?: string;
}

/** Thrown by the Graph client. The message carries Microsoft's error code and text, never a token or a secret. */
export class GraphError extends Error {
  readonly kind: GraphProblemKind;

  constructor(
    readonly problem: GraphProblem,
    message: string,
    readonly details: GraphErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GraphError';
    this.kind = problem.kind;
  }

  /** Worth trying again as it is (after `retryAfterMs` when given). */
  get retryable(): boolean {
    return this.kind === 'throttled' || this.kind === 'transient';
  }

  get retryAfterMs(): number | undefined {
    return this.problem.kind === 'throttled' || this.problem.kind === 'transient' ? this.problem.retryAfterMs : undefined;
  }
}

export const isGraphError = (err: unknown, kind?: GraphProblemKind): err is GraphError =>
  err instanceof GraphError && (kind === undefined || err.kind === kind);

/**
 * Retry-After in milliseconds: seconds, fractional ones included ("2.128", as Graph sends), or an HTTP date.
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Why a request got no answer: the socket error's code (ECONNREFUSED, ECONNRESET, ...) or the message. */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
