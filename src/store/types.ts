import type { ConversationRecord } from '../directory/types';
import type { Partner } from '../directory/partners';
import type { NewResponse, Offer, ResponseRecord } from '../offers/types';
import type { NewOutboxEntry, OutboxEntry } from '../notifications/types';

export type DecideResult =
  | { status: 'recorded'; offer: Offer; response: ResponseRecord }
  /** Someone (or the same click, retried) got there first: nothing changed. */
  | { status: 'already'; offer: Offer; response: ResponseRecord }
  /** The offer changed underneath (withdrawn, expired, delivered again): re-read and re-decide. */
  | { status: 'conflict'; offer: Offer | null };

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
    /** Inserts the offer and its outbox entries together; an identical pending offer is returned instead. */
    create(offer: Offer, outbox: NewOutboxEntry[]): Promise<{ created: true; offer: Offer } | { created: false; offer: Offer }>;
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
    stats(): Promise<OutboxStats>;
    /** For tests and status: entries about one subject. */
    forSubject(subjectId: string): Promise<OutboxEntry[]>;
  };
}
