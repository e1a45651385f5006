import type { NewOutboxEntry } from '../notifications/types';
import type { Relationship } from '../delegation/types';
import type { NewResponse, ResponseRecord } from '../responses/types';
import type { Offer } from './types';

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

/** Where offers are kept. Every write that must happen together is one call, so each adapter makes it one transaction. */
export interface OffersStore {
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
  /** Remembers a copy of the card (posted by `offers`), keeping the newest MAX_CARD_COPIES; the version stays. */
  addCopy(offerId: string, card: { conversationId: string; activityId: string }): Promise<void>;
}

/** How many copies of an offer's card are kept up to date: the ones a customer is likely still to scroll back to. */
export const MAX_CARD_COPIES = 5;
