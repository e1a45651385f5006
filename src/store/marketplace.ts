import type { Lead, Listing, ListingQuery } from '../marketplace/types';

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
    throw new TypeError(`store: listing ${listing.id} saved as version ${listing.version} over version ${expectedVersion}; a save sets version + 1`);
  }
  if (typeof listing.published !== 'boolean') throw new TypeError(`store: listing ${listing.id}: published must be a boolean`);
}

/** Paging is plain: limit and offset are integers >= 0 (limit 0 finds nothing). */
export function checkListingQuery(query: ListingQuery): void {
  for (const [what, n] of [['limit', query.limit], ['offset', query.offset]] as const) {
    if (!Number.isInteger(n) || n < 0) throw new TypeError(`store: listing search ${what} must be an integer >= 0, got ${n}`);
  }
}

/** What a lead is de-duplicated on: the requester (tenant and user) and the partner asked. */
export function leadKey(lead: Lead): { tenantId: string; aadObjectId: string; partnerTenantId: string } {
  const { tenantId, aadObjectId } = lead.requester ?? ({} as Partial<Lead['requester']>);
  for (const [what, v] of [['requester.tenantId', tenantId], ['requester.aadObjectId', aadObjectId], ['partnerTenantId', lead.partnerTenantId]]) {
    if (typeof v !== 'string' || !v) throw new TypeError(`store: lead ${lead.id}: ${what} must be a non-empty string`);
  }
  return { tenantId: tenantId!, aadObjectId: aadObjectId!, partnerTenantId: lead.partnerTenantId };
}
