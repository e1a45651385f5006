import { CardFactory, type Attachment } from 'botbuilder';
import { z } from 'zod';
import type { CommandContext, CommandRouter, TrackedCard } from '../bot/commands';
import { cardResponse, messageResponse, type ActionContext, type VerbTable } from '../bot/verbs';
import type { RequestPart } from '../cards/data';
import type { CardJson } from '../cards/render';
import type { Partner } from '../directory/partners';
import { UserInputError } from '../errors';
import { RELATIONSHIP_ID_PATTERN } from '../ids';
import type { MessageRegistry } from '../notifications/messages';
import { PermanentDeliveryError } from '../notifications/messages';
import type { AttachedRequest } from '../offers/index';
import type { Offer } from '../offers/types';
import { parseDelegate, parseRelationshipId } from './commands';
import type { DelegationCards } from './messages';
import { end, isOpen, isRequestExpired } from './rules';
import {
  NOTICE_EVENTS,
  RELATIONSHIP_CARD,
  RELATIONSHIP_CHANNEL,
  RELATIONSHIP_NOTICE,
  type DecideOutcome,
  type DelegationService,
  type RelationshipDecision,
} from './service';
import type { Relationship, RelationshipKind } from './types';
import { stateLabel, wordingFor } from './wording';

const KIND_LABEL = { delegation: 'Delegated administration', por: 'Partner of record' } as const;

const Reason = z.string().trim().max(500, 'the reason is limited to 500 characters').optional();

export const RelationshipActionSchema = z.object({
  relationshipId: z.string().regex(RELATIONSHIP_ID_PATTERN, 'not a delegated-admin or partner-of-record id'),
  /** The active relationship the card said an approval replaces; '' when none. */
  replaces: z.union([z.literal(''), z.string().regex(RELATIONSHIP_ID_PATTERN, 'not a relationship id')]).optional(),
  /** Decline reasons typed on the card; Teams merges card inputs into `data`, one input per request section. */
  reason_delegation: Reason,
  reason_por: Reason,
});

export interface DelegationDeps {
  service: DelegationService;
  cards: DelegationCards;
  installLink: string;
  /** The card of the offer a request is attached to, as it is now (the offers capability renders it). */
  offerCardJson(offerId: string): Promise<CardJson>;
  clock: () => Date;
}

/** The requests attached to an offer, as they are now, delegated administration first. */
function attachedNow(service: DelegationService, clock: () => Date) {
  return async (offer: Offer): Promise<Relationship[]> => {
    if (!offer.attachments) return [];
    const attached = await service.forOffer(offer.id);
    const order = (r: Relationship) => (r.kind === 'delegation' ? 0 : 1);
    // Shown as ended once its time has passed or its offer closed; the sweeper (or closeAttached) records it.
    const offerClosed = offer.state === 'withdrawn' || offer.state === 'expired';
    return attached
      .sort((a, b) => order(a) - order(b))
      .map((r) =>
        // A request at Microsoft outlives its offer (see closeAttached): it is shown as Microsoft has it.
        isOpen(r) && offerClosed && !r.graph?.id
          ? end(r, offer.state === 'withdrawn' ? 'withdrawn' : 'expired', clock())
          : isRequestExpired(r, clock())
            ? end(r, 'expired', clock())
            : r,
      );
  };
}

/** The sections an offer's card shows for the requests attached to it, as they are now. */
export function offerParts(service: DelegationService, cards: DelegationCards, clock: () => Date) {
  const now = attachedNow(service, clock);
  return async (offer: Offer): Promise<RequestPart[]> =>
    Promise.all(
      (await now(offer)).map(async (shown) => {
        const replaces = isOpen(shown) ? await service.currentOther(shown, offer.approver?.tenantId) : null;
        return cards.part(shown, replaces);
      }),
    );
}

/** The requests attached to an offer as its partner reads them: kind, id, state and recorded answers. */
export function offerRequests(service: DelegationService, clock: () => Date) {
  const now = attachedNow(service, clock);
  return async (offer: Offer): Promise<AttachedRequest[]> =>
    Promise.all(
      (await now(offer)).map(async (r) => ({
        kind: KIND_LABEL[r.kind],
        id: r.id,
        state: stateLabel(r),
        responses: await service.responsesOf(r.id),
      })),
    );
}

