import type { Activity } from 'botbuilder';
import { z } from 'zod';
import { cardResponse, messageResponse, type VerbTable } from '../bot/verbs';
import type { Fact } from '../cards/data';
import { formatDateTime, formatMoney, literal } from '../cards/format';
import type { CardRenderer } from '../cards/render';
import type { PartnersStore } from '../directory/store';
import { UserInputError } from '../errors';
import type { MessageRegistry } from '../notifications/messages';
import { PermanentDeliveryError } from '../notifications/messages';
import type { OfferOrders } from '../offers';
import type { OffersStore } from '../offers/store';
import type { Offer } from '../offers/types';
import { ORDER_CHANNEL, ORDER_EVENTS, ORDER_NOTICE, type Fulfilments, type OrderEvent } from './fulfil';
import type { FulfilmentsStore } from './store';
import type { Fulfilment } from './types';
import { fulfilmentLabel, lineWords, orderView, startDate } from './wording';

export { createFulfilment, type Fulfilments } from './fulfil';
export { fulfilmentLabel, orderView } from './wording';

/** The Retry button's data: untrusted, checked before anything runs. */
const RetrySchema = z.object({
  offerId: z
    .string()
    .trim()
    .regex(/^[TP]-[0-9A-Z]{6}$/, 'is not an offer id'),
});

export interface OrdersDeps {
  fulfilments: Fulfilments;
  store: { fulfilments: FulfilmentsStore; offers: OffersStore; partners: PartnersStore };
  cards: CardRenderer;
}

/** The orders capability as offers' cards see it: an accepted offer's order, in words, for connected partners. */
export function offerOrders(store: { fulfilments: FulfilmentsStore }): OfferOrders {
  return {
    viewOf: async (offer) => {
      const f = await store.fulfilments.get(offer.id);
      return f ? orderView(offer, f) : undefined;
    },
    labels: async (offers) => {
      const accepted = offers.filter((o) => o.state === 'accepted').map((o) => o.id);
      return new Map((await store.fulfilments.forOffers(accepted)).map((f) => [f.id, fulfilmentLabel(f)]));
    },
    byCustomer: async (partnerTenantId) => {
      const byTenant = new Map<string, Fulfilment[]>();
      for (const f of await store.fulfilments.listByPartner(partnerTenantId, 1_000)) {
        byTenant.set(f.customerTenantId, [...(byTenant.get(f.customerTenantId) ?? []), f]);
      }
      return new Map([...byTenant].map(([tenant, jobs]) => [tenant, ordersSentence(jobs)]));
    },
  };
}

/** "Orders at Microsoft: 2 placed (worth $1,234.00 a month), 1 waiting for the reseller invitation." */
export function ordersSentence(jobs: Fulfilment[]): string {
  const count = (state: Fulfilment['state']) => jobs.filter((f) => f.state === state).length;
  const placed = jobs.filter((f) => f.state === 'placed');
  const value = placed.reduce((sum, f) => sum + f.valueCentsPerMonth, 0);
  const parts = [
    ...(placed.length ? [`${placed.length} placed${value ? ` (worth ${formatMoney(value, placed[0]!.currency)} a month)` : ''}`] : []),
    ...(count('ordering') ? [`${count('ordering')} being ordered`] : []),
    ...(count('waitingForCustomer') ? [`${count('waitingForCustomer')} waiting for the reseller invitation`] : []),
    ...(count('failed') ? [`${count('failed')} failed`] : []),
  ];
  return `Orders at Microsoft: ${parts.join(', ')}.`;
}

const card = (attachment: ReturnType<CardRenderer['attachment']>): Partial<Activity> => ({ type: 'message', attachments: [attachment] });

