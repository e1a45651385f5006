import type { NotificationChannel } from '../directory/types';
import type { NewOutboxEntry, OutboxEntry } from './types';

export interface OutboxStats {
  pending: number;
  failed: number;
  oldestPendingAt?: string;
}

/**
 * The outbox: messages to send, written in the same transaction as the change they tell of, and leased to one
 * deliverer at a time.
 */
export interface OutboxStore {
  /** Leases up to `limit` due entries to `owner` until `leaseUntil`; expired leases are taken over. */
  claim(owner: string, now: string, leaseUntil: string, limit: number): Promise<OutboxEntry[]>;
  markSent(id: string, owner: string): Promise<void>;
  retryLater(id: string, owner: string, at: string, error: string): Promise<void>;
  markFailed(id: string, owner: string, error: string): Promise<void>;
  /**
   * Gives a leased entry back unsent, due again at `at`, without counting an attempt: the rate limiter said not yet.
   * Only the lease owner can.
   */
  defer(id: string, owner: string, at: string): Promise<void>;
  /** Failed entries about one partner's business (`partnerTenantId`), newest first. */
  failedFor(partnerTenantId: string, limit: number): Promise<OutboxEntry[]>;
  /**
   * Puts these failed entries back in the queue, due at `now`, attempts from zero, last error kept until the next
   * try; entries that are not failed (or not this partner's) are left alone. Returns how many were requeued.
   */
  retryFailed(partnerTenantId: string, ids: string[], now: string): Promise<number>;
  stats(): Promise<OutboxStats>;
  /** For tests and status: entries about one subject. */
  forSubject(subjectId: string): Promise<OutboxEntry[]>;
  /**
   * Retention (OUTBOX_RETENTION_DAYS): deletes up to `limit` delivered entries marked sent before `sentBefore`, oldest
   * first, and returns how many (a limit of 0 or less deletes nothing). Pending and failed entries are never deleted.
   * Bounded, so a caller (the sweep) can spread a large backlog over several short calls.
   */
  pruneSent(sentBefore: string, limit: number): Promise<number>;
}

/**
 * Each partner's notification channel, kept apart from its registry entry so the partners file (upserted at every
 * start) never overwrites what partner staff chose in Teams.
 */
export interface ChannelsStore {
  /** null turns notifications off. */
  set(partnerTenantId: string, channel: NotificationChannel | null): Promise<void>;
  get(partnerTenantId: string): Promise<NotificationChannel | null>;
}

/** A new outbox entry as both adapters store it: due now, never tried. */
export function outboxRow(e: NewOutboxEntry, id: string, at: string): OutboxEntry {
  return { ...e, id, state: 'pending', attempts: 0, createdAt: at, nextAttemptAt: at };
}