/** Delegated administration and partner of record: partner and customer commands, and the card verbs. */
export function registerDelegation(router: CommandRouter, verbs: VerbTable, messages: MessageRegistry, deps: DelegationDeps): void {
  const { service, cards, installLink } = deps;
  const partnerOf = (ctx: { partner: Partner | null }) => ctx.partner!;
  const where = (ctx: CommandContext | ActionContext) => ({
    conversationId: ctx.conversationId,
    activityId: 'activityId' in ctx ? ctx.activityId : '',
  });

  router.register({
    name: 'delegate',
    audience: 'partner',
    usage: 'delegate ‹customer-email› [roles ‹role›, ‹role›] [days ‹1-730›] [auto-extend]  ·  delegate revoke ‹id›',
    description: 'Ask a customer for delegated administration (full, or named Entra roles), or revoke one they approved.',
    run: async (args, ctx) => {
      const cmd = parseDelegate(args);
      if (cmd.kind === 'revoke') {
        const outcome = await service.revokeByPartner(cmd.id, partnerOf(ctx), ctx.actor, where(ctx));
        return { attachments: [cards.revokedByPartner(outcome.relationship)] };
      }
      const { relationship, duplicate } = await service.request(cmd, partnerOf(ctx), ctx.actor);
      return { attachments: [duplicate ? cards.duplicate(relationship) : cards.issued(relationship, installLink)] };
    },
  });

  router.register({
    name: 'partners',
    audience: 'customer',
    usage: 'partners',
    description: 'Your delegated-admin partner and your partner of record, as recorded here.',
    run: async (_args, ctx) => ({ attachments: [cards.partners(await service.partnersOf(ctx.actor.tenantId))] }),
  });

  router.register({
    name: 'revoke',
    audience: 'customer',
    usage: 'revoke admin',
    description: 'Withdraw the delegated-admin consent you gave here (you confirm on a card first).',
    run: async (args, ctx) => {
      if (args.trim().toLowerCase() !== 'admin') {
        throw new UserInputError('Type revoke admin to withdraw your delegated-admin consent.', 'revoke admin');
      }
      const { delegation } = await service.partnersOf(ctx.actor.tenantId);
      if (!delegation) return { text: wordingFor().nothingToRevoke };
      return { attachments: [CardFactory.adaptiveCard(cards.revokeConfirmJson(delegation))] };
    },
  });

  const answer = async (outcome: DecideOutcome, kind: RelationshipKind) => {
    const r = outcome.relationship;
    if (outcome.kind === 'notApprover') {
      return messageResponse(
        `Only ${outcome.approverName} can answer this ${kind === 'delegation' ? 'delegated-admin request' : 'partner-of-record request'}.`,
      );
    }
    return cardResponse(await currentCard(r));
  };

  /** The card the request is shown on, as it now is. */
  async function currentCard(r: Relationship): Promise<CardJson> {
    if (r.offerId) return deps.offerCardJson(r.offerId);
    const { relationship, replaces } = await service.view(r.id);
    return cards.requestCardJson(relationship, replaces);
  }

  for (const [verb, kind, decision] of [
    ['delegation.approve', 'delegation', 'approved'],
    ['delegation.decline', 'delegation', 'declined'],
    ['por.accept', 'por', 'approved'],
    ['por.decline', 'por', 'declined'],
  ] as const satisfies ReadonlyArray<readonly [string, RelationshipKind, RelationshipDecision]>) {
    verbs.register(verb, {
      schema: RelationshipActionSchema,
      handle: async (data, ctx) => {
        assertKind(data.relationshipId, kind);
        const outcome = await service.decide({
          relationshipId: data.relationshipId,
          decision,
          replaces: data.replaces,
          comment: decision === 'declined' ? (kind === 'delegation' ? data.reason_delegation : data.reason_por) : undefined,
          actor: ctx.actor,
          conversationId: ctx.conversationId,
          activityId: ctx.activityId,
          replyToId: ctx.replyToId,
        });
        return answer(outcome, kind);
      },
    });
  }

  for (const [verb, kind] of [
    ['delegation.view', 'delegation'],
    ['por.view', 'por'],
  ] as const) {
    verbs.register(verb, {
      schema: RelationshipActionSchema,
      refresh: true,
      handle: async (data, ctx) => {
        assertKind(data.relationshipId, kind);
        return cardResponse(await currentCard(await service.viewableBy(data.relationshipId, ctx.actor)));
      },
    });
  }

  verbs.register('delegation.revoke', {
    schema: RelationshipActionSchema,
    handle: async (data, ctx) => {
      assertKind(data.relationshipId, 'delegation');
      const outcome = await service.revokeByCustomer(data.relationshipId, ctx.actor, where(ctx));
      return cardResponse(cards.revokeConfirmJson(outcome.relationship));
    },
  });

  verbs.register('delegation.keep', {
    schema: RelationshipActionSchema,
    handle: async (data, ctx) => {
      const r = await service.ofCustomer(data.relationshipId, ctx.actor);
      return cardResponse(r.state === 'active' ? cards.keptJson(r) : cards.revokeConfirmJson(r));
    },
  });

  const existing = async (id: string | undefined) => {
    const r = id ? await service.get(id) : null;
    if (!r) throw new PermanentDeliveryError(`relationship ${id ?? '(none)'} no longer exists`);
    return r;
  };
  messages.register(RELATIONSHIP_CARD, async ({ relationshipId }) => {
    const { relationship, replaces } = await service.view((await existing(relationshipId)).id);
    return cards.requestCard(relationship, replaces);
  });
  messages.register(RELATIONSHIP_CHANNEL, async ({ relationshipId }) => {
    const r = await existing(relationshipId);
    return cards.channelNotice(
      r,
      // A real relationship was approved at Microsoft: the record of Graph's confirmation says who and when.
      (await service.responsesOf(r.id)).find((x) => x.slot === (r.graph ? 'activation' : r.kind)),
    );
  });
  messages.register(RELATIONSHIP_NOTICE, async ({ relationshipId, event, audience, daysLeft, by }) => {
    const r = await existing(relationshipId);
    const e = z.enum(NOTICE_EVENTS).safeParse(event);
    const a = z.enum(['partner', 'customer']).safeParse(audience);
    if (!e.success || !a.success) throw new PermanentDeliveryError(`unknown relationship notice "${event}" for "${audience}"`);
    // The decline reason lives in the response record only; the outbox entry does not copy it.
    const comment = e.data === 'declined' ? (await service.responsesOf(r.id)).find((x) => x.slot === r.kind)?.comment : undefined;
    return cards.notice(r, a.data, e.data, { daysLeft: daysLeft ? Number(daysLeft) : undefined, comment, by });
  });
}

