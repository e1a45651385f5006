import type { Attachment } from 'botbuilder';
import { z } from 'zod';
import type { CommandRouter, TrackedCard } from '../bot/commands';
import { cardResponse, messageResponse, type VerbTable } from '../bot/verbs';
import type { Outcome, RequestPart } from '../cards/data';
import { UserInputError, quoted } from '../errors';
import { OFFER_ID_PATTERN, parseOfferId, parsePurchase, parseTrial } from './commands';
import type { Partner } from '../directory/partners';
import type { OfferCards } from './messages';
import type { Offer } from './types';
import type { ResponseRecord } from '../responses/types';
import type { MessageRegistry } from '../notifications/messages';
import { PermanentDeliveryError } from '../notifications/messages';
import { OFFER_CARD, OFFER_CHANNEL, OFFER_NOTICE, PARTNER_EVENTS, type DecisionOutcome, type OfferService } from './service';

export const OfferActionSchema = z.object({
  offerId: z.string().regex(OFFER_ID_PATTERN, 'not an offer id'),
  /** The decline reason typed on the card; Teams merges card inputs into `data`. */
  reason: z.string().trim().max(500, 'the reason is limited to 500 characters').optional(),
});

/** What other capabilities contribute to offers' cards and commands: requests attached to offers, their ids in status. */
export interface LinkedRequests {
  /** The sections of an offer's card for the requests attached to it. */
  partsOf(offer: Offer): Promise<RequestPart[]>;
  /** The same requests as the partner follows them, wherever the offer is shown to the partner. */
  attachedTo(offer: Offer): Promise<AttachedRequest[]>;
  /** True for ids `status` should hand over (D-, R-). */
  isId(raw: string): boolean;
  status(raw: string, partner: Partner): Promise<Attachment>;
  /** The customer's open requests as cards to post, each tracked like an offer's copy. */
  pendingFor(person: { tenantId: string; aadObjectId: string }): Promise<TrackedCard[]>;
  /** The customers' organisations as Microsoft names them, by tenant id, where this partner's requests learnt them. */
  organisations(partner: Partner): Promise<Map<string, string>>;
}

/** A request attached to an offer: its kind in words, its id, its state as people read it, and its recorded answers. */
export interface AttachedRequest {
  kind: string;
  id: string;
  state: string;
  responses: ResponseRecord[];
  /** Lines shown under its answers (the order's lines and subscriptions, a failure's reasons). */
  notes?: string[];
}

/**
 * What Partner Center has done for an accepted offer, in the words each card uses (from the orders capability, for
 * a partner connected to Partner Center; without one, the offer's own record-only words stand).
 */
export interface OrderView {
  /** The accepted card's outcome, with the reseller invitation link while the customer must accept it. */
  customer: Outcome & { link?: { title: string; url: string } };
  /** What happens next, on the partner's acceptance notice and the channel's. */
  next: string;
  /** The order as the partner follows it, a part of its summaries. */
  part: AttachedRequest;
}

/** The orders capability, as offers' cards and commands see it. */
export interface OfferOrders {
  viewOf(offer: Offer): Promise<OrderView | undefined>;
  /** Where each of these offers' orders stands at Microsoft, by offer id (offers without one are left out). */
  labels(offers: Offer[]): Promise<Map<string, string>>;
  /** Per customer tenant, its orders at Microsoft in a sentence: counts by state and the value per month placed. */
  byCustomer(partnerTenantId: string): Promise<Map<string, string>>;
}

/** "1 offer is", "2 requests are", "3 offers and requests are". */
function what(offers: number, requests: number): string {
  const total = offers + requests;
  const noun = requests === 0 ? 'offer' : offers === 0 ? 'request' : 'offers and requests';
  if (offers && requests) return `${noun} are`;
  return total === 1 ? `${noun} is` : `${noun}s are`;
}

const NO_LINKED_REQUESTS: LinkedRequests = {
  partsOf: async () => [],
  attachedTo: async () => [],
  isId: () => false,
  status: async () => {
    throw new Error('no linked requests');
  },
  pendingFor: async () => [],
  organisations: async () => new Map(),
};

export interface OffersDeps {
  service: OfferService;
  cards: OfferCards;
  linked?: LinkedRequests;
  orders?: OfferOrders;
  /** More of what `status` shows a partner, after its offers: requests, notifications that could not be delivered. */
  statusSections?: Array<(partner: Partner) => Promise<Attachment | undefined>>;
  /** Where a customer installs the app: sent to partners whose customer has not installed it yet. */
  installLink: string;
}

