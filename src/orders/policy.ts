import type { Fulfilment } from './types';

/*
 * How often the fulfilment job looks again. Pure, so its timing is tested without a clock.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** How long one process holds a job while it talks to Partner Center: longer than a few slow calls with their retries. */
export const LEASE_MS = 3 * MINUTE;

/**
 * While the customer has not accepted the reseller invitation: often right after the invitation went out (that is
 * when people act on it), then less often. Accepting takes a Global Administrator a few clicks; it can also take weeks.
 */
export function customerCheckMs(f: Pick<Fulfilment, 'waitingSince'>, now: Date): number {
  const since = f.waitingSince ? now.getTime() - Date.parse(f.waitingSince) : 0;
  if (since < 10 * MINUTE) return 20 * SECOND;
  if (since < HOUR) return MINUTE;
  if (since < 24 * HOUR) return 10 * MINUTE;
  return HOUR;
}

/** A placed order is read until Partner Center reports it completed with its subscriptions. */
export function orderCheckMs(f: Pick<Fulfilment, 'placedAt'>, now: Date): number {
  const since = f.placedAt ? now.getTime() - Date.parse(f.placedAt) : 0;
  if (since < 10 * MINUTE) return 15 * SECOND;
  if (since < 24 * HOUR) return 5 * MINUTE;
  return HOUR;
}

/**
 * The wait after a failure that may pass (429, 5xx, no answer): Partner Center's Retry-After when it gave one, else
 * exponential from 10 s, capped at 30 minutes, with jitter so several processes and partners do not retry in step.
 */
export function backoffMs(attempts: number, retryAfterMs: number | undefined, random = Math.random): number {
  const exponential = Math.min(30 * MINUTE, 10 * SECOND * 2 ** Math.max(0, attempts - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.max(retryAfterMs ?? 0, Math.round(jittered));
}

/** After this many failures in a row that may pass, the partner is told once that the order is still being retried. */
export const TELL_PARTNER_AFTER_ATTEMPTS = 5;
