import { PermanentDeliveryError } from './messages';
import { ConversationGoneError, SendTimeoutError, type SendResult } from './sender';
import type { OutboxEntry } from './types';

/**
 * What the deliverer does after each answer, decided without touching anything: the loop in deliverer.ts carries the
 * plan out through the store, the rate limiter and its timers.
 */

/**
 * The first server-failure retry waits 100–300 ms: a 503 from Teams is usually over in well under a second, and the
 * wait holds the rest of the conversation behind it. Each later one waits up to three times the previous (decorrelated
 * jitter), without the long tail of a full-jitter draw from [0, 2^n s). The n-th failure in a row never waits less
 * than 100 ms × 2^(n-1), whatever was drawn before or which process drew it: the 11 retries `maxAttempts` allows then
 * span at least 3.4 minutes (about 7 on average), so a Teams or network outage of a few minutes does not fail entries.
 */
export const BACKOFF_BASE_MS = 100;
export const BACKOFF_CAP_MS = 300_000;
/** Teams' error codes that mean the bot can no longer post in that conversation, whatever the request was. */
const GONE_CODES = new Set(['BotNotInConversationRoster', 'ConversationBlockedByUser', 'ConversationNotFound']);

/**
 * Capped decorrelated jitter with an exponential floor: uniform in [floor, 3 × max(floor, the previous wait)), at most
 * the cap, where the floor is base × 2^(failures - 1) for the `failures`-th failed request in a row (base when unknown).
 */
export const backoffMs = (previousMs: number | undefined, random: () => number = Math.random, failures = 1): number => {
  const floor = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  const high = Math.min(BACKOFF_CAP_MS, 3 * Math.max(floor, previousMs ?? floor));
  return Math.min(BACKOFF_CAP_MS, floor + random() * (high - floor));
};

const statusOf = (err: unknown): number | undefined => {
  const e = err as { statusCode?: number; status?: number; response?: { status?: number } };
  return e?.statusCode ?? e?.response?.status ?? e?.status;
};

/** Teams' error code from the answer's body (the connector client lifts it to `code`), or a network error code. */
const codeOf = (err: unknown): string | undefined => {
  const e = err as { code?: unknown; body?: { error?: { code?: unknown } } };
  const code = e?.body?.error?.code ?? e?.code;
  return typeof code === 'string' && code ? code : undefined;
};

export const retryAfterMs = (err: unknown, nowMs = Date.now()): number | undefined => {
  const headers = (err as { response?: { headers?: { get?(n: string): string | undefined } & Record<string, unknown> } })?.response
    ?.headers;
  const raw = headers?.get?.('retry-after') ?? (headers?.['retry-after'] as string | undefined);
  if (raw === undefined || raw === null || String(raw).trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(raw));
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
};

const reasonOf = (err: unknown): string => {
  const status = statusOf(err);
  const code = codeOf(err);
  const head = err instanceof SendTimeoutError ? 'timeout' : `${status ?? 'error'}${code ? ` ${code}` : ''}`;
  return `${head}: ${(err as Error)?.message ?? String(err)}`.slice(0, 300);
};

type Verdict = 'gone' | 'throttled' | 'retry' | 'fail';

function verdictOf(err: unknown, entry: Pick<OutboxEntry, 'action'>): Verdict {
  if (err instanceof ConversationGoneError) return 'gone';
  if (err instanceof SendTimeoutError) return 'retry';
  if (err instanceof PermanentDeliveryError) return 'fail';
  const status = statusOf(err);
  if (status === 429) return 'throttled';
  const code = codeOf(err);
  // A 404 on an update can mean the message is gone while the conversation is fine: only Teams' code says more.
  if ((status === 403 || status === 404) && (entry.action.kind === 'send' || (code && GONE_CODES.has(code)))) return 'gone';
  // No status: reset, refused, DNS; the request may or may not have arrived, and trying again is how to find out.
  if (status === undefined || status >= 500 || status === 408 || status === 412) return 'retry';
  return 'fail';
}

/** How a send ended: answered, or with an error (a routing error counts as one). */
export type SendAnswer = { kind: 'sent'; result: SendResult } | { kind: 'error'; error: unknown };

