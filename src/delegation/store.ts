import type { NewOutboxEntry } from '../notifications/types';
import type { NewResponse, ResponseRecord } from '../responses/types';
import type { Relationship, RelationshipKind } from './types';

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

/** Where delegation and partner-of-record relationships (and the requests for them) are kept. */
export interface RelationshipsStore {
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
  /**
   * Remembers a copy of the request's own card (posted by `offers`), keeping the newest MAX_CARD_COPIES (as an
   * offer's copies); not a state change, so the version stays. An unknown id changes nothing.
   */
  addCopy(id: string, card: { conversationId: string; activityId: string }): Promise<void>;
}

// What a relationship write must satisfy, and the error for what the database refuses: checked by both adapters.
/**
 * `relationships.create` or `update` would give a customer a second active relationship of one kind, which the
 * database refuses (a partial unique index in both adapters). Approvals go through `relationships.decide`, which
 * answers `activeChanged` instead; reaching this is a bug in the caller. `code` survives a trip across threads.
 */
export class ActiveRelationshipExists extends Error {
  readonly code = 'ACTIVE_RELATIONSHIP_EXISTS';

  constructor(r: Relationship, activeId: string | undefined) {
    super(
      `store: ${r.id} cannot become active: customer ${r.customerTenantId} already has an active ${r.kind} relationship` +
        `${activeId ? ` (${activeId})` : ''}; approvals go through relationships.decide`,
    );
    this.name = 'ActiveRelationshipExists';
  }
}

/**
 * A replace names the relationship it ends, and only that one: `ended` is the relationship the approver was shown
 * as active (`expectedActiveId`), and there is no `ended` without one. Anything else is a bug in the caller that
 * would either leave two active relationships to the unique index or end the wrong one.
 */
export function checkReplaces(replaces: RelationshipDecision['replaces']): void {
  if (!replaces) return;
  const endedId = replaces.ended?.next.id ?? null;
  if (endedId !== replaces.expectedActiveId) {
    throw new TypeError(
      `store: a replace must end the active relationship it expects (expectedActiveId ${replaces.expectedActiveId}, ended ${endedId})`,
    );
  }
}

/** Requests attached to an offer point at it: that is how `forOffer` finds them. */
export function checkAttachments(offerId: string, attachments: Relationship[]): void {
  for (const a of attachments) {
    if (a.offerId !== offerId)
      throw new TypeError(`store: request ${a.id} is attached to offer ${offerId} but its offerId is ${a.offerId}`);
  }
}

/**
 * Whether the customer's active relationship of the decision's kind (`active`, read in the decision's transaction)
 * means the answer is `activeChanged`: with `replaces`, it is not the one the approver was shown; without, the
 * decision makes `next` active while another one is (the unique index would refuse it anyway).
 */
export function activeRefuses(d: Pick<RelationshipDecision, 'next' | 'replaces'>, active: Relationship | null): boolean {
  if (d.replaces) return (active?.id ?? null) !== d.replaces.expectedActiveId;
  return d.next.state === 'active' && active !== null && active.id !== d.next.id;
}
