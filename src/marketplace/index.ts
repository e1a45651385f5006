import { CardFactory, type Attachment } from 'botbuilder';
import { z } from 'zod';
import type { CommandContext, CommandRouter } from '../bot/commands';
import { cardResponse, type ActionContext, type VerbTable } from '../bot/verbs';
import type { CardRenderer } from '../cards/render';
import type { Partner } from '../directory/partners';
import { UserInputError, quoted } from '../errors';
import type { MessageRegistry } from '../notifications/messages';
import { PermanentDeliveryError } from '../notifications/messages';
import { FIND_MAX, LEAD_ID_PATTERN, LISTING_ID_PATTERN, parseFind } from './commands';
import type { MarketplaceCards } from './messages';
import { ListingFormSchema, NOTE_MAX } from './rules';
import { LEAD_CARD, PAGE_SIZE, type MarketplaceService } from './service';
import { LEAD_STAGES, type Listing } from './types';

const ListingRef = z.union([z.literal('new'), z.string().regex(LISTING_ID_PATTERN, 'not a listing id')]);

export interface MarketplaceDeps {
  service: MarketplaceService;
  cards: MarketplaceCards;
  renderer: CardRenderer;
}

/** The marketplace: partners' listings, `find`, and requests to be contacted (leads) with a trial sent from them. */
export function registerMarketplace(
  router: CommandRouter,
  verbs: VerbTable,
  messages: MessageRegistry,
  { service, cards, renderer }: MarketplaceDeps,
): void {
  const own = (l: Listing, o: { outcomeTitle?: string; outcomeDetail?: string } = {}) =>
    cards.listingCardJson(l, {
      own: true,
      hint: l.published ? 'Type listing unpublish to hide it.' : 'Press Publish (or type listing publish) when it is ready to be found.',
      ...o,
    });

  router.register({
    name: 'listing',
    audience: 'partner',
    usage: 'listing · listing publish · listing unpublish',
    description: 'Your marketplace listing: see it, edit it on a card, publish or hide it.',
    run: async (args, ctx) => {
      const partner = ctx.partner!;
      const sub = args.trim().toLowerCase();
      if (sub === 'publish' || sub === 'unpublish') {
        const l = await service.setPublished(partner, sub === 'publish');
        return {
          attachments: [
            CardFactory.adaptiveCard(
              own(l, {
                outcomeTitle: l.published ? 'Published' : 'Unpublished',
                outcomeDetail: l.published
                  ? 'Customers and partners can find it with find.'
                  : 'Nobody can find it until you publish it again.',
              }),
            ),
          ],
        };
      }
      if (sub === 'edit') return { attachments: [cards.editCard(partner, await service.view(partner))] };
      if (sub)
        throw new UserInputError(
          `${quoted(args)} is not something listing does. Use listing, listing publish or listing unpublish.`,
          'listing',
        );
      const l = await service.view(partner);
      return { attachments: [l ? CardFactory.adaptiveCard(own(l)) : cards.noListing(partner)] };
    },
  });

  /** One page of `find` results: a card per listing, then a card that says how many and offers the next page. */
  async function results(text: string, page: number): Promise<Attachment[]> {
    const cmd = parseFind(text);
    const { results: found, more } = await service.find(cmd, page);
    const from = page * PAGE_SIZE + 1;
    const summary = found.length
      ? `${more ? `Results ${from}–${from + found.length - 1}` : found.length === 1 && page === 0 ? 'One partner matches' : `Results ${from}–${from + found.length - 1}, the last`} for ${quoted(text)}.`
      : page === 0
        ? `No published listing matches ${quoted(text)}. Try fewer or other words, or leave out the country or language.`
        : 'No more results.';
    return [
      ...found.map((l) => cards.listingCard(l, { result: true })),
      CardFactory.adaptiveCard(renderer.render('find-more', { text: summary, more, q: text, page: String(page + 1) })),
    ];
  }

  router.register({
    name: 'find',
    audience: 'anyone',
    usage: 'find ‹words› [in ‹country›] [language ‹code›]',
    description: 'Find partners by service and expertise, and ask them to get in touch.',
    run: async (args) => ({ attachments: await results(args, 0) }),
  });

  verbs.register('find.more', {
    schema: z.object({ q: z.string().min(1).max(FIND_MAX), page: z.coerce.number().int().min(1).max(100) }),
    handle: async (data, ctx) => {
      const cards = await results(data.q, data.page);
      // The next page arrives as new messages; the card that held the button says where they are.
      for (const card of cards) await ctx.post({ type: 'message', attachments: [card] });
      return cardResponse(
        renderer.render('find-more', {
          text: `Showing more results for ${quoted(data.q)} below.`,
          more: false,
          q: data.q,
          page: String(data.page),
        }),
      );
    },
  });

  const partnerOf = async (ctx: ActionContext | CommandContext, partner?: Partner | null) => {
    if (partner) return partner;
    const p = await service.partnerOf(ctx.actor.tenantId);
    if (!p) throw new UserInputError('Only partner staff can do this.', undefined, 'Only for partners');
    return p;
  };

  verbs.register('listing.edit', {
    schema: z.object({ listingId: ListingRef }),
    handle: async (_data, ctx) => {
      const partner = await partnerOf(ctx);
      return cardResponse(cards.editCardJson(partner, await service.view(partner)));
    },
  });

  verbs.register('listing.save', {
    schema: ListingFormSchema.extend({ listingId: ListingRef }),
    handle: async (data, ctx) => {
      const partner = await partnerOf(ctx);
      const { listingId: _id, ...form } = data;
      const outcome = await service.save(partner, ctx.actor, form);
      if (outcome.kind === 'invalid')
        return cardResponse(cards.editCardJson(partner, await service.view(partner), { form: outcome.form, errors: outcome.errors }));
      return cardResponse(
        own(outcome.listing, {
          outcomeTitle: 'Saved',
          outcomeDetail: outcome.listing.published ? 'The changes can be found at once.' : 'Press Publish when it is ready to be found.',
        }),
      );
    },
  });

  for (const [verb, published] of [
    ['listing.publish', true],
    ['listing.unpublish', false],
  ] as const) {
    verbs.register(verb, {
      schema: z.object({ listingId: ListingRef }),
      handle: async (_data, ctx) => {
        const partner = await partnerOf(ctx);
        const l = await service.setPublished(partner, published);
        return cardResponse(
          own(l, {
            outcomeTitle: published ? 'Published' : 'Unpublished',
            outcomeDetail: published ? 'Customers and partners can find it with find.' : 'Nobody can find it until you publish it again.',
          }),
        );
      },
    });
  }

  verbs.register('lead.request', {
    // The note input is named after the listing so several results on one screen keep their own notes.
    schema: z.looseObject({ listingId: z.string().regex(LISTING_ID_PATTERN, 'not a listing id') }),
    handle: async (data, ctx) => {
      const raw = data[`note_${data.listingId}`];
      const note = typeof raw === 'string' ? raw.trim() : undefined;
      if (note && note.length > NOTE_MAX) throw new UserInputError(`The note is limited to ${NOTE_MAX} characters.`);
      const { lead, created, listing } = await service.requestContact(data.listingId, ctx.actor, note);
      const trial = lead.trialOfferId ? ` They have sent you trial invitation ${lead.trialOfferId}.` : '';
      return cardResponse(
        cards.listingCardJson(listing, {
          result: false,
          outcomeTitle: created
            ? `${listing.partnerName} has been asked to get in touch (${lead.id})`
            : `You already asked ${listing.partnerName} on ${lead.createdAt.slice(0, 10)} (${lead.id})`,
          outcomeDetail: created
            ? `They will contact you at ${lead.requester.email}.`
            : `They have your request and will contact you at ${lead.requester.email}.${trial} You can ask again after 7 days.`,
        }),
      );
    },
  });

  verbs.register('lead.trial', {
    schema: z.object({
      leadId: z.string().regex(LEAD_ID_PATTERN, 'not a lead id'),
      services: z.string().max(2000).optional(),
    }),
    handle: async (data, ctx) => {
      const partner = await partnerOf(ctx);
      const services = (data.services ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (services.length === 0) throw new UserInputError('Pick at least one service for the trial.');
      const lead = await service.leadFor(data.leadId, partner.tenantId);
      if (lead.trialOfferId) {
        return cardResponse(
          cards.leadCardJson(lead, await service.listingOf(lead), {
            offerId: lead.trialOfferId,
            state: await service.offerState(lead.trialOfferId),
          }),
        );
      }
      const { offer } = await service.sendTrial(data.leadId, services, partner, ctx.actor);
      return cardResponse(
        cards.leadCardJson({ ...lead, trialOfferId: offer.id }, await service.listingOf(lead), { offerId: offer.id, state: offer.state }),
      );
    },
  });

  // One verb per mark: the card's data carries only the lead's id.
  for (const stage of LEAD_STAGES) {
    verbs.register(`lead.${stage}`, {
      schema: z.object({ leadId: z.string().regex(LEAD_ID_PATTERN, 'not a lead id') }),
      handle: async (data, ctx) => {
        const partner = await partnerOf(ctx);
        const lead = await service.markLead(data.leadId, stage, partner, ctx.actor);
        const trial = lead.trialOfferId ? { offerId: lead.trialOfferId, state: await service.offerState(lead.trialOfferId) } : undefined;
        return cardResponse(cards.leadCardJson(lead, await service.listingOf(lead), trial));
      },
    });
  }

  messages.register(LEAD_CARD, async ({ leadId }) => {
    const lead = leadId ? await service.getLead(leadId) : null;
    if (!lead) throw new PermanentDeliveryError(`lead ${leadId ?? '(none)'} no longer exists`);
    return cards.leadCard(lead, await service.listingOf(lead));
  });
}
