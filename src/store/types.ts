import type { ConversationRecord, NotificationChannel } from '../directory/types';
import type { Partner } from '../directory/partners';
import type { NewResponse, Offer, ResponseRecord } from '../offers/types';
import type { NewOutboxEntry, OutboxEntry } from '../notifications/types';
import type { Relationship, RelationshipKind } from '../delegation/types';
import type { Lead, Listing, ListingQuery } from '../marketplace/types';
import type { PipelinePage, PipelineQuery, PipelineSummary } from '../dashboard/types';

export type DecideResult =
  | { status: 'recorded'; offer: Offer; response: ResponseRecord }
  /** Someone (or the same click, retried) got there first: nothing changed. */
  | { status: 'already'; offer: Offer; response: ResponseRecord }
  /** The offer changed underneath (withdrawn, expired, delivered again): re-read and re-decide. */
  | { status: 'conflict'; offer: Offer | null };

/** A customer's answer to a delegation or partner-of-record request, or the act that ends an active relationship. */
export interface RelationshipDecision {
  /** The relationship as it is after the decision (active, declined, terminated). */
  next: Relationship;
  expectedVersion: number;
  /**
   * Approvals only (`next.state === 'active'`): the customer's active relationship of this kind that the approver was
   * shown (null: none). The store checks it is still the one; if it is not, nothing is written and the answer is
   * `activeChanged`. When it is set, `ended` is that relationship as terminated (replaced), written in the same
   * transaction, so there is never a moment with two active relationships or with none.
   */
  replaces?: { expectedActiveId: string | null; ended?: { next: Relationship; expectedVersion: number } };
  /** The first is the decision on `next` (unique per subject and slot); a replace adds the old one's termination. */
  responses: NewResponse[];
  outbox: NewOutboxEntry[];
}

export type RelationshipDecideResult =
  | { status: 'recorded'; relationship: Relationship; responses: ResponseRecord[] }
  /** The first response's (subject, slot) is already recorded: nothing changed; this is what was recorded. */
  | { status: 'already'; relationship: Relationship; response: ResponseRecord }
  /** The customer's active relationship of this kind is not the one expected (someone else won): nothing changed. */
  | { status: 'activeChanged'; active: Relationship | null }
  /** `next` (or the relationship being replaced) changed underneath: re-read and re-decide. */
  | { status: 'conflict'; relationship: Relationship | null };

export interface OfferQuery {
  partnerTenantId: string;
  approverEmail?: string;
  limit: number;
}

export interface CustomerSummary {
  approverEmail: string;
  customerTenantId?: string;
  offers: number;
  pending: number;
  accepted: number;
  lastActivityAt: string;
}

export interface OutboxStats {
  pending: number;
  failed: number;
  oldestPendingAt?: string;
}

/**
 * The domain's view of storage: operations, not a key-value bag. Only adapters know tables and collections.
 * Every write that must happen together is one call, so each adapter can make it one transaction.
 */
export interface Store {
  readonly kind: 'sqlite' | 'mongo';
  ping(): Promise<void>;
  close(): Promise<void>;

  partners: {
    upsert(partner: Partner): Promise<void>;
    get(tenantId: string): Promise<Partner | null>;
    /**
     * The partner's notification channel, kept apart from the registry entry so the partners file (upserted at every
     * start) never overwrites what partner staff chose in Teams. null turns notifications off.
     */
    setNotificationChannel(tenantId: string, channel: NotificationChannel | null): Promise<void>;
    notificationChannel(tenantId: string): Promise<NotificationChannel | null>;
  };

  conversations: {
    upsert(record: ConversationRecord): Promise<void>;
    get(conversationId: string): Promise<ConversationRecord | null>;
    findPersonal(tenantId: string, aadObjectId: string): Promise<ConversationRecord | null>;
    /** The most recently active personal chat of the user with that email or UPN. */
    findPersonalByEmail(email: string): Promise<ConversationRecord | null>;
    deactivate(conversationId: string, reason: string, at: string): Promise<void>;
  };

