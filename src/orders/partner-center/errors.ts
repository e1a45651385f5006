import type { GraphProblem, GraphProblemKind } from '../../delegation/graph/errors';

/** The same few kinds a caller acts on as for Graph (see GraphProblem): retry, wait, or stop and tell the partner. */
export type PartnerCenterProblem = GraphProblem;

export interface PartnerCenterErrorDetails {
  /** The client operation, e.g. `checkout`. */
  operation: string;
  status?: number;
  /** Partner Center's error `code` (800070, 900121, ...), or Entra's `error` for a token problem. */
  code?: string;
  /** The `MS-RequestId` sent (kept across retries of one operation: Partner Center's idempotency key). */
  requestId?: string;
  /** The `MS-CorrelationId` sent: one per fulfilment, so Microsoft support can see all of its calls together. */
  correlationId?: string;
}

/** Thrown by the Partner Center client. The message carries Partner Center's code and description, never a token. */
export class PartnerCenterError extends Error {
  readonly kind: GraphProblemKind;

  constructor(
    readonly problem: PartnerCenterProblem,
    message: string,
    readonly details: PartnerCenterErrorDetails,
    /** Partner Center's own `description`, for the partner's card (the message adds the HTTP framing). */
    readonly description?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PartnerCenterError';
    this.kind = problem.kind;
  }

  get retryable(): boolean {
    return this.kind === 'throttled' || this.kind === 'transient';
  }

  get retryAfterMs(): number | undefined {
    return this.problem.kind === 'throttled' || this.problem.kind === 'transient' ? this.problem.retryAfterMs : undefined;
  }
}

export const isPartnerCenterError = (err: unknown, kind?: GraphProblemKind): err is PartnerCenterError =>
  err instanceof PartnerCenterError && (kind === undefined || err.kind === kind);
