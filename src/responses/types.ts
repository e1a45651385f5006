import type { Decision } from '../offers/types';

/** An immutable record of one decision; chained per customer by hash so tampering shows. */
export type SubjectKind = 'offer' | 'delegation' | 'por';

/**
 * One answer per (subject, slot): `offer`, `delegation` and `por` hold the customer's answer to the request;
 * `termination` holds the one act that ended an active relationship (revoked by either side, or replaced), or for a
 * Graph-backed delegation the act that asked Microsoft to end it. Graph-backed delegations add what Microsoft
 * confirmed: `activation` (Graph reported it active) and `ended` (Graph reported it terminating, terminated or expired).
 */
export type ResponseSlot = 'offer' | 'delegation' | 'por' | 'termination' | 'activation' | 'ended' | 'order' | 'subscriptions';
export type ResponseDecision = Decision | 'approved' | 'revoked' | 'replaced' | 'terminated' | 'expired' | 'placed' | 'provisioned';

/**
 * What Microsoft's API reported, on a record that states a fact about the real thing: a GDAP relationship (Graph), or
 * the order Partner Center created for an accepted offer (slot `order`).
 */
export type MicrosoftConfirmation = GraphConfirmation | PartnerCenterConfirmation;

/** What Partner Center answered to the checkout of an accepted offer's cart. */
export interface PartnerCenterConfirmation {
  api: 'partnerCenter';
  cartId: string;
  orderIds: string[];
  /** Known once Partner Center completed the order; empty while it is still `pending`. */
  subscriptionIds: string[];
  /** The orders' status as Partner Center reported it (`pending`, `completed`). */
  status: string;
  /** The order's creation date as Partner Center gave it, else when the bot read it. */
  reportedAt: string;
  /** Order groups Partner Center refused in the same checkout, with its code and words. */
  failed?: { code?: string; reason: string }[];
}

/** What Microsoft Graph reported about a delegated-admin relationship. */
export interface GraphConfirmation {
  /** Graph's delegatedAdminRelationship id. */
  relationshipId: string;
  /** The status Graph reported. */
  status: string;
  /** Graph's own time for it (`activatedDateTime`, or `lastModifiedDateTime`), else when the bot read it. */
  reportedAt: string;
}

export interface ResponseRecord {
  id: string;
  subjectKind: SubjectKind;
  subjectId: string;
  slot: ResponseSlot;
  decision: ResponseDecision;
  comment?: string;
  by: { aadObjectId: string; name: string; upn?: string; tenantId: string };
  at: string;
  conversationId: string;
  activityId: string;
  customerTenantId: string;
  /** Set when the record states what Microsoft Graph reported (activation, end), not what a person clicked. */
  microsoft?: MicrosoftConfirmation;
  /** Position in the customer's chain, from 1. */
  seq: number;
  prevHash: string;
  hash: string;
}

export type NewResponse = Omit<ResponseRecord, 'seq' | 'prevHash' | 'hash'>;
