import { createHash } from 'node:crypto';
import { addDays } from '../clock';
import type { Catalog, Service } from '../directory/catalog';
import type { Partner } from '../directory/partners';
import { UserInputError, quoted } from '../errors';
import type { PurchaseCommand, TrialCommand } from './commands';
import { BILLINGS_OF, TERM_ADJECTIVE, termsCommand, termsList, termsOffered } from './terms';
import { termOf, type Billing, type Decision, type Offer, type OfferLine, type OfferState, type Person, type Term } from './types';
import { PENDING_STATES } from './types';

/** How long a customer has to answer a trial invitation or purchase offer. */
export const OFFER_VALIDITY_DAYS = 30;

export const isPending = (state: OfferState): boolean => PENDING_STATES.includes(state);

export const isExpired = (offer: Offer, now: Date): boolean => isPending(offer.state) && now.toISOString() >= offer.expiresAt;

/** How many services a refusal lists before "and N more": enough to choose from, short enough to read. */
const MAX_LISTED = 5;

/** Refuses a name that fits several services, listing them so the person can type the one they mean. */
function whichService(key: string, services: Service[], typeOne: (id: string) => string): string {
  const listed = services.slice(0, MAX_LISTED).map((s) => `- ${s.name}: ${s.id}`);
  const more = services.length - listed.length;
  if (more > 0) listed.push(`- and ${more} more: type more of the name to narrow it down`);
  // Cards read the message as Markdown: the blank line ends the list, or the last sentence would join its last item.
  return [
    `${quoted(key)} fits ${services.length} services. Which one do you mean?`,
    ...listed,
    '',
    `Type its id or its full name, like: ${typeOne(services[0]!.id)}`,
  ].join('\n');
}

function resolveService(catalog: Catalog, partner: Partner, key: string, example: string, typeOne: (id: string) => string): Service {
  const match = catalog.match(key);
  if (match.kind === 'several') throw new UserInputError(whichService(key, match.services, typeOne), example, 'Which service?');
  if (match.kind === 'none') {
    const close = match.closest.map((s) => s.id);
    throw new UserInputError(
      `I don't know the service ${quoted(key)}.${close.length ? ` Did you mean ${close.join(' or ')}?` : ''} Use a catalog id or the service's full name.`,
      example,
      undefined,
      close.length === 1 ? { typed: key, instead: close[0]! } : undefined,
    );
  }
  const { service } = match;
  if (!partner.authorizedServices.includes(service.id)) {
    throw new UserInputError(
      `${partner.name} is not authorized to provide ${service.name}. You can offer: ${partner.authorizedServices.join(', ')}.`,
      example,
      'Service not authorized',
    );
  }
  return service;
}

function assertDistinct(lines: OfferLine[], example: string): void {
  const seen = new Set<string>();
  for (const l of lines) {
    if (seen.has(l.serviceId)) throw new UserInputError(`${l.serviceId} is listed twice. Name each service once.`, example);
    seen.add(l.serviceId);
  }
}

export function trialLines(cmd: Pick<TrialCommand, 'services'>, catalog: Catalog, partner: Partner, example: string): OfferLine[] {
  const lines = cmd.services.map((key): OfferLine => {
    const s = resolveService(catalog, partner, key, example, (id) => `trial ‹customer-email› ${id}`);
    return { serviceId: s.id, serviceName: s.name, trialDays: s.trialDays };
  });
  assertDistinct(lines, example);
  return lines;
}

/** The term the service is sold on to suggest instead: one that may have the billing asked for, if any. */
function nearestTerms(service: Service, billing: Billing): { term: Term; billing: Billing } {
  const offered = termsOffered(service);
  const term = offered.find((t) => BILLINGS_OF[t].includes(billing)) ?? offered[0]!;
  return { term, billing: BILLINGS_OF[term].includes(billing) ? billing : BILLINGS_OF[term][0]! };
}

