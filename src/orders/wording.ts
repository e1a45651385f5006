import { formatDate, literal, possessive } from '../cards/format';
import type { OrderView } from '../offers';
import type { Offer } from '../offers/types';
import type { Fulfilment } from './types';

/*
 * What cards say about an accepted offer of a partner connected to Partner Center. "Placed" appears only once Partner
 * Center answered the checkout with an order, and the order number and date are Partner Center's own.
 */

const TERM_WORDS: Record<string, string> = { P1M: '1-month term', P1Y: '1-year term', P3Y: '3-year term' };
const BILLING_WORDS: Record<string, string> = { monthly: 'billed monthly', annual: 'billed annually', triennial: 'billed every 3 years' };

/** "1-year term, billed annually", from Partner Center's spellings. */
export const termWords = (termDuration: string, billingCycle: string): string =>
  `${TERM_WORDS[termDuration] ?? termDuration}, ${BILLING_WORDS[billingCycle] ?? billingCycle}`;

/** "25 × Microsoft 365 Business Premium, 1-year term, billed monthly"; a trial: "25 licences of … (trial)". */
export function lineWords(f: Fulfilment, offer: Offer): string[] {
  if (f.lines.length) {
    return f.lines.map((l) =>
      offer.kind === 'trial'
        ? `${l.quantity} × ${l.serviceName} (trial, ${offer.lines.find((o) => o.serviceId === l.serviceId)?.trialDays ?? 30} days)`
        : `${l.quantity} × ${l.serviceName}, ${termWords(l.termDuration, l.billingCycle)}`,
    );
  }
  return offer.lines.map((l) => (l.quantity ? `${l.quantity} × ${l.serviceName}` : l.serviceName));
}

const orderIds = (f: Fulfilment) => (f.orders ?? []).map((o) => o.id).join(', ');
const provisioned = (f: Fulfilment) =>
  (f.orders ?? []).length > 0 && f.orders!.every((o) => o.status === 'completed' && o.lines.every((l) => l.subscriptionId));
export const startDate = (f: Fulfilment) => formatDate(f.orders?.[0]?.createdAt ?? f.placedAt);

/** Where the job stands, in a few words: the partner's status, the customers list, the tab. */
export function fulfilmentLabel(f: Fulfilment): string {
  switch (f.state) {
    case 'waitingForCustomer':
      return 'Waiting for the customer to accept the reseller invitation';
    case 'ordering':
      return f.retrying ? 'Ordering (Partner Center is not answering; retrying)' : 'Ordering';
    case 'placed':
      return `${f.kind === 'trial' ? 'Trial started' : 'Order placed'}: ${orderIds(f)}${provisioned(f) ? '' : ' (Microsoft is provisioning it)'}`;
    case 'failed':
      return `Failed: ${f.failure?.reason ?? 'Partner Center refused the order'}`;
  }
}

export function orderView(offer: Offer, f: Fulfilment): OrderView {
  const partner = offer.partnerName;
  const what = offer.kind === 'trial' ? 'trial' : 'order';
  const accepted = `Accepted on ${formatDate(offer.decidedAt)}`;
  const lines = lineWords(f, offer);
  const customer: OrderView['customer'] = (() => {
    switch (f.state) {
      case 'waitingForCustomer':
        return {
          outcomeTitle: `${accepted}: one step left for your organisation`,
          outcomeDetail:
            `Before ${partner} can place this ${what} for you with Microsoft, your organisation must accept ${partner} as its Microsoft reseller. ` +
            `A Global Administrator of your organisation opens the invitation, signs in and accepts it; it grants ${partner} no admin access. ` +
            `The ${what} is placed as soon as Microsoft reports it accepted, and this card shows the order number.`,
          outcomeStyle: 'warning',
          ...(f.invitationLink ? { link: { title: `Accept ${partner} as reseller`, url: f.invitationLink } } : {}),
        };
      case 'ordering':
        return {
          outcomeTitle: accepted,
          outcomeDetail: `${partner} is placing your ${what} with Microsoft. This card shows the order number once Microsoft confirms it.`,
          outcomeStyle: 'good',
        };
      case 'placed':
        return {
          outcomeTitle: `${offer.kind === 'trial' ? 'Trial started' : 'Order placed'} on ${startDate(f)}`,
          outcomeDetail:
            `Microsoft confirmed order ${orderIds(f)}: ${lines.join('; ')}, starts ${startDate(f)}. ` +
            (provisioned(f) ? 'Your licences are ready.' : 'Microsoft is setting up your licences; this takes a few minutes.') +
            (f.failure?.lines?.length ? ` Part of it could not be placed; ${partner} will follow up with you about it.` : ''),
          outcomeStyle: 'good',
        };
      case 'failed':
        return {
          outcomeTitle: accepted,
          outcomeDetail: `${partner} will follow up with you about this ${what}: it could not be placed with Microsoft yet.`,
          outcomeStyle: 'default',
        };
    }
  })();

  const notes: string[] = [];
  if (f.state === 'placed') {
    notes.push(...lines);
    const subs = (f.orders ?? []).flatMap((o) => o.lines.flatMap((l) => (l.subscriptionId ? [l.subscriptionId] : [])));
    if (subs.length) notes.push(`Subscriptions: ${subs.join(', ')}`);
  }
  if (f.failure) {
    notes.push(
      ...(f.failure.lines?.length ? f.failure.lines.map((l) => `${l.serviceName}: ${l.reason}${l.code ? ` (code ${l.code})` : ''}`) : []),
    );
  }
  if (f.state === 'waitingForCustomer' && f.invitationLink) notes.push(`Reseller invitation: ${f.invitationLink}`);
  if (f.retrying) notes.push(`Last problem: ${literal(f.retrying.reason)}`);

  const next = {
    waitingForCustomer: `The bot is placing the ${what} through Partner Center, but ${offer.approverEmail} must first accept ${possessive(partner)} reseller invitation; their card has the link, and the ${what} is placed when they do.`,
    ordering: `The bot is placing the ${what} through Partner Center; you are told the order number when Microsoft confirms it.`,
    placed: `Partner Center placed order ${orderIds(f)}. Nothing more to do.`,
    failed: `Partner Center refused the ${what}: ${(f.failure?.reason ?? '').replace(/[.\s]+$/, '')}. Fix it, then press Retry on the bot's message.`,
  }[f.state];

  return {
    customer,
    next,
    part: { kind: 'Order at Microsoft', id: orderIds(f) || 'Partner Center', state: fulfilmentLabel(f), responses: [], notes },
  };
}