/** Trial invitations and purchase offers: partner commands, the customer's `offers`, and the card verbs. */
export function registerOffers(
  router: CommandRouter,
  verbs: VerbTable,
  messages: MessageRegistry,
  { service, cards, installLink, linked = NO_LINKED_REQUESTS, orders, statusSections = [] }: OffersDeps,
): void {
  const partnerOf = (ctx: { partner: Partner | null }) => ctx.partner!;
  const orderOf = async (offer: Offer) => (offer.state === 'accepted' && orders ? orders.viewOf(offer) : undefined);
  /** The requests attached to the offer, and its order at Microsoft: everything the partner follows with it. */
  const attachedTo = async (offer: Offer): Promise<AttachedRequest[]> => {
    const [attached, order] = await Promise.all([linked.attachedTo(offer), orderOf(offer)]);
    return order ? [...attached, order.part] : attached;
  };
  const cardJson = async (offer: Offer) => cards.offerCardJson(offer, await linked.partsOf(offer), (await orderOf(offer))?.customer);

  for (const [name, parse, usage, description] of [
    ['trial', parseTrial, 'trial ‹customer-email› ‹service›[, ‹service›...]', 'Invite a customer to free trials.'],
    [
      'offer',
      parsePurchase,
      'offer ‹customer-email› ‹qty› ‹service›[, ‹qty› ‹service›...] term ‹1 month|1 year|3 years› billing ‹monthly|annual›',
      'Send a customer a purchase offer with quantities, list prices and totals per month or year. Short forms: monthly for a 1-month term billed monthly, annual for a 1-year term billed annually. A 1-month term is billed monthly only.',
    ],
  ] as const) {
    router.register({
      name,
      audience: 'partner',
      usage,
      description,
      run: async (args, ctx) => {
        const { offer, duplicate } = await service.issue(parse(args), partnerOf(ctx), ctx.actor);
        const attached = await attachedTo(offer);
        return { attachments: [duplicate ? cards.duplicate(offer, attached) : cards.issued(offer, installLink, attached)] };
      },
    });
  }

  router.register({
    name: 'status',
    audience: 'partner',
    usage: 'status [‹id›|‹customer-email›]',
    description: "Your recent offers and requests, one of them with its recorded answers, or one customer's offers.",
    run: async (args, ctx) => {
      const partner = partnerOf(ctx);
      if (!args) {
        const offers = await service.list(partner);
        const orderLabels = (await orders?.labels(offers)) ?? new Map<string, string>();
        const more = (await Promise.all(statusSections.map((section) => section(partner)))).filter((a): a is Attachment => !!a);
        return {
          attachments: [
            cards.list(`${partner.name}: recent offers`, offers, {
              empty: 'No offers yet. Try: trial admin@contoso.com m365-business-premium',
              hint: 'Type status ‹id› for one offer and its recorded answers.',
              orderLabels,
            }),
            ...more,
          ],
        };
      }
      if (linked.isId(args)) return { attachments: [await linked.status(args, partner)] };
      if (args.includes('@')) {
        const email = z.email().safeParse(args.trim().toLowerCase());
        if (!email.success) throw new UserInputError(`${quoted(args)} is not an email address.`, 'status admin@contoso.com');
        const offers = await service.list(partner, email.data);
        return { attachments: [cards.list(`Offers to ${email.data}`, offers, { empty: `You have sent nothing to ${email.data} yet.` })] };
      }
      const { offer, responses } = await service.statusOf(parseOfferId(args, 'status T-4K7P2Q'), partner);
      return { attachments: [cards.status(offer, responses, await attachedTo(offer))] };
    },
  });

  router.register({
    name: 'withdraw',
    audience: 'partner',
    usage: 'withdraw ‹id›',
    description: 'Take back an offer nobody has answered yet.',
    run: async (args, ctx) => {
      const offer = await service.withdraw(parseOfferId(args, 'withdraw T-4K7P2Q'), partnerOf(ctx));
      return { attachments: [cards.withdrawn(offer, await attachedTo(offer))] };
    },
  });

  router.register({
    name: 'customers',
    audience: 'partner',
    usage: 'customers',
    description: 'Everyone you have sent offers to, with what they answered.',
    run: async (_args, ctx) => {
      const partner = partnerOf(ctx);
      const [customers, names, ordered] = await Promise.all([
        service.customers(partner),
        linked.organisations(partner),
        orders?.byCustomer(partner.tenantId) ?? new Map<string, string>(),
      ]);
      return { attachments: [cards.customers(customers, names, ordered)] };
    },
  });

  router.register({
    name: 'offers',
    audience: 'customer',
    usage: 'offers',
    description: 'Trial invitations, purchase offers and requests waiting for your answer.',
    run: async (_args, ctx) => {
      const pending = await service.pendingFor(ctx.actor);
      const requests = await linked.pendingFor(ctx.actor);
      const total = pending.length + requests.length;
      if (total === 0)
        return { text: 'Nothing is waiting for your answer. Offers and requests from your partners appear here when they send them.' };
      const shown = pending.slice(-5);
      // Each card goes as its own message whose place is remembered, so it changes when the offer or request does.
      const tracked = await Promise.all(
        shown.map(async (o) => ({
          attachment: cards.offerCard(o, await linked.partsOf(o)).attachments![0]!,
          sent: (activityId: string, conversationId: string) => service.rememberCopy(o.id, { conversationId, activityId }),
        })),
      );
      const shownRequests = requests.slice(-5);
      const count = shown.length + shownRequests.length;
      return {
        text: `${total} ${what(pending.length, requests.length)} waiting for your answer${total > count ? `; here are the latest ${count}` : ''}:`,
        tracked: [...shownRequests, ...tracked],
      };
    },
  });

  const answer = async (outcome: DecisionOutcome) => {
    if (outcome.kind === 'notApprover') {
      const { offer } = outcome;
      return messageResponse(
        `Only ${offer.approver?.name ?? offer.approverEmail} can answer this ${offer.kind === 'trial' ? 'trial invitation' : 'purchase offer'}.`,
      );
    }
    return cardResponse(await cardJson(outcome.offer));
  };

  for (const [verb, decision] of [
    ['offer.accept', 'accepted'],
    ['offer.decline', 'declined'],
  ] as const) {
    verbs.register(verb, {
      schema: OfferActionSchema,
      handle: async (data, ctx) =>
        answer(
          await service.decide({
            offerId: data.offerId,
            decision,
            comment: decision === 'declined' ? data.reason : undefined,
            actor: ctx.actor,
            conversationId: ctx.conversationId,
            activityId: ctx.activityId,
            replyToId: ctx.replyToId,
          }),
        ),
    });
  }

  verbs.register('offer.view', {
    schema: OfferActionSchema,
    refresh: true,
    handle: async (data, ctx) => cardResponse(await cardJson(await service.view(data.offerId, ctx.actor))),
  });

  const existing = async (offerId: string | undefined) => {
    const offer = offerId ? await service.get(offerId) : null;
    if (!offer) throw new PermanentDeliveryError(`offer ${offerId ?? '(none)'} no longer exists`);
    return offer;
  };
  messages.register(OFFER_CARD, async ({ offerId }) => {
    const offer = await existing(offerId);
    return cards.offerCard(offer, await linked.partsOf(offer), (await orderOf(offer))?.customer);
  });
  /** The offers a coalesced entry stands for, those still stored (an offer is never deleted, but a digest must not fail for one). */
  const digestOf = async (title: (n: number) => string, items: Array<Record<string, string>>) => {
    const offers = (await Promise.all(items.map(async (i) => (i.offerId ? service.get(i.offerId) : null)))).filter((o): o is Offer => !!o);
    if (!offers.length) throw new PermanentDeliveryError(`none of the ${items.length} offers of this digest exists any more`);
    return cards.answersDigest(title(offers.length), offers);
  };
  messages.register(OFFER_CHANNEL, async ({ offerId }, items) => {
    if (items && items.length > 1) return digestOf((n) => `${n} offers accepted`, items);
    const offer = await existing(offerId);
    return cards.channelNotice(offer, (await service.responsesOf(offer.id))[0], await orderOf(offer));
  });
  messages.register(OFFER_NOTICE, async ({ offerId, event }, items) => {
    if (items && items.length > 1) return digestOf((n) => `Your customers answered ${n} offers`, items);
    const offer = await existing(offerId);
    const parsed = z.enum(PARTNER_EVENTS).safeParse(event);
    if (!parsed.success) throw new PermanentDeliveryError(`unknown offer event "${event}"`);
    // The decline reason lives in the response record only; the outbox entry does not copy it.
    const comment = parsed.data === 'declined' ? (await service.responsesOf(offer.id))[0]?.comment : undefined;
    return cards.partnerNotice(offer, parsed.data, comment, await attachedTo(offer), await orderOf(offer));
  });
}