function assertKind(id: string, kind: RelationshipKind): void {
  if ((id.startsWith('D-') ? 'delegation' : 'por') !== kind) {
    throw new UserInputError(`${id} is not a ${kind === 'delegation' ? 'delegated-admin' : 'partner-of-record'} request.`);
  }
}

/** What the offers capability's `status`, `offers` and cards need from this one. */
export function linkedRequests(service: DelegationService, cards: DelegationCards, clock: () => Date) {
  return {
    partsOf: offerParts(service, cards, clock),
    attachedTo: offerRequests(service, clock),
    isId: (raw: string) => RELATIONSHIP_ID_PATTERN.test(raw.trim().toUpperCase()),
    async organisations(partner: Partner): Promise<Map<string, string>> {
      // Only what this partner's own requests learnt from Microsoft, newest first wins.
      const names = new Map<string, string>();
      for (const r of await service.list(partner, 500)) {
        if (r.customerTenantId && r.customerOrg && !names.has(r.customerTenantId)) names.set(r.customerTenantId, r.customerOrg.displayName);
      }
      return names;
    },
    async status(raw: string, partner: Partner): Promise<Attachment> {
      const { relationship, responses } = await service.statusOf(parseRelationshipId(raw, 'status D-4K7P2Q'), partner);
      return cards.status(relationship, responses);
    },
    list: async (partner: Partner): Promise<Attachment | undefined> => {
      const rs = await service.list(partner);
      return rs.length ? cards.list(rs) : undefined;
    },
    /** The customer's open requests as cards, each to be posted as its own message and then updated with the request. */
    async pendingFor(person: { tenantId: string; aadObjectId: string }): Promise<TrackedCard[]> {
      const rs = await service.pendingFor(person);
      return Promise.all(
        rs.map(async (r) => {
          const { relationship, replaces } = await service.view(r.id);
          return {
            attachment: cards.requestCard(relationship, replaces).attachments![0]!,
            sent: (activityId: string, conversationId: string) => service.rememberCopy(r.id, { conversationId, activityId }),
          };
        }),
      );
    },
  };
}
export type LinkedRequests = ReturnType<typeof linkedRequests>;
