import type { ResponseRecord } from './types';

/**
 * The response records: immutable, one per (subject, slot), hash-chained per customer. They are written only inside
 * a decision (`offers.decide`, `relationships.decide`), in its transaction; this port reads them.
 */
export interface ResponsesStore {
  forSubject(subjectId: string): Promise<ResponseRecord[]>;
  /** The customer's chain in order, for verification. */
  chain(customerTenantId: string): Promise<ResponseRecord[]>;
}