export interface SendFacts {
  entry: Pick<OutboxEntry, 'attempts' | 'action' | 'target'>;
  maxAttempts: number;
  /**
   * The backoff waited after this entry's previous consecutive server-side failure (5xx, timeout, network), if any: the
   * next one grows from it. A 429 is waited out by its own Retry-After and must not make the next 5xx wait longer.
   */
  lastBackoffMs?: number;
  /** Wall-clock milliseconds, for a Retry-After given as an HTTP date. */
  nowMs: number;
  /** For backoff jitter. */
  random: () => number;
}

export type SendPlan =
  | { kind: 'markSent' }
  /**
   * `gone`: the bot can no longer post in that conversation, so the rest of its queue fails too; `deactivate` names
   * the conversation to mark inactive with the reason (absent when the sender already did, or none is known).
   */
  | { kind: 'fail'; reason: string; gone: boolean; deactivate?: string }
  /**
   * Pending again in `inMs`. `backoffMs`: the server-failure backoff to remember from now on (absent: unchanged).
   * `blockConversation`: Teams throttles the conversation, not the entry, so nothing else goes there sooner.
   */
  | { kind: 'retry'; reason: string; inMs: number; backoffMs?: number; blockConversation: boolean; mayHaveArrived: boolean };

export function planAfterSend(answer: SendAnswer, facts: SendFacts): SendPlan {
  if (answer.kind === 'sent') return { kind: 'markSent' };
  const { error } = answer;
  const { entry } = facts;
  const reason = reasonOf(error);
  const verdict = verdictOf(error, entry);
  if (verdict === 'gone') {
    // The sender names the conversation it wrote to, which for a user target is their resolved 1:1 chat.
    const conversationId =
      (error as { conversationId?: string }).conversationId ??
      (entry.target.kind === 'conversation' ? entry.target.conversationId : undefined);
    const deactivate = conversationId && !(error instanceof ConversationGoneError) ? conversationId : undefined;
    return { kind: 'fail', reason, gone: true, ...(deactivate ? { deactivate } : {}) };
  }
  if (verdict === 'fail' || entry.attempts + 1 >= facts.maxAttempts) return { kind: 'fail', reason, gone: false };
  const throttled = verdict === 'throttled';
  // A 429 without Retry-After backs off from the first window, whatever server failures came before.
  const inMs =
    (throttled ? retryAfterMs(error, facts.nowMs) : undefined) ??
    backoffMs(throttled ? undefined : facts.lastBackoffMs, facts.random, throttled ? 1 : entry.attempts + 1);
  return {
    kind: 'retry',
    reason,
    inMs,
    ...(throttled ? {} : { backoffMs: inMs }),
    blockConversation: throttled,
    mayHaveArrived: error instanceof SendTimeoutError,
  };
}

/** Where a send stands with its rate-limit slot; times are monotonic milliseconds. */
export interface SlotFacts {
  /** When the rate limiter lets it leave. */
  slotAt: number;
  now: number;
  /** A slot at most this far away is waited for. */
  horizonMs: number;
  /** The lease a send needs left when it leaves (renewals extend it while it is in flight). */
  leaseNeededMs: number;
  /** When the lease on the entry runs out, as far as this process knows (-Infinity once lost). */
  leaseEnds: number;
  stopping: boolean;
}

/** `defer`: give the entry back unsent (no attempt counted), due again in `inMs`. */
export type SlotPlan = { kind: 'send' } | { kind: 'wait'; ms: number } | { kind: 'defer'; why: 'rate' | 'stopping'; inMs: number };

export function planSlot(f: SlotFacts): SlotPlan {
  if (f.stopping) return { kind: 'defer', why: 'stopping', inMs: 0 };
  const wait = f.slotAt - f.now;
  // Give the entry back rather than send it on a lease that may run out before the send is under way.
  if (wait > f.horizonMs || Math.max(f.slotAt, f.now) + f.leaseNeededMs > f.leaseEnds)
    return { kind: 'defer', why: 'rate', inMs: Math.max(0, wait) };
  return wait > 0 ? { kind: 'wait', ms: wait } : { kind: 'send' };
}
