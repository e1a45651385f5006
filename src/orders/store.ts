import type { NewOutboxEntry } from '../notifications/types';
import type { NewResponse } from '../responses/types';
import type { Fulfilment } from './types';

/**
 * Where fulfilment jobs are kept. A job is inserted by `offers.decide`, in the decision's transaction; after that it
 * changes only by compare-and-set on its version, with the outbox entries and response records of the change.
 */
export interface FulfilmentsStore {
  get(id: string): Promise<Fulfilment | null>;
  /** The jobs of these offers (those that have one). */
  forOffers(offerIds: string[]): Promise<Fulfilment[]>;
  /** Replaces the job if its stored version is still `expectedVersion`, with its outbox and response records; false if not. */
  update(next: Fulfilment, expectedVersion: number, outbox: NewOutboxEntry[], responses?: NewResponse[]): Promise<boolean>;
  /** Jobs whose `dueAt` has come, earliest first. */
  listDue(now: string, limit: number): Promise<Fulfilment[]>;
  /** A partner's jobs, newest first. */
  listByPartner(partnerTenantId: string, limit: number): Promise<Fulfilment[]>;
  /**
   * The monthly list value of the orders Partner Center placed for the partner, per calendar month (UTC) of placing,
   * from `fromMonth` (`YYYY-MM`) on, in one currency; months without any are left out.
   */
  placedValue(partnerTenantId: string, currency: string, fromMonth: string): Promise<{ month: string; cents: number }[]>;
}
