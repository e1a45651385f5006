import { addDays, type Clock } from '../clock';
import type { Catalog } from '../directory/catalog';
import type { ListingSeed, Partner } from '../directory/partners';
import { assertPartnerFeaturesAvailable, isSovereign } from '../directory/sovereign';
import { UserInputError } from '../errors';
import { newShortId } from '../ids';
import type { Logger } from '../log';
import { channelNotice } from '../notifications/channel';
import { userTarget, type NewOutboxEntry } from '../notifications/types';
import type { OfferService } from '../offers/service';
import type { Offer, Person } from '../offers/types';
import type { ConversationsStore, PartnersStore } from '../directory/store';
import type { LeadsStore, ListingsStore } from './store';
import type { ChannelsStore } from '../notifications/store';
import type { OffersStore } from '../offers/store';
import type { FindCommand } from './commands';
import { canDelegate, LEAD_DEDUPE_DAYS, missingForPublish, validateListing, type ListingField, type ListingForm } from './rules';
import type { Lead, LeadStage, Listing } from './types';

/** The stores this uses: nothing else of the database is in reach. */
export type MarketplaceStores = {
  channels: ChannelsStore;
  conversations: ConversationsStore;
  leads: LeadsStore;
  listings: ListingsStore;
  offers: OffersStore;
  partners: PartnersStore;
};

/** Outbox message of this capability: the lead card, rendered at delivery by ./index. */
export const LEAD_CARD = 'lead.card';
/** Results shown per page of `find`. */
export const PAGE_SIZE = 5;

export interface MarketplaceDeps {
  store: MarketplaceStores;
  catalog: Catalog;
  clock: Clock;
  sovereignTenants: string[];
  log: Logger;
  offers: OfferService;
}

export type MarketplaceService = ReturnType<typeof createMarketplaceService>;

export type SaveOutcome =
  { kind: 'saved'; listing: Listing } | { kind: 'invalid'; errors: Partial<Record<ListingField, string>>; form: ListingForm };

