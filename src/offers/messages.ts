import type { Activity, Attachment } from 'botbuilder';
import type { OfferCardData, OfferSummaryCardData, Outcome, PriceLine, RequestPart, SummaryPart, Totals } from '../cards/data';
import type { CardRenderer } from '../cards/render';
import { formatDate, formatDateTime, formatMoney, literal } from '../cards/format';
import type { ResponseRecord } from '../responses/types';
import type { CustomerSummary } from './store';
import { BILLING_MONTHS, licencePeriodCents, linePeriodCents, offerTotals } from './pricing';
import { isPending } from './rules';
import { PERIOD, TERM_ADJECTIVE, TERM_MONTHS, TERM_TYPED, termsInWords } from './terms';
import type { AttachedRequest, OrderView } from './index';
import type { PartnerEvent } from './service';
import type { Offer, OfferState } from './types';

const KIND_LABEL = { trial: 'Trial invitation', purchase: 'Purchase offer' } as const;

export const STATE_LABEL: Record<OfferState, string> = {
  awaitingDelivery: 'Waiting for the customer to install the app',
  sent: 'Waiting for an answer',
  accepted: 'Accepted',
  declined: 'Declined',
  expired: 'Expired',
  withdrawn: 'Withdrawn',
};

const STATE_COLOR: Record<OfferState, string> = {
  awaitingDelivery: 'Warning',
  sent: 'Default',
  accepted: 'Good',
  declined: 'Attention',
  expired: 'Default',
  withdrawn: 'Default',
};

function lines(offer: Offer): PriceLine[] {
  const totals = offerTotals(offer);
  return offer.lines.map((l) => {
    if (offer.kind === 'trial' || !totals) return { name: l.serviceName, note: '', terms: '', amount: `${l.trialDays}-day free trial` };
    const { term, billing } = totals;
    return {
      name: l.serviceName,
      note: `${l.quantity} × ${formatMoney(licencePeriodCents(l, billing), offer.currency)} per licence per ${PERIOD[billing]}`,
      terms: termsInWords(term, billing),
      amount: `${formatMoney(linePeriodCents(l, billing), offer.currency)} per ${PERIOD[billing]}`,
    };
  });
}

function totals(offer: Offer): Totals {
  const t = offerTotals(offer);
  if (offer.kind !== 'purchase' || !t) return { hasTotal: false, totalLabel: '', total: '' };
  return { hasTotal: true, totalLabel: `Total per ${PERIOD[t.billing]}`, total: formatMoney(t.periodCents, offer.currency) };
}

/** "1-year term, billed monthly" for a purchase offer; '' for a trial. */
function termsOf(offer: Offer): string {
  const t = offerTotals(offer);
  return offer.kind === 'purchase' && t ? termsInWords(t.term, t.billing) : '';
}

/** How long the customer commits for, in the customer's words. */
function commitment(offer: Offer): string {
  const t = offerTotals(offer)!;
  const how = `(a ${termsInWords(t.term, t.billing)})`;
  return t.term === 'P1M' ? `runs month to month ${how}` : `commits you for ${TERM_TYPED[t.term]} ${how}`;
}

/** What the whole term comes to, when it is more than one billing period: the customer sees the full commitment. */
function termTotal(offer: Offer): string {
  const t = offerTotals(offer);
  if (!t || TERM_MONTHS[t.term] <= BILLING_MONTHS[t.billing]) return '';
  return ` Over the whole ${TERM_ADJECTIVE[t.term]} term: ${formatMoney(t.termCents, offer.currency)}.`;
}

const services = (offer: Offer) => offer.lines.map((l) => (l.quantity ? `${l.quantity} ${l.serviceName}` : l.serviceName)).join(', ');

function outcome(offer: Offer): Outcome {
  switch (offer.state) {
    case 'accepted':
      return {
        outcomeTitle: `Accepted on ${formatDate(offer.decidedAt)}`,
        outcomeDetail:
          offer.kind === 'trial'
            ? `${offer.partnerName} will set up your trial. It runs until ${formatDate(offer.trialEndsAt)}.`
            : `${offer.partnerName} will place the order for you and confirm when your licences are ready.`,
        outcomeStyle: 'good',
      };
    case 'declined':
      return {
        outcomeTitle: `Declined on ${formatDate(offer.decidedAt)}`,
        outcomeDetail: `${offer.partnerName} has been told.`,
        outcomeStyle: 'attention',
      };
    case 'expired':
      return {
        outcomeTitle: `This ${KIND_LABEL[offer.kind].toLowerCase()} expired on ${formatDate(offer.expiresAt)}`,
        outcomeDetail: `It can no longer be answered. Ask ${offer.partnerName} to send a new one if you are still interested.`,
        outcomeStyle: 'warning',
      };
    case 'withdrawn':
      return {
        outcomeTitle: `${offer.partnerName} withdrew this ${KIND_LABEL[offer.kind].toLowerCase()}`,
        outcomeDetail: 'It can no longer be answered.',
        outcomeStyle: 'warning',
      };
    default:
      return { outcomeTitle: '', outcomeDetail: '', outcomeStyle: 'default' };
  }
}

