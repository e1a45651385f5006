import type { NewOutboxEntry } from '../notifications/types';
import type { Lead, LeadStage, Listing, ListingQuery } from './types';

/** Where partners' marketplace listings are kept, with the full-text index customers' `find` searches. */
export interface ListingsStore {
  /** The partner's listing, published or not. */
  get(partnerTenantId: string): Promise<Listing | null>;
  getById(id: string): Promise<Listing | null>;
  /**
   * Inserts the partner's listing (expectedVersion 0) or replaces it if its stored version is still expectedVersion,
   * keeping the full-text index in step in the same transaction; false if stale (or, for 0, one exists already).
   */
  save(listing: Listing, expectedVersion: number): Promise<boolean>;
  /**
   * Published listings matching the query, best first: ranked by the database's full-text index, with headline and
   * services weighted above expertise and expertise above description; filters applied in the query. No words:
   * most recently updated first.
   */
  search(query: ListingQuery): Promise<Array<{ listing: Listing; score: number }>>;
}

/** Where customers' requests to be contacted by a partner are kept. */
export interface LeadsStore {
  /**
   * Records the lead and its outbox entries, unless the same requester (tenant and aadObjectId) asked the same
   * partner at or after `since`: then nothing is written and that lead is returned. Concurrent calls for one
   * (requester, partner) serialise, so a race records one lead.
   */
  create(lead: Lead, outbox: NewOutboxEntry[], since: string): Promise<{ created: true; lead: Lead } | { created: false; lead: Lead }>;
  get(id: string): Promise<Lead | null>;
  /** Remembers the trial sent from this lead (first one wins); false if one was already recorded. */
  setTrial(id: string, offerId: string): Promise<boolean>;
  /** Records where the lead stands (one atomic write; the latest wins) and returns the lead as it now is, or null. */
  setStage(id: string, stage: LeadStage): Promise<Lead | null>;
  /** A partner's leads, newest first. */
  listByPartner(partnerTenantId: string, limit: number): Promise<Lead[]>;
}

// What both adapters share: the index weights, the checks a save, a query and a lead must pass, and search terms.
/**
 * bm25() column weights of the listings' full-text index, in its column order, and the MongoDB text index's weights:
 * a hit in the headline counts most, then services (catalog names and ids), expertise, and the description least.
 */
export const LISTING_WEIGHTS = { headline: 10, services: 8, expertise: 4, description: 1 } as const;

/**
 * A save bumps the version by exactly one over the version it replaces (1 for a new listing), so two saves that read
 * the same version can never both leave it at the same number; anything else is a caller bug, refused before writing.
 */
export function checkListingSave(listing: Listing, expectedVersion: number): void {
  if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
    throw new TypeError(`store: expectedVersion of listing ${listing.id} must be an integer >= 0, got ${expectedVersion}`);
  }
  if (listing.version !== expectedVersion + 1) {
    throw new TypeError(
      `store: listing ${listing.id} saved as version ${listing.version} over version ${expectedVersion}; a save sets version + 1`,
    );
  }
  if (typeof listing.published !== 'boolean') throw new TypeError(`store: listing ${listing.id}: published must be a boolean`);
}

/** Paging is plain: limit and offset are integers >= 0 (limit 0 finds nothing). */
export function checkListingQuery(query: ListingQuery): void {
  for (const [what, n] of [
    ['limit', query.limit],
    ['offset', query.offset],
  ] as const) {
    if (!Number.isInteger(n) || n < 0) throw new TypeError(`store: listing search ${what} must be an integer >= 0, got ${n}`);
  }
}

/** What a lead is de-duplicated on: the requester (tenant and user) and the partner asked. */
export function leadKey(lead: Lead): { tenantId: string; aadObjectId: string; partnerTenantId: string } {
  const { tenantId, aadObjectId } = lead.requester ?? ({} as Partial<Lead['requester']>);
  for (const [what, v] of [
    ['requester.tenantId', tenantId],
    ['requester.aadObjectId', aadObjectId],
    ['partnerTenantId', lead.partnerTenantId],
  ]) {
    if (typeof v !== 'string' || !v) throw new TypeError(`store: lead ${lead.id}: ${what} must be a non-empty string`);
  }
  return { tenantId: tenantId, aadObjectId: aadObjectId, partnerTenantId: lead.partnerTenantId };
}

/**
 * At most this many distinct search terms reach a full-text query: a `find` is a few words, and a pasted paragraph
 * must not become a query with hundreds of OR-ed prefix terms.
 */
export const MAX_SEARCH_TERMS = 16;

const TERM = /[\p{L}\p{N}]+/gu;

/**
 * The terms a full-text query is built from: runs of letters and digits, lower-cased, each once, in the order given.
 * Nothing else of the user's input reaches the query, so quotes, `*`, `-`, `:`, parentheses, `^` or `{...}` are never
 * FTS5 (or `$text`) syntax: they only separate terms. `NEAR`, `AND`, `OR`, `NOT` become ordinary (quoted) terms.
 */
export function searchTerms(words: readonly string[]): string[] {
  const terms = new Set<string>();
  for (const word of words) {
    for (const [term] of word.toLowerCase().matchAll(TERM)) {
      terms.add(term);
      if (terms.size === MAX_SEARCH_TERMS) return [...terms];
    }
  }
  return [...terms];
}

/**
 * A text as the terms `searchTerms` would make of it, every occurrence kept, joined by spaces: what a database whose
 * own tokenizer splits differently (MongoDB's $text keeps `plus_pro` or `defender™` one word) indexes instead, so a
 * listing is found by the same words in both databases.
 */
export function termText(text: unknown): string {
  return typeof text === 'string' ? Array.from(text.toLowerCase().matchAll(TERM), ([t]) => t).join(' ') : '';
}
