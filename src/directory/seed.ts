import type { PartnersStore } from './store';
import type { ListingSeed, Partner, PartnerEntry } from './partners';

/**
 * Registers the partners file at startup (idempotent upsert); a listing in the file is created only for a partner
 * that has none yet, so what partner staff edited in Teams is never overwritten. A partner's Microsoft app (where its
 * credentials are) is not stored: it is read from the file at every start.
 */
export async function seedPartners(
  store: { partners: PartnersStore },
  entries: PartnerEntry[],
  seedListing: (partner: Partner, seed: ListingSeed) => Promise<void>,
): Promise<void> {
  for (const { listing, microsoft: _microsoft, ...partner } of entries) {
    await store.partners.upsert(partner);
    if (listing) await seedListing(partner, listing);
  }
}