export function createMarketplaceService({ store, catalog, clock, sovereignTenants, log, offers }: MarketplaceDeps) {
  const serviceNames = (ids: string[]) => ids.map((id) => catalog.services.find((s) => s.id === id)?.name ?? id);

  async function save(partner: Partner, editor: Person, form: ListingForm): Promise<SaveOutcome> {
    assertPartnerFeaturesAvailable(partner, sovereignTenants);
    const checked = validateListing(form, partner, catalog);
    if (!checked.ok) return { kind: 'invalid', errors: checked.errors, form };
    const { fields } = checked;
    const current = await store.listings.get(partner.tenantId);
    // Leads go to the contact person 1:1 when the bot knows them in the partner's tenant, else to whoever edited.
    const known = await store.conversations.findPersonalByEmail(fields.contact.email);
    const person: Person =
      known?.user && known.tenantId === partner.tenantId
        ? {
            aadObjectId: known.user.aadObjectId,
            userId: known.user.userId,
            name: known.user.name,
            tenantId: known.tenantId,
            email: fields.contact.email,
            serviceUrl: known.reference.serviceUrl ?? '',
          }
        : editor;
    const next: Listing = {
      ...fields,
      id: current?.id ?? newShortId('M'),
      partnerTenantId: partner.tenantId,
      partnerName: partner.name,
      serviceNames: serviceNames(fields.services),
      contact: { ...fields.contact, person },
      canDelegate: canDelegate(partner),
      published: current?.published ?? false,
      version: (current?.version ?? 0) + 1,
      updatedAt: clock().toISOString(),
      updatedBy: { aadObjectId: editor.aadObjectId, name: editor.name },
    };
    if (!(await store.listings.save(next, current?.version ?? 0))) {
      throw new UserInputError(
        'Someone else saved the listing at the same moment. Type listing to see it, then edit again.',
        'listing',
        'Saved elsewhere',
      );
    }
    log.info({ tenantId: partner.tenantId, listingId: next.id }, 'listing saved');
    return { kind: 'saved', listing: next };
  }

  async function setPublished(partner: Partner, published: boolean): Promise<Listing> {
    assertPartnerFeaturesAvailable(partner, sovereignTenants);
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await store.listings.get(partner.tenantId);
      const missing = missingForPublish(current);
      if (published && missing.length) {
        throw new UserInputError(
          `Before it can be found, the listing needs ${missing.join(', ')}. Type listing and press Edit.`,
          'listing',
          'Not ready to publish',
        );
      }
      if (!current) throw new UserInputError('You have no listing yet. Type listing and press Edit.', 'listing', 'No listing');
      if (current.published === published) return current;
      const next: Listing = {
        ...current,
        published,
        partnerName: partner.name,
        canDelegate: canDelegate(partner),
        version: current.version + 1,
        updatedAt: clock().toISOString(),
      };
      if (await store.listings.save(next, current.version)) {
        log.info({ tenantId: partner.tenantId, published }, 'listing visibility changed');
        return next;
      }
    }
    throw new Error('listing publish kept losing to concurrent saves');
  }

  /** One page of results, best first, and whether there is another. */
  async function find(cmd: Pick<FindCommand, 'words' | 'country' | 'language'>, page: number) {
    const found = await store.listings.search({ ...cmd, limit: PAGE_SIZE + 1, offset: page * PAGE_SIZE });
    // Listings of partners in the 21Vianet cloud are never shown: partner features are not available there.
    const sovereign = await Promise.all(
      found.map(async (f) => isSovereign(f.listing.partnerTenantId, sovereignTenants, await store.partners.get(f.listing.partnerTenantId))),
    );
    const shown = found.filter((_, i) => !sovereign[i]);
    return { results: shown.slice(0, PAGE_SIZE).map((f) => f.listing), more: found.length > PAGE_SIZE };
  }

  /** The listing's contact as the bot knows them now (they may have installed the app since the listing was saved). */
  async function contactPerson(listing: Listing): Promise<Person | undefined> {
    const known = await store.conversations.findPersonalByEmail(listing.contact.email);
    if (known?.user && known.tenantId === listing.partnerTenantId) {
      return {
        aadObjectId: known.user.aadObjectId,
        userId: known.user.userId,
        name: known.user.name,
        tenantId: known.tenantId,
        email: listing.contact.email,
        serviceUrl: known.reference.serviceUrl ?? '',
      };
    }
    return listing.contact.person;
  }

  async function publishedListing(id: string): Promise<Listing> {
    const listing = await store.listings.getById(id);
    if (!listing || !listing.published)
      throw new UserInputError('That listing is no longer published. Search again with find.', 'find', 'Listing not found');
    return listing;
  }

  /**
   * "Ask to be contacted": a lead card to the partner's notification channel (or its contact person 1:1) and a
   * confirmation to the requester; the same requester asking the same partner again within 7 days gets that request.
   */
  async function requestContact(listingId: string, requester: Person & { upn?: string }, note: string | undefined) {
    const listing = await publishedListing(listingId);
    if (requester.tenantId === listing.partnerTenantId) {
      throw new UserInputError("That is your own organisation's listing.", undefined, 'Your own listing');
    }
    const email = (requester.email ?? requester.upn ?? '').toLowerCase();
    if (!email) {
      throw new UserInputError(
        'Teams has not told me your email address yet, so the partner could not reach you. Send me any message in a 1:1 chat once, then try again.',
      );
    }
    const now = clock();
    const lead: Lead = {
      id: newShortId('C'),
      listingId: listing.id,
      partnerTenantId: listing.partnerTenantId,
      partnerName: listing.partnerName,
      requester: { ...requester, email },
      note: note || undefined,
      createdAt: now.toISOString(),
    };
    const message = { kind: LEAD_CARD, args: { leadId: lead.id } };
    const subject = { kind: 'lead' as const, id: lead.id };
    const toChannel = await channelNotice(store, listing.partnerTenantId, message, subject);
    const contact = toChannel.length ? undefined : await contactPerson(listing);
    const outbox: NewOutboxEntry[] = toChannel.length
      ? toChannel
      : contact
        ? [{ target: userTarget(contact), action: { kind: 'send', message }, subject, partnerTenantId: listing.partnerTenantId }]
        : [];
    if (!outbox.length)
      log.warn(
        { listingId: listing.id },
        'lead recorded but nobody at the partner can be told yet: no channel, contact unknown to the bot',
      );
    const result = await store.leads.create(lead, outbox, addDays(now, -LEAD_DEDUPE_DAYS).toISOString());
    if (result.created) log.info({ leadId: lead.id, tenantId: listing.partnerTenantId }, 'lead recorded');
    return { lead: result.lead, created: result.created, listing };
  }

  async function leadFor(leadId: string, partnerTenantId: string): Promise<Lead> {
    const lead = await store.leads.get(leadId);
    if (!lead || lead.partnerTenantId !== partnerTenantId) throw new UserInputError(`I can't find ${leadId}.`, undefined, 'Not found');
    return lead;
  }

  /** The partner marks where a lead stands (contacted, won, lost); the latest mark wins. */
  async function markLead(leadId: string, value: LeadStage['value'], partner: Partner, by: Person): Promise<Lead> {
    await leadFor(leadId, partner.tenantId);
    const stage: LeadStage = { value, at: clock().toISOString(), by: { aadObjectId: by.aadObjectId, name: by.name } };
    const lead = await store.leads.setStage(leadId, stage);
    if (!lead) throw new UserInputError(`I can't find ${leadId}.`, undefined, 'Not found');
    log.info({ leadId, stage: value }, 'lead marked');
    return lead;
  }

  /** "Send a trial invitation" from a lead: through the offers capability, to the person who asked. */
  async function sendTrial(
    leadId: string,
    services: string[],
    partner: Partner,
    issuer: Person & { upn?: string },
  ): Promise<{ offer: Offer; duplicate: boolean; lead: Lead }> {
    const lead = await leadFor(leadId, partner.tenantId);
    const { offer, duplicate } = await offers.issue(
      { kind: 'trial', approverEmail: lead.requester.email, services, withAdmin: false, asPartnerOfRecord: false },
      partner,
      issuer,
    );
    await store.leads.setTrial(lead.id, offer.id);
    log.info({ leadId, offerId: offer.id }, 'trial sent from a lead');
    return { offer, duplicate, lead };
  }

  /** The partners file's listing for a partner that has none yet; a seed that does not validate stops startup. */
  async function seed(partner: Partner, s: ListingSeed): Promise<void> {
    if (await store.listings.get(partner.tenantId)) return;
    const form: ListingForm = {
      headline: s.headline,
      description: s.description,
      services: s.services.join(','),
      expertise: s.expertise.join(', '),
      countries: s.countries.join(', '),
      languages: s.languages.join(', '),
      contactName: s.contact.name,
      contactEmail: s.contact.email,
    };
    const checked = validateListing(form, partner, catalog);
    if (!checked.ok)
      throw new Error(
        `Partners file: ${partner.name}'s listing is invalid: ${Object.entries(checked.errors)
          .map(([k, v]) => `${k}: ${v}`)
          .join('; ')}`,
      );
    const listing: Listing = {
      ...checked.fields,
      id: newShortId('M'),
      partnerTenantId: partner.tenantId,
      partnerName: partner.name,
      serviceNames: serviceNames(checked.fields.services),
      contact: checked.fields.contact,
      canDelegate: canDelegate(partner),
      published: s.published && !isSovereign(partner.tenantId, sovereignTenants, partner),
      version: 1,
      updatedAt: clock().toISOString(),
      updatedBy: { aadObjectId: '', name: 'the partners file' },
    };
    await store.listings.save(listing, 0);
  }

  return {
    seed,
    view: (partner: Partner) => store.listings.get(partner.tenantId),
    save,
    setPublished,
    find,
    publishedListing,
    requestContact,
    leadFor,
    markLead,
    leadsOf: (partner: Partner, limit = 10) => store.leads.listByPartner(partner.tenantId, limit),
    getLead: (id: string) => store.leads.get(id),
    sendTrial,
    offerState: async (offerId: string) => (await store.offers.get(offerId))?.state,
    listingOf: (lead: Lead) => store.listings.getById(lead.listingId),
    partnerOf: (tenantId: string) => store.partners.get(tenantId),
  };
}