const card = (attachment: Attachment): Partial<Activity> => ({ type: 'message', attachments: [attachment] });

/** The customer as a partner recognises it: the approver's email domain. */
const customerOf = (offer: Offer): string => offer.approverEmail.split('@')[1] ?? offer.approverEmail;

export function createOfferMessages(cards: CardRenderer) {
  const offerCardData = (offer: Offer, parts: RequestPart[], order?: OrderView['customer']): OfferCardData => ({
    offerId: offer.id,
    parts,
    // Upper-cased here: the template language's toUpper costs more than the rest of the card together.
    kindTag: KIND_LABEL[offer.kind].toUpperCase(),
    partnerName: offer.partnerName,
    headline:
      offer.kind === 'trial'
        ? `${offer.partnerName} invites you to try Microsoft 365 services`
        : `${offer.partnerName} offers you Microsoft 365 services`,
    intro:
      offer.kind === 'trial'
        ? `Hello ${offer.approver ? literal(offer.approver.name) : offer.approverEmail}, accept to start free trials of:`
        : `Hello ${offer.approver ? literal(offer.approver.name) : offer.approverEmail}, this offer ${commitment(offer)}:`,
    lines: lines(offer),
    ...totals(offer),
    fineprint:
      offer.kind === 'trial'
        ? 'Free of charge; nothing is bought when the trial ends unless you decide to. Accepting records your consent; your partner then sets the trial up.'
        : `List prices in ${offer.currency}, before tax.${termTotal(offer)} Accepting records your intent to buy; ${offer.partnerName} places the order and you can still review it.`,
    expiresOn: formatDate(offer.expiresAt),
    isPending: offer.state === 'sent' || offer.state === 'awaitingDelivery',
    hasOutcome: offer.state !== 'sent' && offer.state !== 'awaitingDelivery',
    ...outcome(offer),
    ...(order ? { outcomeTitle: order.outcomeTitle, outcomeDetail: order.outcomeDetail, outcomeStyle: order.outcomeStyle } : {}),
    hasOutcomeLink: !!order?.link,
    outcomeLinkTitle: order?.link?.title ?? '',
    outcomeLinkUrl: order?.link?.url ?? '',
    // Only the approver's Teams client auto-refreshes the card; everyone else sees the state it was last sent in.
    refreshUserIds: offer.approver ? [offer.approver.userId] : [],
  });

  const history = (responses: ResponseRecord[]) =>
    responses.map((r) => ({
      text: `${formatDateTime(r.at)}: ${r.decision} by ${literal(r.by.name)}${r.by.upn ? ` (${r.by.upn})` : ''}${r.comment ? `: "${literal(r.comment)}"` : ''}`,
    }));

  const partsOf = (attached: AttachedRequest[]): SummaryPart[] =>
    attached.map((a) => ({
      title: `${a.kind} · ${a.id}`,
      state: a.state,
      answers: [...history(a.responses), ...(a.notes ?? []).map((text) => ({ text }))],
    }));

  const summaryData = (
    offer: Offer,
    o: { headline: string; detail?: string; style?: string; responses?: ResponseRecord[]; hint?: string; installLink?: string },
    attached: AttachedRequest[] = [],
  ): OfferSummaryCardData => ({
    headline: o.headline,
    detail: o.detail ?? '',
    style: o.style ?? 'default',
    offerId: offer.id,
    kindLabel: KIND_LABEL[offer.kind] + (termsOf(offer) ? ` (${termsOf(offer)})` : ''),
    customer: offer.approver ? `${literal(offer.approver.name)} (${offer.approverEmail})` : offer.approverEmail,
    stateLabel: STATE_LABEL[offer.state],
    createdOn: formatDate(offer.createdAt),
    // Only a pending offer can still expire; an answered one shows when it was answered instead.
    expiresOn: isPending(offer.state) ? formatDate(offer.expiresAt) : '',
    ...closedOn(offer),
    lines: lines(offer),
    ...totals(offer),
    history: history(o.responses ?? []),
    parts: partsOf(attached),
    hint: o.hint ?? '',
    installLink: o.installLink ?? '',
  });

  const messages = {
    /** The customer's card, actionable while pending, with the requests attached to it. */
    offerCard: (offer: Offer, parts: RequestPart[] = [], order?: OrderView['customer']) =>
      card(cards.attachment('offer', offerCardData(offer, parts, order))),
    /** A 1:1 note to the issuing partner user about something that happened to the offer. */
    partnerNotice: (offer: Offer, event: PartnerEvent, comment?: string, attached: AttachedRequest[] = [], order?: OrderView) => {
      const who = offer.approver ? literal(offer.approver.name) : offer.approverEmail;
      const what = KIND_LABEL[offer.kind].toLowerCase();
      const texts = {
        accepted: {
          headline: `${who} accepted ${offer.id}`,
          detail:
            order?.next ??
            (offer.kind === 'trial'
              ? `Set up the trial for ${services(offer)} in Partner Center. It runs until ${formatDate(offer.trialEndsAt)}.`
              : `Place the order for ${services(offer)} (${termsOf(offer)}) in Partner Center.`),
          style: 'good',
        },
        declined: {
          headline: `${who} declined ${offer.id}`,
          detail: comment ? `Their reason: "${literal(comment)}"` : 'They gave no reason.',
          style: 'attention',
        },
        expired: {
          headline: `${offer.id} expired without an answer`,
          detail: `${who} did not answer your ${what} in time.`,
          style: 'warning',
        },
        delivered: {
          headline: `${offer.id} reached ${who}`,
          detail: `They installed the app, so your ${what} is now in their chat.`,
          style: 'default',
        },
      } as const;
      return card(cards.attachment('offer-summary', summaryData(offer, texts[event], attached)));
    },
  };

  return {
    ...messages,
    /** The partner channel's notice of an acceptance: who, what, and what to do next. */
    channelNotice: (offer: Offer, response: ResponseRecord | undefined, order?: OrderView) =>
      card(
        cards.attachment('channel-notice', {
          tag: `${KIND_LABEL[offer.kind].toUpperCase()} ACCEPTED`,
          headline: `${customerOf(offer)} accepted ${offer.id}`,
          facts: [
            { title: 'Customer', value: offer.approver ? `${literal(offer.approver.name)} (${offer.approverEmail})` : offer.approverEmail },
            {
              title: 'Accepted by',
              value: literal(
                response ? `${response.by.name}${response.by.upn ? ` (${response.by.upn})` : ''}` : (offer.approver?.name ?? ''),
              ),
            },
            { title: 'When', value: response ? formatDateTime(response.at) : formatDate(offer.decidedAt) },
            {
              title: 'What',
              value: KIND_LABEL[offer.kind] + (termsOf(offer) ? `, ${termsOf(offer)}` : ''),
            },
            ...(offer.trialEndsAt ? [{ title: 'Trial ends', value: formatDate(offer.trialEndsAt) }] : []),
            { title: 'Sent by', value: literal(offer.issuedBy.name) },
            { title: 'Id', value: offer.id },
          ],
          lines: [
            // The notice's rows have no line under the name, so the quantity × unit price follows it there.
            ...lines(offer).map((l) => ({ name: l.note ? `${l.name}, ${l.note}` : l.name, detail: l.amount })),
            ...(totals(offer).hasTotal ? [{ name: totals(offer).totalLabel, detail: totals(offer).total }] : []),
          ],
          next:
            order?.next ??
            (offer.kind === 'trial'
              ? `Set up the trial of ${services(offer)} in Partner Center; it runs until ${formatDate(offer.trialEndsAt)}.`
              : `Place the order for ${services(offer)} (${termsOf(offer)}) in Partner Center and confirm to the customer.`),
        }),
      ),
    /**
     * Answers that queued up for one partner chat or channel while Teams' per-conversation limit held the first one
     * back: one message listing each offer (customer, id, what, how it was answered) instead of one message each.
     */
    answersDigest: (title: string, offers: Offer[]) =>
      card(
        cards.attachment('offer-list', {
          title,
          empty: '',
          hint: 'Type status ‹id› for one offer and its recorded answers.',
          whoHeader: 'Customer',
          rows: offers.map((offer) => ({
            id: offer.id,
            who: offer.approver ? `${literal(offer.approver.name)} (${offer.approverEmail})` : offer.approverEmail,
            what: `${KIND_LABEL[offer.kind]}: ${services(offer)}`,
            state: STATE_LABEL[offer.state],
            color: STATE_COLOR[offer.state],
          })),
        }),
      ),
    offerCardJson: (offer: Offer, parts: RequestPart[] = [], order?: OrderView['customer']) =>
      cards.render('offer', offerCardData(offer, parts, order)),
    issued: (offer: Offer, installLink: string, attached: AttachedRequest[] = []) =>
      cards.attachment(
        'offer-summary',
        offer.state === 'sent'
          ? summaryData(
              offer,
              {
                headline: `${KIND_LABEL[offer.kind]} ${offer.id} sent to ${offer.approver ? literal(offer.approver.name) : offer.approverEmail}`,
                detail: "I'll message you here when they answer.",
                style: 'good',
                hint: `Type status ${offer.id} to follow it, or withdraw ${offer.id} to take it back.`,
              },
              attached,
            )
          : summaryData(
              offer,
              {
                headline: `${offer.id} is waiting for ${offer.approverEmail} to install Partner Offers`,
                detail: `${offer.approverEmail} has not installed the app yet. Send them the install link; the ${KIND_LABEL[offer.kind].toLowerCase()} reaches them as soon as they do, and I'll tell you.`,
                style: 'warning',
                hint: `Type status ${offer.id} to follow it.`,
                installLink,
              },
              attached,
            ),
      ),
    duplicate: (offer: Offer, attached: AttachedRequest[] = []) =>
      cards.attachment(
        'offer-summary',
        summaryData(
          offer,
          {
            headline: `You already sent this: ${offer.id}`,
            detail: `An identical ${KIND_LABEL[offer.kind].toLowerCase()} to ${offer.approverEmail} is still waiting for an answer, so I did not send it again.`,
            style: 'warning',
            hint: `Type withdraw ${offer.id} first if you want to send a changed one.`,
          },
          attached,
        ),
      ),
    status: (offer: Offer, responses: ResponseRecord[], attached: AttachedRequest[] = []) =>
      cards.attachment('offer-summary', summaryData(offer, { headline: `${offer.id}: ${STATE_LABEL[offer.state]}`, responses }, attached)),
    withdrawn: (offer: Offer, attached: AttachedRequest[] = []) =>
      cards.attachment(
        'offer-summary',
        summaryData(
          offer,
          {
            headline: `${offer.id} withdrawn`,
            detail: `${offer.approverEmail} can no longer answer it; their card says so.`,
          },
          attached,
        ),
      ),
    list: (
      title: string,
      offers: Offer[],
      o: { empty: string; hint?: string; forCustomer?: boolean; orderLabels?: ReadonlyMap<string, string> },
    ) =>
      cards.attachment('offer-list', {
        title,
        empty: o.empty,
        hint: o.hint ?? '',
        whoHeader: o.forCustomer ? 'From' : 'Customer',
        rows: offers.map((offer) => ({
          id: offer.id,
          who: o.forCustomer ? offer.partnerName : offer.approverEmail,
          what: `${KIND_LABEL[offer.kind]}: ${services(offer)}`,
          state: o.orderLabels?.has(offer.id) ? `${STATE_LABEL[offer.state]} · ${o.orderLabels.get(offer.id)}` : STATE_LABEL[offer.state],
          color: STATE_COLOR[offer.state],
        })),
      }),
    /** `names`: organisation names by tenant id, shown beside the address where Microsoft gave one. */
    /** `orders`: per customer tenant, its orders at Microsoft in a sentence (partners connected to Partner Center). */
    customers: (
      customers: CustomerSummary[],
      names: ReadonlyMap<string, string> = new Map(),
      orders: ReadonlyMap<string, string> = new Map(),
    ) =>
      cards.attachment('customers', {
        customers: customers.map((c) => ({
          email:
            c.customerTenantId && names.has(c.customerTenantId)
              ? `${c.approverEmail} (${literal(names.get(c.customerTenantId)!)})`
              : c.approverEmail,
          summary: `${customerCounts(c)}. Last sent ${formatDate(c.lastActivityAt)}.${c.customerTenantId && orders.has(c.customerTenantId) ? ` ${orders.get(c.customerTenantId)}` : ''}`,
        })),
      }),
  };
}

export type OfferCards = ReturnType<typeof createOfferMessages>;

/** "4 offers: 1 waiting, 2 accepted, 1 not taken up": the parts always add up to the whole. */
export function customerCounts(c: Pick<CustomerSummary, 'offers' | 'pending' | 'accepted'>): string {
  const closed = c.offers - c.pending - c.accepted;
  const parts = [
    `${c.pending} waiting`,
    `${c.accepted} accepted`,
    ...(closed > 0 ? [`${closed} not taken up (declined, withdrawn or expired)`] : []),
  ];
  return `${c.offers} offer${c.offers === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** When a closed offer closed, and how: the fact the summary shows instead of "Expires". */
function closedOn(offer: Offer): Pick<OfferSummaryCardData, 'decidedOn' | 'decidedLabel'> {
  if (offer.state === 'withdrawn') return { decidedLabel: 'Withdrawn', decidedOn: formatDate(offer.withdrawnAt) };
  if (offer.state === 'expired') return { decidedLabel: 'Expired', decidedOn: formatDate(offer.expiresAt) };
  if (offer.state === 'accepted' || offer.state === 'declined') return { decidedLabel: 'Answered', decidedOn: formatDate(offer.decidedAt) };
  return { decidedLabel: '', decidedOn: '' };
}
