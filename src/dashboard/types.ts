import type { Relationship, RelationshipState } from '../delegation/types';
import type { Offer, OfferState } from '../offers/types';

/** What a pipeline row is: the two offer kinds and the two relationship kinds, in one table. */
export type PipelineKind = 'trial' | 'purchase' | 'delegation' | 'por';
export const PIPELINE_KINDS: readonly PipelineKind[] = ['trial', 'purchase', 'delegation', 'por'];

/** Offer and relationship states share one vocabulary in the table (several names exist on only one side). */
export type PipelineState = OfferState | RelationshipState;

/** Keyset position: rows strictly older than this (createdAt, then id, both descending). */
export interface PipelineCursor {
  createdAt: string;
  id: string;
}

/**
 * One partner's offers and relationships, newest first. Every filter narrows; all are optional. The store answers
 * from its indexes on (partner, created_at) and never returns another partner's rows.
 */
export interface PipelineQuery {
  partnerTenantId: string;
  kinds?: PipelineKind[];
  states?: PipelineState[];
  /** The customer's address (the approver email the offer or request was sent to), matched whole, any case. */
  customer?: string;
  /**
   * Words matched, any case, as substrings of: the id, the customer's address, the customer tenant id, the name of
   * whoever issued it, the service names (offers) or role names (delegations). Every word must match somewhere.
   */
  search?: string;
  after?: PipelineCursor;
  /** 1 to 1,000 (MAX_PIPELINE_LIMIT in ./store). */
  limit: number;
}

export type PipelineItem = { type: 'offer'; offer: Offer } | { type: 'relationship'; relationship: Relationship };

export interface PipelinePage {
  items: PipelineItem[];
  /** Rows matching the filters in all (not only this page). */
  total: number;
  /** Present when there are more rows after this page. */
  next?: PipelineCursor;
}

export interface PipelineSummary {
  /** Offers (trials and purchases) by state; states with none are 0. */
  offers: Record<OfferState, number>;
  /** Delegations and partner-of-record designations by state. */
  relationships: Record<RelationshipState, number>;
  /** Active delegations whose end (or automatic extension) is within 1, 7 and 30 days of `now`, not yet past. */
  expiring: { within1: number; within7: number; within30: number };
}

/**
 * The monthly-equivalent list value of one calendar month's purchase offers, in cents of one currency: per line,
 * quantity × list price per licence per month, whatever the billing (an annual offer counts its monthly share).
 * `accepted`: offers accepted in that month; `pending`: offers sent (or waiting for delivery) in that month and not
 * answered yet.
 */
export interface MonthlyValue {
  /** `YYYY-MM`, UTC. */
  month: string;
  accepted: number;
  pending: number;
}