export function purchaseLines(
  cmd: Pick<PurchaseCommand, 'lines' | 'term' | 'billing'>,
  catalog: Catalog,
  partner: Partner,
  example: string,
): OfferLine[] {
  const { term, billing } = cmd;
  const lines = cmd.lines.map(({ quantity, service: key }): OfferLine => {
    const s = resolveService(
      catalog,
      partner,
      key,
      example,
      (id) => `offer ‹customer-email› ${quantity} ${id} ${termsCommand(term, billing)}`,
    );
    if (quantity < s.minQuantity || quantity > s.maxQuantity) {
      throw new UserInputError(
        `${s.name} is sold in quantities of ${s.minQuantity} to ${s.maxQuantity.toLocaleString('en-US')}; you asked for ${quantity.toLocaleString('en-US')}.`,
        example,
        'Quantity out of range',
      );
    }
    const unitPriceCents = s.priceCents[term];
    if (unitPriceCents === undefined) {
      const instead = nearestTerms(s, billing);
      throw new UserInputError(
        `${s.name} is not sold on a ${TERM_ADJECTIVE[term]} term. It is sold on ${termsList(termsOffered(s))}.`,
        `offer ‹customer-email› ${quantity} ${s.id} ${termsCommand(instead.term, instead.billing)}`,
        'Term not offered',
      );
    }
    return { serviceId: s.id, serviceName: s.name, quantity, unitPriceCents };
  });
  assertDistinct(lines, example);
  return lines;
}

/**
 * Identical pending offers (same partner, approver, kind, services, quantities, term and billing) share this key,
 * so the store refuses a second one and the partner gets the first one's id. The term is in the key only where it is
 * not billing's own (`monthly` a 1-month term, `annual` a 1-year one), so an offer made before terms existed keeps its key.
 */
export function pendingKey(o: OfferDraft, attachments: Offer['attachments'] = {}): string {
  const lines = o.lines
    .map((l) => `${l.serviceId}:${l.quantity ?? ''}`)
    .sort()
    .join(',');
  const asks = [attachments.delegationId ? 'admin' : '', attachments.porId ? 'por' : ''].join('');
  return createHash('sha256')
    .update([o.kind, o.partnerTenantId, o.approverEmail, lines, o.billing ?? '', ...(asks ? [asks] : []), ...ownTerm(o)].join('|'))
    .digest('hex');
}

/** The offer's term when the billing alone would not say it (a 1-year term billed monthly, any 3-year term). */
function ownTerm(o: Pick<Offer, 'term' | 'billing'>): string[] {
  return o.term && o.term !== termOf({ billing: o.billing }) ? [`term:${o.term}`] : [];
}

export const expiryFrom = (now: Date): string => addDays(now, OFFER_VALIDITY_DAYS).toISOString();

export type OfferDraft = Pick<Offer, 'kind' | 'partnerTenantId' | 'approverEmail' | 'lines' | 'billing' | 'term'>;

/** A new offer: sent at once when its approver is known, otherwise waiting for them to install the app. */
export function newOffer(
  draft: OfferDraft,
  o: {
    id: string;
    partnerName: string;
    issuedBy: Person;
    approver?: Person;
    currency: string;
    now: Date;
    attachments?: Offer['attachments'];
  },
): Offer {
  return {
    ...(o.attachments ? { attachments: o.attachments } : {}),
    ...draft,
    id: o.id,
    state: o.approver ? 'sent' : 'awaitingDelivery',
    version: 1,
    partnerName: o.partnerName,
    issuedBy: o.issuedBy,
    approver: o.approver,
    currency: o.currency,
    createdAt: o.now.toISOString(),
    expiresAt: expiryFrom(o.now),
    deliveredAt: o.approver ? o.now.toISOString() : undefined,
    pendingKey: pendingKey(draft, o.attachments),
  };
}

/** The offer as it is after the approver's decision; pending state and duplicate key are gone. */
export function applyDecision(offer: Offer, decision: Decision, now: Date): Offer {
  const { pendingKey: _key, ...rest } = offer;
  const next: Offer = { ...rest, state: decision, decidedAt: now.toISOString(), version: offer.version + 1 };
  if (decision === 'accepted' && offer.kind === 'trial') {
    const days = Math.max(...offer.lines.map((l) => l.trialDays ?? 0));
    next.trialEndsAt = addDays(now, days).toISOString();
  }
  return next;
}

/** Leaves a pending state for a terminal one other than a decision (expired, withdrawn). */
export function close(offer: Offer, state: 'expired' | 'withdrawn', now: Date): Offer {
  const { pendingKey: _key, ...rest } = offer;
  return { ...rest, state, version: offer.version + 1, ...(state === 'withdrawn' ? { withdrawnAt: now.toISOString() } : {}) };
}
