export type OfferKind = 'trial' | 'purchase';
export type OfferState = 'awaitingDelivery' | 'sent' | 'accepted' | 'declined' | 'expired' | 'withdrawn';
/** How often the customer pays: every month, or once a year (Partner Center's `billingCycle`). */
export type Billing = 'monthly' | 'annual';
/**
 * How long the customer commits for, as an ISO 8601 duration: exactly Partner Center's `termDuration` (one month, one
 * year, three years). Kept apart from billing: a 1-year term may be billed monthly or annually.
 */
export type Term = 'P1M' | 'P1Y' | 'P3Y';
export type Decision = 'accepted' | 'declined';

export const PENDING_STATES: readonly OfferState[] = ['awaitingDelivery', 'sent'];

export interface OfferLine {
  serviceId: string;
  serviceName: string;
  /** Purchase offers only. */
  quantity?: number;
  /** Purchase offers only: list price per licence per month for the offer's term, in cents (annual billing pays 12 of them at once). */
  unitPriceCents?: number;
  /** Trials only. */
  trialDays?: number;
}

/** A Teams user as the bot saw them; enough to check who clicks and to reach them 1:1 later. */
export interface Person {
  aadObjectId: string;
  /** The Bot Framework user id (29:...). */
  userId: string;
  name: string;
  tenantId: string;
  email?: string;
  /** Where this person talks to the bot; needed to open a 1:1 chat if none is stored. */
  serviceUrl: string;
}

/** What an offer and a delegated-admin or partner-of-record request share: who issued it, to whom, and its version. */
export interface Issued {
  id: string;
  /** Incremented on every change: writes compare it so concurrent changes cannot overwrite each other. */
  version: number;
  partnerTenantId: string;
  partnerName: string;
  issuedBy: Person;
  /** Lower-cased email or UPN it is addressed to. */
  approverEmail: string;
  /** Who may answer: known once it (or, for a request, the offer it is attached to) reached the approver's 1:1 chat. */
  approver?: Person;
}

export interface Offer extends Issued {
  kind: OfferKind;
  state: OfferState;
  lines: OfferLine[];
  /** Purchase offers only. */
  billing?: Billing;
  /** Purchase offers only; an offer stored before terms existed has none: read it with `termOf`. */
  term?: Term;
  currency: string;
  createdAt: string;
  expiresAt: string;
  deliveredAt?: string;
  decidedAt?: string;
  trialEndsAt?: string;
  withdrawnAt?: string;
  /** Where the customer's card is, so it can be updated for everyone after a decision. */
  card?: { conversationId: string; activityId: string };
  /** Copies of the card posted by `offers`, newest last (at most MAX_CARD_COPIES): updated with it. */
  copies?: { conversationId: string; activityId: string }[];
  /** Set while pending: identical pending offers share it, and the store keeps it unique. */
  pendingKey?: string;
  /** Requests decided on this offer's card, each separately: delegated administration, partner of record. */
  attachments?: { delegationId?: string; porId?: string };
}

/**
 * The term of a purchase offer; undefined for a trial. Offers stored before terms existed have only a billing, whose
 * meaning then was the term too: monthly a 1-month term, annual a 1-year term. Read an offer's term only through this.
 */
export function termOf(offer: Pick<Offer, 'term' | 'billing'>): Term | undefined {
  if (offer.term) return offer.term;
  if (!offer.billing) return undefined;
  return offer.billing === 'annual' ? 'P1Y' : 'P1M';
}
