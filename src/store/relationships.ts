// Shared by both adapters: what a relationship write must satisfy, and the error for what the database refuses.
import type { Relationship } from '../delegation/types';
import type { RelationshipDecision } from './types';

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
    if (a.offerId !== offerId) throw new TypeError(`store: request ${a.id} is attached to offer ${offerId} but its offerId is ${a.offerId}`);
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