/** What the issuing partner user is told, per event (order-notice.json). */
export function orderNoticeData(offer: Offer, f: Fulfilment, event: OrderEvent) {
  const view = orderView(offer, f);
  const who = offer.approver ? literal(offer.approver.name) : offer.approverEmail;
  const what = offer.kind === 'trial' ? 'trial' : 'order';
  const facts: Fact[] = [
    { title: 'Offer', value: offer.id },
    { title: 'Customer', value: offer.approverEmail },
    { title: 'At Microsoft', value: fulfilmentLabel(f) },
    ...(f.cartId ? [{ title: 'Cart', value: f.cartId }] : []),
    { title: 'Correlation id', value: f.correlationId },
  ];
  const base = {
    facts,
    lines: view.part.notes?.map((text) => ({ text })) ?? [],
    offerId: offer.id,
    canRetry: false,
    hasLink: false,
    linkTitle: '',
    linkUrl: '',
  };
  switch (event) {
    case 'waitingForCustomer':
      return {
        ...base,
        tag: 'WAITING FOR THE CUSTOMER',
        tagColor: 'Warning',
        headline: `${offer.id}: ${who} must accept you as their reseller first`,
        detail: `Partner Center does not list ${offer.approverEmail}'s organisation as your customer yet, so the ${what} cannot be placed. Their card now carries your reseller invitation; the ${what} is placed as soon as their Global Administrator accepts it.`,
        hasLink: !!f.invitationLink,
        linkTitle: 'Your reseller invitation',
        linkUrl: f.invitationLink ?? '',
      };
    case 'placed':
      return {
        ...base,
        tag: offer.kind === 'trial' ? 'TRIAL STARTED' : 'ORDER PLACED',
        tagColor: 'Good',
        headline: `${offer.id}: Partner Center placed order ${(f.orders ?? []).map((o) => o.id).join(', ')}`,
        detail: `${who} accepted on ${formatDateTime(offer.decidedAt ?? f.createdAt)}, and Partner Center placed ${lineWords(f, offer).join('; ')}, starting ${startDate(f)}. Their card shows the order number.`,
      };
    case 'failed':
      return {
        ...base,
        tag: `${what.toUpperCase()} NOT PLACED`,
        tagColor: 'Attention',
        headline: `${offer.id}: Partner Center refused the ${what}`,
        detail: `${(f.failure?.reason ?? 'Partner Center refused it').replace(/[.\s]+$/, '')}${f.failure?.code ? ` (code ${f.failure.code})` : ''}. Fix it in Partner Center or in the catalog, then press Retry. ${who} was told only that you will follow up.`,
        canRetry: true,
      };
    case 'retrying':
      return {
        ...base,
        tag: 'STILL TRYING',
        tagColor: 'Warning',
        headline: `${offer.id}: Partner Center keeps failing; the ${what} is still being retried`,
        detail: `${f.retrying?.reason ?? ''} Nothing is lost: the bot keeps trying, and never buys twice.`,
      };
  }
}

/** The job's messages, and the partner's Retry. */
export function registerOrders(verbs: VerbTable, messages: MessageRegistry, { fulfilments, store, cards }: OrdersDeps): void {
  const loaded = async (offerId: string | undefined) => {
    const offer = offerId ? await store.offers.get(offerId) : null;
    const f = offerId ? await store.fulfilments.get(offerId) : null;
    if (!offer || !f) throw new PermanentDeliveryError(`order of ${offerId ?? '(none)'} no longer exists`);
    return { offer, f };
  };

  messages.register(ORDER_NOTICE, async ({ offerId, event }) => {
    const parsed = z.enum(ORDER_EVENTS).safeParse(event);
    if (!parsed.success) throw new PermanentDeliveryError(`unknown order event "${event}"`);
    const { offer, f } = await loaded(offerId);
    return card(cards.attachment('order-notice', orderNoticeData(offer, f, parsed.data)));
  });

  messages.register(ORDER_CHANNEL, async ({ offerId }) => {
    const { offer, f } = await loaded(offerId);
    const view = orderView(offer, f);
    return card(
      cards.attachment('channel-notice', {
        tag: offer.kind === 'trial' ? 'TRIAL STARTED' : 'ORDER PLACED',
        headline: `Order ${(f.orders ?? []).map((o) => o.id).join(', ')} placed for ${offer.approverEmail} (${offer.id})`,
        facts: [
          { title: 'Customer', value: offer.approverEmail },
          { title: 'Offer', value: offer.id },
          { title: 'Order', value: (f.orders ?? []).map((o) => o.id).join(', ') },
          { title: 'At Microsoft', value: fulfilmentLabel(f) },
        ],
        lines: (view.part.notes ?? []).map((n) => ({ name: n, detail: '' })),
        next: view.next,
      }),
    );
  });

  verbs.register('order.retry', {
    schema: RetrySchema,
    handle: async (data, ctx) => {
      const offer = await store.offers.get(data.offerId);
      // Only the partner whose order it is may retry it; anyone else learns nothing about it.
      if (!offer || offer.partnerTenantId !== ctx.actor.tenantId || !(await store.partners.get(ctx.actor.tenantId))) {
        throw new UserInputError(`I can't find an order for ${data.offerId}.`, undefined, 'Order not found');
      }
      const result = await fulfilments.retry(data.offerId);
      if (result.kind === 'none') return messageResponse(`${data.offerId} has no order at Partner Center to retry.`);
      const event: OrderEvent =
        result.fulfilment.state === 'placed' ? 'placed' : result.fulfilment.state === 'failed' ? 'failed' : 'retrying';
      const data2 = orderNoticeData(offer, result.fulfilment, event);
      return cardResponse(
        cards.render('order-notice', {
          ...data2,
          tag: result.kind === 'retrying' ? 'RETRYING' : data2.tag,
          tagColor: result.kind === 'retrying' ? 'Default' : data2.tagColor,
          headline:
            result.kind === 'retrying' ? `${offer.id}: trying Partner Center again` : `${offer.id}: ${fulfilmentLabel(result.fulfilment)}`,
          detail:
            result.kind === 'retrying'
              ? "The bot is placing it again now; you'll be told how it goes."
              : 'Someone already retried it, or it no longer needs retrying.',
          canRetry: false,
        }),
      );
    },
  });
}
