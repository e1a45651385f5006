/**
 * What each template in cards/ binds: one interface per template, exactly its `${...}` fields, so `render` refuses
 * data a template would ignore or leave unexpanded. They live here, beside the templates' renderer, and import
 * nothing: a template can be shared by capabilities (offer-list, channel-notice), and cards/ depends on none of them.
 * Free text in these fields is shown as markdown; `literal` (./format) is for what one party typed for another.
 */

export interface Fact {
  title: string;
  value: string;
}

/** A row with a name on the left and its detail on the right: a role, a total. */
export interface Line {
  name: string;
  detail: string;
}

/**
 * An offer's service line. The name gets the row's width and the quantity × unit price and the term sit under it, so
 * the right column holds only the short amount: a long detail there took the width and broke the name mid-word.
 */
export interface PriceLine {
  name: string;
  /** Quantity × price per licence per billing period, in small text under the name; '' for a trial. */
  note: string;
  /** The term and billing in words ("1-year term, billed monthly"), under the note; '' for a trial. */
  terms: string;
  /** What the line costs per billing period, or the trial's length: short, shown unwrapped. */
  amount: string;
}

/** One line of small text: a recorded answer, a note. */
export interface TextLine {
  text: string;
}

/** An Entra role (or full administration) and what it allows, in the customer's words. */
export interface Role {
  name: string;
  allows: string;
}

export interface Choice {
  title: string;
  value: string;
}

/** How something closed, shown in a styled container instead of the buttons. */
export interface Outcome {
  outcomeTitle: string;
  outcomeDetail: string;
  /** A Container style: default, good, warning, attention. */
  outcomeStyle: string;
}

/** Totals of a purchase offer; hasTotal is false (and the others '') for a trial. */
export interface Totals {
  hasTotal: boolean;
  totalLabel: string;
  total: string;
}

/**
 * One delegated-admin or partner-of-record request as a section: attached to an offer card (offer.json's `parts`) or
 * on its own card (delegation-request.json). Both templates hold the same section; test/cards keeps them the same.
 */
export interface RequestPart extends Outcome {
  relationshipId: string;
  partnerName: string;
  title: string;
  summary: string;
  roles: Role[];
  facts: Fact[];
  /** The warning that approving replaces a current partner; '' when it does not. */
  replacesNote: string;
  notes: TextLine[];
  /** Approve and Decline while open; the outcome otherwise. */
  isOpen: boolean;
  /** Set when approval happens at Microsoft: the approve button opens this link instead of answering here. */
  approveUrl: string;
  /** Open but not yet created at Microsoft: no approve button until its link exists. */
  awaitingLink: boolean;
  approveTitle: string;
  approveVerb: string;
  declineTitle: string;
  declineVerb: string;
  /** The id of the relationship an approval replaces, sent back with Approve; '' when none. */
  replaces: string;
  /** One decline-reason input per kind, so an offer card with both requests keeps them apart. */
  reasonInputId: string;
}

/** offer.json: the customer's trial invitation or purchase offer, with the requests attached to it. */
export interface OfferCardData extends Totals, Outcome {
  offerId: string;
  kindTag: string;
  partnerName: string;
  headline: string;
  intro: string;
  lines: PriceLine[];
  fineprint: string;
  expiresOn: string;
  /** Accept and Decline while pending. */
  isPending: boolean;
  hasOutcome: boolean;
  /** A link under the outcome (the reseller invitation the customer must accept before an order can be placed). */
  hasOutcomeLink: boolean;
  outcomeLinkTitle: string;
  outcomeLinkUrl: string;
  parts: RequestPart[];
  /** Teams users whose client refreshes the card (offer.view): the approver only. */
  refreshUserIds: string[];
}

/** delegation-request.json: a delegated-admin or partner-of-record request on its own card. */
export interface DelegationRequestCardData extends RequestPart {
  kindTag: string;
  headline: string;
  intro: string;
  /** delegation.view or por.view, with the relationship id. */
  refreshVerb: string;
  refreshUserIds: string[];
}

/** offer-summary.json: an offer as the partner sees it (confirmation, notices, status). */
export interface OfferSummaryCardData extends Totals {
  headline: string;
  detail: string;
  style: string;
  offerId: string;
  kindLabel: string;
  customer: string;
  stateLabel: string;
  createdOn: string;
  /** '' once the offer is answered or closed. */
  expiresOn: string;
  decidedLabel: string;
  decidedOn: string;
  lines: PriceLine[];
  history: TextLine[];
  /** The requests attached to the offer (delegated administration, partner of record); none for a plain offer. */
  parts: SummaryPart[];
  hint: string;
  installLink: string;
}

/** One request attached to an offer, on the partner's summary: "Delegated administration · D-4K7P2Q", its state, its answers. */
export interface SummaryPart {
  title: string;
  state: string;
  answers: TextLine[];
}

/** relationship-summary.json: a relationship as one side sees it (confirmation, notices, status). */
export interface RelationshipSummaryCardData {
  headline: string;
  detail: string;
  style: string;
  facts: Fact[];
  roles: Role[];
  history: TextLine[];
  hint: string;
  installLink: string;
}

