import { CardFactory, type Activity } from 'botbuilder';
import type { Fact, ListingCardData } from '../cards/data';
import type { CardJson, CardRenderer } from '../cards/render';
import { formatDate, formatDateTime, literal } from '../cards/format';
import type { Catalog } from '../directory/catalog';
import type { Partner } from '../directory/partners';
import type { OfferState } from '../offers/types';
import { countryName } from './geo';
import { chatLink, describeCountries, describeLanguages, type ListingField, type ListingForm } from './rules';
import { LEAD_STAGES, type Lead, type Listing } from './types';

const FIELDS: ListingField[] = [
  'headline',
  'description',
  'services',
  'expertise',
  'countries',
  'languages',
  'contactName',
  'contactEmail',
];

export function createMarketplaceMessages(cards: CardRenderer, catalog: Catalog) {
  const serviceChoices = (ids: string[]) => ids.map((id) => ({ title: catalog.services.find((s) => s.id === id)?.name ?? id, value: id }));

  const facts = (l: Listing): Fact[] => [
    { title: 'Services', value: l.serviceNames.join(', ') || '—' },
    ...(l.expertise.length ? [{ title: 'Expertise', value: literal(l.expertise.join(', ')) }] : []),
    { title: 'Countries', value: l.countries.length ? describeCountries(l.countries) : '—' },
    ...(l.languages.length ? [{ title: 'Languages', value: describeLanguages(l.languages) }] : []),
    { title: 'Delegated admin', value: l.canDelegate ? 'Can offer delegated administration' : 'Does not offer delegated administration' },
  ];

  const listingData = (
    l: Listing,
    o: { own?: boolean; result?: boolean; outcomeTitle?: string; outcomeDetail?: string; hint?: string } = {},
  ): ListingCardData => ({
    listingId: l.id,
    tag: o.own ? (l.published ? 'PUBLISHED · can be found with find' : 'NOT PUBLISHED · nobody can find it yet') : `PARTNER · ${l.id}`,
    tagColor: o.own && !l.published ? 'Warning' : 'Accent',
    headline: l.headline ? literal(l.headline) : '(no headline yet)',
    partnerName: l.partnerName,
    description: literal(l.description),
    facts: [
      ...facts(l),
      ...(o.own
        ? [
            { title: 'Contact', value: `${literal(l.contact.name)} (${l.contact.email})` },
            { title: 'Last edited', value: `${formatDate(l.updatedAt)} by ${literal(l.updatedBy.name)}` },
          ]
        : []),
    ],
    hint: o.hint ?? '',
    isOwn: !!o.own,
    canPublish: true,
    publishTitle: l.published ? 'Unpublish' : 'Publish',
    publishVerb: l.published ? 'listing.unpublish' : 'listing.publish',
    isResult: !!o.result,
    outcomeTitle: o.outcomeTitle ?? '',
    outcomeDetail: o.outcomeDetail ?? '',
  });

  const empty = (partner: Partner): Listing => ({
    id: '',
    partnerTenantId: partner.tenantId,
    partnerName: partner.name,
    headline: '',
    description: '',
    services: [],
    serviceNames: [],
    expertise: [],
    countries: [],
    languages: [],
    contact: { name: '', email: '' },
    canDelegate: false,
    published: false,
    version: 0,
    updatedAt: '',
    updatedBy: { aadObjectId: '', name: '' },
  });

  /** The edit form, filled with the listing (or what was submitted) and each field's error under it. */
  const editCardJson = (
    partner: Partner,
    listing: Listing | null,
    o: { form?: ListingForm; errors?: Partial<Record<ListingField, string>> } = {},
  ): CardJson => {
    const l = listing ?? empty(partner);
    // FIELDS lists every field of the form, so each has its entry ('' when it has no error).
    const errors = Object.fromEntries(FIELDS.map((f) => [f, o.errors?.[f] ?? ''])) as Record<ListingField, string>;
    const count = Object.values(errors).filter(Boolean).length;
    return cards.render('listing-edit', {
      listingId: l.id || 'new',
      // Saving a published listing changes what people find at once; the form says so rather than promising a Publish step.
      intro: l.published
        ? 'Your listing is published: what you save here is what customers and other partners find, at once. Press Unpublish on your listing to take it down first.'
        : 'Customers and other partners find you with find. Fill in what you offer; nothing is published until you press Publish.',
      summary: count ? `${count} field${count === 1 ? ' needs' : 's need'} fixing: see below.` : '',
      headline: o.form?.headline ?? l.headline,
      description: o.form?.description ?? l.description,
      services: o.form?.services ?? l.services.join(','),
      expertise: o.form?.expertise ?? l.expertise.join(', '),
      countries: o.form?.countries ?? l.countries.join(', '),
      languages: o.form?.languages ?? l.languages.join(', '),
      contactName: o.form?.contactName ?? l.contact.name,
      contactEmail: o.form?.contactEmail ?? l.contact.email,
      serviceChoices: serviceChoices(partner.authorizedServices),
      errors,
    });
  };

  const leadFacts = (lead: Lead, listing: Listing | null) => [
    { title: 'From', value: `${literal(lead.requester.name)} (${lead.requester.email})` },
    { title: 'Organisation', value: lead.requester.email.split('@')[1] ?? '' },
    { title: 'When', value: formatDateTime(lead.createdAt) },
    ...(listing ? [{ title: 'Found', value: literal(listing.headline) }] : []),
  ];

  return {
    listingCardJson: (l: Listing, o?: Parameters<typeof listingData>[1]) => cards.render('listing', listingData(l, o)),
    listingCard: (l: Listing, o?: Parameters<typeof listingData>[1]) => cards.attachment('listing', listingData(l, o)),
    noListing: (partner: Partner) =>
      cards.attachment('listing', {
        ...listingData(empty(partner), { own: true, hint: 'Press Edit to describe what you offer, then Publish.' }),
        canPublish: false,
      }),
    editCardJson,
    editCard: (partner: Partner, listing: Listing | null) => CardFactory.adaptiveCard(editCardJson(partner, listing)),
    /** The lead as the partner sees it: who asked, their note, and a trial invitation to send them. */
    leadCard: (lead: Lead, listing: Listing | null, trial?: { offerId: string; state?: OfferState }): Partial<Activity> => ({
      type: 'message',
      attachments: [CardFactory.adaptiveCard(leadCardJson(lead, listing, trial))],
    }),
    leadCardJson: (lead: Lead, listing: Listing | null, trial?: { offerId: string; state?: OfferState }) =>
      leadCardJson(lead, listing, trial),
    countryName,
    /** `status`: the partner's newest leads and where each stands; nothing when there are none. */
    leadList: (leads: Lead[]) =>
      leads.length === 0
        ? undefined
        : cards.attachment('offer-list', {
            title: 'Leads',
            empty: '',
            hint: 'Open a lead card to chat with the person or mark it contacted, won or lost.',
            whoHeader: 'From',
            rows: leads.map((lead) => ({
              id: lead.id,
              who: `${literal(lead.requester.name)} (${lead.requester.email})`,
              what: lead.trialOfferId ? `Trial sent: ${lead.trialOfferId}` : `Asked on ${formatDate(lead.createdAt)}`,
              state: lead.stage ? STAGE_LABEL[lead.stage.value] : 'New',
              color: lead.stage?.value === 'won' ? 'Good' : lead.stage?.value === 'lost' ? 'Attention' : 'Default',
            })),
          }),
  };

  function leadCardJson(lead: Lead, listing: Listing | null, trial?: { offerId: string; state?: OfferState }): CardJson {
    const offered = listing?.services.length ? listing.services : [];
    return cards.render('lead', {
      leadId: lead.id,
      headline: `${literal(lead.requester.name)} asks ${lead.partnerName} to get in touch`,
      facts: leadFacts(lead, listing),
      note: literal(lead.note ?? ''),
      trialSent: trial ? `Trial invitation ${trial.offerId} sent to ${lead.requester.email}${trial.state ? ` (${trial.state})` : ''}.` : '',
      canSendTrial: !trial && offered.length > 0,
      serviceChoices: serviceChoices(offered),
      defaultServices: offered.slice(0, 1).join(','),
      chatLink: chatLink(lead.requester.email),
      chatTitle: `Chat with ${literal(lead.requester.name)}`,
      stage: lead.stage
        ? `${STAGE_LABEL[lead.stage.value]} · marked by ${literal(lead.stage.by.name)} on ${formatDate(lead.stage.at)}`
        : '',
      stageChoices: LEAD_STAGES.filter((v) => v !== lead.stage?.value).map((value) => ({
        title: `Mark ${STAGE_LABEL[value].toLowerCase()}`,
        verb: `lead.${value}`,
      })),
    });
  }
}

export type MarketplaceCards = ReturnType<typeof createMarketplaceMessages>;

/** Where a lead stands, as the card and `status` say it. */
export const STAGE_LABEL: Record<(typeof LEAD_STAGES)[number], string> = { contacted: 'Contacted', won: 'Won', lost: 'Lost' };
