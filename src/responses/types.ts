import type { Decision } from '../offers/types';

/** An immutable record of one decision; chained per customer by hash so tampering shows. */
export type SubjectKind = 'offer' | 'delegation' | 'por';

/**
 * One answer per (subject, slot): `offer`, `delegation` and `por` hold the customer's answer to the request;
 * `termination` holds the one act that ended an active relationship (revoked by either side, or replaced).
 */
export type ResponseSlot = 'offer' | 'delegation' | 'por' | 'termination';
export type ResponseDecision = Decision | 'approved' | 'revoked' | 'replaced';

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
  /** Position in the customer's chain, from 1. */
  seq: number;
  prevHash: string;
  hash: string;
}

export type NewResponse = Omit<ResponseRecord, 'seq' | 'prevHash' | 'hash'>;