/** channel-notice.json: an acceptance or approval, posted to the partner's notification channel. */
/** order-notice.json: the partner user hears where an accepted offer's order stands at Partner Center. */
export interface OrderNoticeCardData {
  tag: string;
  /** A TextBlock color: Good, Warning, Attention, Default. */
  tagColor: string;
  headline: string;
  detail: string;
  facts: Fact[];
  lines: TextLine[];
  offerId: string;
  /** The job stopped on something the partner must fix: Retry puts it back to work. */
  canRetry: boolean;
  hasLink: boolean;
  linkTitle: string;
  linkUrl: string;
}

export interface ChannelNoticeCardData {
  tag: string;
  headline: string;
  facts: Fact[];
  lines: Line[];
  next: string;
}

/** offer-list.json: offers or relationships, one row each. */
export interface OfferListCardData {
  title: string;
  empty: string;
  hint: string;
  whoHeader: string;
  rows: Array<{ id: string; who: string; what: string; state: string; color: string }>;
}

/** customers.json */
export interface CustomersCardData {
  customers: Array<{ email: string; summary: string }>;
}

/** partners.json: the customer's delegated admin and partner of record. */
export interface PartnersCardData {
  sections: Array<{ title: string; summary: string; facts: Fact[] }>;
  hint: string;
}

/** revoke-confirm.json: confirm or keep, then the outcome. */
export interface RevokeConfirmCardData extends Outcome {
  relationshipId: string;
  headline: string;
  detail: string;
  facts: Fact[];
  isOpen: boolean;
  confirmTitle: string;
}

/** The listing form's fields as the edit card shows them: text as typed, services as comma-separated ids. */
export interface ListingFormFields {
  headline: string;
  description: string;
  services: string;
  expertise: string;
  countries: string;
  languages: string;
  contactName: string;
  contactEmail: string;
}

/** listing-edit.json: the form, filled in, with each field's error ('' when none) under it. */
export interface ListingEditCardData extends ListingFormFields {
  listingId: string;
  intro: string;
  summary: string;
  serviceChoices: Choice[];
  errors: ListingFormFields;
}

/** listing.json: a partner's own listing (Edit, Publish) or a search result (Ask to be contacted). */
export interface ListingCardData {
  listingId: string;
  tag: string;
  tagColor: string;
  headline: string;
  partnerName: string;
  description: string;
  facts: Fact[];
  hint: string;
  isOwn: boolean;
  canPublish: boolean;
  publishTitle: string;
  publishVerb: string;
  isResult: boolean;
  outcomeTitle: string;
  outcomeDetail: string;
}

/** lead.json: a customer asked a partner to get in touch. */
export interface LeadCardData {
  leadId: string;
  headline: string;
  facts: Fact[];
  note: string;
  trialSent: string;
  canSendTrial: boolean;
  serviceChoices: Choice[];
  /** The preselected choice: comma-separated service ids. */
  defaultServices: string;
  /** A Teams deep link that opens a 1:1 chat with the person who asked. */
  chatLink: string;
  chatTitle: string;
  /** Where the partner says it stands ("Contacted by Alex Wilber on 5 Dec 2026"), '' until marked. */
  stage: string;
  /** The marks not yet made: each a button with its verb (`lead.contacted`, `lead.won`, `lead.lost`). */
  stageChoices: { title: string; verb: string }[];
}

/** find-more.json: how many results, and the next page's button. */
export interface FindMoreCardData {
  text: string;
  more: boolean;
  q: string;
  /** A string: it goes back in the button's data as typed form input. */
  page: string;
}

/** failed-notifications.json: what could not be delivered, with Retry. */
export interface FailedNotificationsCardData {
  headline: string;
  detail: string;
  style: string;
  rows: Array<{ what: string; reason: string }>;
  /** Comma-separated outbox ids for Retry; '' hides the button. */
  ids: string;
}

export interface HelpCardData {
  title: string;
  intro: string;
  commands: Array<{ usage: string; description: string }>;
}

export interface ErrorCardData {
  title: string;
  message: string;
  /** '' when there is no example to show. */
  example: string;
  /** The whole command with its one certain fix, shown as is and sent by Send it corrected; '' hides both. */
  corrected: string;
}

/** Each template in cards/ by file name, with the data it binds; test/cards checks the two lists are the same. */
export interface CardData {
  'channel-notice': ChannelNoticeCardData;
  customers: CustomersCardData;
  'delegation-request': DelegationRequestCardData;
  error: ErrorCardData;
  'failed-notifications': FailedNotificationsCardData;
  'find-more': FindMoreCardData;
  help: HelpCardData;
  lead: LeadCardData;
  'listing-edit': ListingEditCardData;
  listing: ListingCardData;
  'offer-list': OfferListCardData;
  'offer-summary': OfferSummaryCardData;
  offer: OfferCardData;
  'order-notice': OrderNoticeCardData;
  partners: PartnersCardData;
  'relationship-summary': RelationshipSummaryCardData;
  'revoke-confirm': RevokeConfirmCardData;
  /** Static text: binds nothing. */
  support: Record<string, never>;
}

export type CardName = keyof CardData;
