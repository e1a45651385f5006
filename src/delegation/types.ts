import type { Issued } from '../offers/types';

/** Delegated administration (`D-` ids) and partner of record (`R-` ids) share one shape and one table. */
export type RelationshipKind = 'delegation' | 'por';

/**
 * Names follow Microsoft Graph's delegatedAdminRelationship. `awaitingDelivery` is a request whose approver has not
 * installed the app yet; `active` is an approved delegation or a designated partner of record; `withdrawn` is a
 * request attached to an offer that the partner withdrew. `terminationRequested` (Graph-backed delegations only): the
 * bot asked Microsoft to end it (revoked, or replaced) and Graph has not yet reported it terminating.
 */
export type RelationshipState =
  'awaitingDelivery' | 'approvalPending' | 'active' | 'terminationRequested' | 'declined' | 'expired' | 'terminated' | 'withdrawn';

export const OPEN_REQUEST_STATES: readonly RelationshipState[] = ['awaitingDelivery', 'approvalPending'];

/** What a delegated admin may do: everything (the classic delegated admin), or a list of Entra built-in roles. */
export type Access = { kind: 'full' } | { kind: 'roles'; roles: string[] };

/**
 * `withdrawn`: an attached request whose offer was withdrawn (it lives and dies with the offer's card).
 * `endedAtMicrosoft`: Graph reported a Graph-backed relationship terminating without the bot asking (ended in the
 * admin center or Partner Center).
 */
export type EndReason = 'revokedByCustomer' | 'revokedByPartner' | 'replaced' | 'expired' | 'withdrawn' | 'endedAtMicrosoft';

/** Why the bot asked Microsoft to end a Graph-backed relationship. */
export type EndRequest = Extract<EndReason, 'revokedByCustomer' | 'revokedByPartner' | 'replaced'>;

/**
 * A delegation backed by a real GDAP relationship (Microsoft Graph's delegatedAdminRelationship), for a partner that
 * connected its Entra app. Everything the cards say about it being active or ended comes from `status` as Graph
 * reported it; the watcher reads Graph until there is nothing left to follow.
 */
export interface GraphLink {
  /** Its displayName at Microsoft: unique among the partner's relationships, so a create whose answer was lost is found. */
  displayName: string;
  /** Graph's relationship id, once created. */
  id?: string;
  /** The status Graph last reported (`created`, `approvalPending`, `active`, `terminating`, ...). */
  status?: string;
  /** When Graph was last read successfully. */
  checkedAt?: string;
  /** When the watcher next reads Graph for it; absent once there is nothing left to follow. */
  nextCheckAt?: string;
  /** While one process works on it: others leave it alone until then (a crashed holder's lease runs out). */
  leaseUntil?: string;
  /** Transient failures in a row (429, 5xx, timeouts), for the backoff. */
  failures?: number;
  /** The last problem talking to Microsoft, for the partner's `status` (Microsoft's code and words, never a secret). */
  problem?: { kind: string; message: string; at: string };
  /** The customer's card (with the approval link) was queued once Graph reported the request locked for approval. */
  cardQueued?: boolean;
  /** When the card last went out or was opened: Graph is read more often for a while after. */
  attentionAt?: string;
  /** Graph's own dates. */
  activatedDateTime?: string;
  endDateTime?: string;
  /** The bot asked Microsoft to end it: why and when, and when Graph accepted the terminate request. */
  ending?: { reason: EndRequest; requestedAt: string; by?: PartnerRef; sentAt?: string };
  /** Access assignments: one per security group in the partner's file whose roles the relationship includes. */
  assignments?: { groupId: string; roleIds: string[]; id?: string; status?: string }[];
}

export interface PartnerRef {
  id: string;
  partnerTenantId: string;
  partnerName: string;
  /** The relationship was created at Microsoft (so ending it there is real, and confirmed by Graph). */
  atMicrosoft?: boolean;
}

export interface Relationship extends Issued {
  kind: RelationshipKind;
  state: RelationshipState;
  /** The customer's tenant: known with the approver. At most one `active` relationship per (customer, kind). */
  customerTenantId?: string;
  /** Set when the request travels on an offer's card instead of a card of its own. */
  offerId?: string;
  /** Delegation only. */
  access?: Access;
  /** Delegation only: how long an approved relationship lasts, 1 to 730 days. */
  durationDays?: number;
  /** Delegation only: at its end an active relationship is extended by 180 days instead of ending. */
  autoExtend?: boolean;
  createdAt: string;
  /** An unanswered request expires then (90 days after it was made). */
  requestExpiresAt: string;
  deliveredAt?: string;
  decidedAt?: string;
  activatedAt?: string;
  /** Delegation only, while active: when it ends (or is extended). */
  endsAt?: string;
  /** How many times auto-extend has added 180 days. */
  extensions?: number;
  /** Reminders already sent for the current `endsAt`, as days before it (30, 7, 1). */
  remindersSent?: number[];
  endedAt?: string;
  endReason?: EndReason;
  /** The relationship that ended this one by replacing it. */
  replacedBy?: PartnerRef;
  /** The relationship this one replaced when it became active. */
  replaced?: PartnerRef;
  /**
   * The next moment the sweeper has work on this relationship (request expiry, a reminder, the end); absent when
   * there is none. The store indexes it for open and active relationships.
   */
  dueAt?: string;
  /** Where its own card is (requests not attached to an offer), to update it for everyone. */
  card?: { conversationId: string; activityId: string };
  /** Copies of its own card posted by `offers`, newest last (at most MAX_CARD_COPIES): updated with it. */
  copies?: { conversationId: string; activityId: string }[];
  /** Set while an unattached request is open: identical open requests share it, and the store keeps it unique. */
  pendingKey?: string;
  /** Delegation only, for a partner with Microsoft credentials: the real relationship at Microsoft. */
  graph?: GraphLink;
  /** The customer's organisation as Microsoft names it (Graph's tenant information), where the partner is connected. */
  customerOrg?: { displayName: string; defaultDomainName?: string };
}
