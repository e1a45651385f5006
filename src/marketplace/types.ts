import type { Person } from '../offers/types';

/** A partner organisation's marketplace listing: one per partner, found by customers and other partners with `find`. */
export interface Listing {
  /** Short id shown on cards (`M-4K7P2Q`); stays the same for the partner's listing. */
  id: string;
  partnerTenantId: string;
  partnerName: string;
  headline: string;
  description: string;
  /** Catalog service ids, within the partner's authorized services. */
  services: string[];
  /** The catalog names of `services`, kept with the listing so full-text search finds "exchange" or "teams phone". */
  serviceNames: string[];
  expertise: string[];
  /** ISO 3166-1 alpha-2 codes, upper case. */
  countries: string[];
  /** ISO 639-1 codes, lower case. */
  languages: string[];
  /** Who leads go to when the partner has no notification channel; `person` once they are known to the bot. */
  contact: { name: string; email: string; person?: Person };
  /** The partner is enrolled for delegated administration (shown on results). */
  canDelegate: boolean;
  published: boolean;
  /** Incremented on every save; saves compare it. */
  version: number;
  updatedAt: string;
  updatedBy: { aadObjectId: string; name: string };
}

export interface ListingQuery {
  /** Search words, already split and lower-cased; none lists published listings, most recently updated first. */
  words: string[];
  /** ISO 3166-1 alpha-2, upper case. */
  country?: string;
  /** ISO 639-1, lower case. */
  language?: string;
  limit: number;
  offset: number;
}

/** A request from a customer (or another partner) to be contacted by a listed partner. */
export interface Lead {
  /** `C-4K7P2Q` */
  id: string;
  listingId: string;
  partnerTenantId: string;
  partnerName: string;
  /** Who asked; their email is what a trial sent from the lead is addressed to. */
  requester: Person & { email: string };
  note?: string;
  createdAt: string;
  /** Set once the partner sent a trial invitation from this lead. */
  trialOfferId?: string;
  /** Where the partner says the lead stands, and who said so when; the latest mark wins. */
  stage?: LeadStage;
}

export const LEAD_STAGES = ['contacted', 'won', 'lost'] as const;
export interface LeadStage {
  value: (typeof LEAD_STAGES)[number];
  at: string;
  by: { aadObjectId: string; name: string };
}