  offers: {
    /**
     * Inserts the offer, the requests attached to it and its outbox entries together; an identical pending offer is
     * returned instead, and then nothing is inserted.
     */
    create(
      offer: Offer,
      outbox: NewOutboxEntry[],
      attachments?: Relationship[],
    ): Promise<{ created: true; offer: Offer } | { created: false; offer: Offer }>;
    get(id: string): Promise<Offer | null>;
    /** Replaces the offer if its stored version is still `expectedVersion`, with its outbox entries; false if not. */
    update(next: Offer, expectedVersion: number, outbox: NewOutboxEntry[]): Promise<boolean>;
    /** Records a decision: offer change, response record (chained) and outbox entries, all or nothing. */
    decide(next: Offer, expectedVersion: number, response: NewResponse, outbox: NewOutboxEntry[]): Promise<DecideResult>;
    listByPartner(query: OfferQuery): Promise<Offer[]>;
    customersOf(partnerTenantId: string): Promise<CustomerSummary[]>;
    listAwaitingDelivery(approverEmail: string): Promise<Offer[]>;
    /** Offers delivered to this approver and still waiting for their answer. */
    listPendingFor(approver: { tenantId: string; aadObjectId: string }): Promise<Offer[]>;
    /** Pending offers whose expiry has passed, oldest first. */
    listExpired(now: string, limit: number): Promise<Offer[]>;
    /** Remembers where the customer's card landed; not a state change, so it does not bump the version. */
    setCard(offerId: string, card: { conversationId: string; activityId: string }): Promise<void>;
  };

  relationships: {
    /** Inserts the request with its outbox entries; an open request with the same pendingKey is returned instead. */
    create(
      relationship: Relationship,
      outbox: NewOutboxEntry[],
    ): Promise<{ created: true; relationship: Relationship } | { created: false; relationship: Relationship }>;
    get(id: string): Promise<Relationship | null>;
    /** Compare-and-set on version with outbox entries (delivery, expiry, reminders, extension); false if stale. */
    update(next: Relationship, expectedVersion: number, outbox: NewOutboxEntry[]): Promise<boolean>;
    /** Approve, decline, revoke or replace: relationship change(s), response record(s) and outbox, all or nothing. */
    decide(decision: RelationshipDecision): Promise<RelationshipDecideResult>;
    /** The customer's one active relationship of this kind, if any. */
    activeFor(customerTenantId: string, kind: RelationshipKind): Promise<Relationship | null>;
    /** The requests attached to an offer. */
    forOffer(offerId: string): Promise<Relationship[]>;
    /** A partner's relationships and requests, newest first. */
    listByPartner(partnerTenantId: string, limit: number): Promise<Relationship[]>;
    /** Unattached requests waiting for that email (any case) to install the app, oldest first. */
    listAwaitingDelivery(approverEmail: string): Promise<Relationship[]>;
    /** Unattached requests delivered to this approver and not answered yet, oldest first. */
    listPendingFor(approver: { tenantId: string; aadObjectId: string }): Promise<Relationship[]>;
    /** Open or active relationships whose `dueAt` has come, earliest first, at most limit. */
    listDue(now: string, limit: number): Promise<Relationship[]>;
    /** Remembers where the request's own card landed; not a state change, so the version stays. */
    setCard(id: string, card: { conversationId: string; activityId: string }): Promise<void>;
  };

  listings: {
    /** The partner's listing, published or not. */
    get(partnerTenantId: string): Promise<Listing | null>;
    getById(id: string): Promise<Listing | null>;
    /**
     * Inserts the partner's listing (expectedVersion 0) or replaces it if its stored version is still expectedVersion,
     * keeping the full-text index in step in the same transaction; false if stale (or, for 0, one exists already).
     */
    save(listing: Listing, expectedVersion: number): Promise<boolean>;
    /**
     * Published listings matching the query, best first: ranked by the database's full-text index, with headline and
     * services weighted above expertise and expertise above description; filters applied in the query. No words:
     * most recently updated first.
     */
    search(query: ListingQuery): Promise<Array<{ listing: Listing; score: number }>>;
  };

  leads: {
    /**
     * Records the lead and its outbox entries, unless the same requester (tenant and aadObjectId) asked the same
     * partner at or after `since`: then nothing is written and that lead is returned. Concurrent calls for one
     * (requester, partner) serialise, so a race records one lead.
     */
    create(lead: Lead, outbox: NewOutboxEntry[], since: string): Promise<{ created: true; lead: Lead } | { created: false; lead: Lead }>;
    get(id: string): Promise<Lead | null>;
    /** Remembers the trial sent from this lead (first one wins); false if one was already recorded. */
    setTrial(id: string, offerId: string): Promise<boolean>;
  };

  /** A partner's view of its offers and relationships together, for the dashboard tab. */
  pipeline: {
    /** One page of rows, newest first, with the number of rows the filters match. */
    page(query: PipelineQuery): Promise<PipelinePage>;
    /** Counts for the summary; `now` decides what is expiring. */
    summary(partnerTenantId: string, now: string): Promise<PipelineSummary>;
  };

  responses: {
    forSubject(subjectId: string): Promise<ResponseRecord[]>;
    /** The customer's chain in order, for verification. */
    chain(customerTenantId: string): Promise<ResponseRecord[]>;
  };

  outbox: {
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
  };
}
