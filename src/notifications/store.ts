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
  /**
   * The deliverer's heartbeat: extends to `leaseUntil` the lease of each of `ids` that is still pending and leased to
   * `owner` (a compare-and-set on the lease owner, whether or not the lease has run out meanwhile: if nobody took the
   * entry over, it is still only this owner's). Returns the ids renewed; any other was settled or taken over by another
   * owner, and is no longer the caller's to send.
   */
  renew(owner: string, ids: string[], leaseUntil: string): Promise<string[]>;
  markSent(id: string, owner: string): Promise<void>;
  /**
   * Marks several entries sent in one write (one transaction), each only if `owner` still holds its lease: the
   * deliverer settles everything answered in the same moment together instead of committing once per entry.
   * `attempts`: the requests this lease made for the entry, counted onto it (default 1); `lastError`: why the last of
   * those that failed did (retried in hand), kept as retryLater would have. Returns how many it marked.
   */
  markSentMany(owner: string, sent: { id: string; attempts?: number; lastError?: string }[]): Promise<number>;
  /**
   * Pending again at `at`, lease given back. `attempts` (default 1): the requests this lease made for it, retries the
   * deliverer waited for in hand included, so `maxAttempts` counts every request whoever made it.
   */
  retryLater(id: string, owner: string, at: string, error: string, attempts?: number): Promise<void>;
  markFailed(id: string, owner: string, error: string, attempts?: number): Promise<void>;
  /**
   * Gives a leased entry back unsent, due again at `at`: the rate limiter said not yet. Only the lease owner can.
   * `attempts` (default 0): requests this lease already made for it (retried in hand) that are counted now, and
   * `lastError` why the last of them failed.
   */
  defer(id: string, owner: string, at: string, attempts?: number, lastError?: string): Promise<void>;
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
