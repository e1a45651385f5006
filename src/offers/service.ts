import type { Clock } from '../clock';
import type { Catalog } from '../directory/catalog';
import type { Partner } from '../directory/partners';
import { deliverWaiting, findApprover } from '../directory/approvers';
import { assertPartnerFeaturesAvailable } from '../directory/sovereign';
import type { ConversationRecord } from '../directory/types';
import { UserInputError } from '../errors';
import { newShortId, withFreshIds } from '../ids';
import { assertCanDelegate, DEFAULT_DURATION_DAYS, defaultRoles, newRelationship } from '../delegation/rules';
import type { Relationship } from '../delegation/types';
import type { Logger } from '../log';
import { channelNotice } from '../notifications/channel';
import { userTarget, type NewOutboxEntry } from '../notifications/types';
import type { ConversationsStore } from '../directory/store';
import type { ChannelsStore } from '../notifications/store';
import type { OffersStore } from './store';
import type { ResponsesStore } from '../responses/store';
import { OFFER_EXAMPLE, TRIAL_EXAMPLE, type PurchaseCommand, type TrialCommand } from './commands';
import { applyDecision, close, isExpired, isPending, newOffer, purchaseLines, trialLines, type OfferDraft } from './rules';
import type { ResponseRecord } from '../responses/types';
import type { Decision, Offer, Person } from './types';
import type { Fulfilment } from '../orders/types';

/** The stores this uses: nothing else of the database is in reach. */
export type OfferStores = { channels: ChannelsStore; conversations: ConversationsStore; offers: OffersStore; responses: ResponsesStore };

export const PARTNER_EVENTS = ['accepted', 'declined', 'expired', 'delivered'] as const;
export type PartnerEvent = (typeof PARTNER_EVENTS)[number];

/** Outbox messages of this capability, rendered at delivery by the builders registered in ./index. */
export const OFFER_CARD = 'offer.card';
export const OFFER_NOTICE = 'offer.notice';
/** The partner's notification channel hears of acceptances. */
export const OFFER_CHANNEL = 'offer.channel';

/**
 * The most answers one partner message lists: queued answers beyond it start another message, so a digest stays far
 * inside Teams' message size and readable in a chat.
 */
export const DIGEST_MAX = 25;

export type DecisionOutcome =
  | { kind: 'recorded' | 'already'; offer: Offer; response: ResponseRecord }
  /** Not pending any more without an answer: withdrawn or expired. */
  | { kind: 'closed'; offer: Offer }
  | { kind: 'notApprover'; offer: Offer };

export interface DecisionInput {
  offerId: string;
  decision: Decision;
  comment?: string;
  actor: { aadObjectId: string; name: string; upn?: string; tenantId: string };
  /** Where the click came from: the card to update for everyone if the offer does not know its card yet. */
  conversationId: string;
  activityId: string;
  replyToId?: string;
}

export interface OfferServiceDeps {
  store: OfferStores;
  catalog: Catalog;
  clock: Clock;
  sovereignTenants: string[];
  log: Logger;
  /** After an offer is withdrawn or expires: the requests attached to it end with it. */
  onClosed?: (offer: Offer) => Promise<unknown>;
  /** Told when an offer with attached requests is created and when it reaches its approver (both: the approver is known). */
  onAttachedReady?: (offer: Offer) => Promise<unknown>;
  /**
   * The fulfilment job an acceptance starts, for a partner connected to Partner Center: written in the decision's
   * transaction, so an accepted offer never lacks its order job, whatever dies when.
   */
  startFulfilment?: (offer: Offer, now: Date) => Fulfilment | undefined;
}

export type OfferService = ReturnType<typeof createOfferService>;

/**
 * The outbox updates that redraw an offer's card wherever the customer sees it: the card itself (or, before its place
 * is known, the message a click came from) and the copies `offers` posted.
 */
export function offerCardUpdates(offer: Offer, fallback?: { conversationId: string; activityId?: string }): NewOutboxEntry[] {
  const card =
    offer.card ?? (fallback?.activityId ? { conversationId: fallback.conversationId, activityId: fallback.activityId } : undefined);
  const places = [...(card ? [card] : []), ...(offer.copies ?? []).filter((c) => c.activityId !== card?.activityId)];
  return places.map((place) => ({
    target: { kind: 'conversation', conversationId: place.conversationId },
    action: { kind: 'update', activityId: place.activityId, message: { kind: OFFER_CARD, args: { offerId: offer.id } } },
    subject: { kind: 'offer', id: offer.id },
    partnerTenantId: offer.partnerTenantId,
  }));
}

/** `with admin` and `as partner of record`: requests that ride on the offer's card, answered separately. */
function attachedRequests(
  cmd: TrialCommand | PurchaseCommand,
  o: { offerId: string; partner: Partner; issuer: Person; approver?: Person; now: Date },
): Relationship[] {
  const base = { partnerTenantId: o.partner.tenantId, approverEmail: cmd.approverEmail, offerId: o.offerId };
  const made = { partnerName: o.partner.name, issuedBy: o.issuer, approver: o.approver, now: o.now };
  return [
    ...(cmd.withAdmin
      ? [
          newRelationship(
            {
              ...base,
              kind: 'delegation',
              access: { kind: 'roles', roles: defaultRoles(o.partner) },
              durationDays: DEFAULT_DURATION_DAYS,
              autoExtend: false,
            },
            { ...made, id: newShortId('D') },
          ),
        ]
      : []),
    ...(cmd.asPartnerOfRecord ? [newRelationship({ ...base, kind: 'por' }, { ...made, id: newShortId('R') })] : []),
  ];
}

export function createOfferService({
  store,
  catalog,
  clock,
  sovereignTenants,
  log,
  onClosed = async () => undefined,
  onAttachedReady = async () => undefined,
  startFulfilment = () => undefined,
}: OfferServiceDeps) {
  const toPartner = (offer: Offer, event: PartnerEvent): NewOutboxEntry => ({
    target: userTarget(offer.issuedBy),
    action: { kind: 'send', message: { kind: OFFER_NOTICE, args: { offerId: offer.id, event } } },
    subject: { kind: 'offer', id: offer.id },
    partnerTenantId: offer.partnerTenantId,
    // Answers can come far faster than Teams lets one chat receive messages (about 2 a second): those queued while an
    // earlier one still waits go out with it, as one digest.
    ...(event === 'accepted' || event === 'declined'
      ? { coalesce: { key: `${OFFER_NOTICE}:${offer.issuedBy.tenantId}:${offer.issuedBy.aadObjectId}`, max: DIGEST_MAX } }
      : {}),
  });

  const deliverCard = (offer: Offer, conversationId: string): NewOutboxEntry => ({
    target: { kind: 'conversation', conversationId },
    action: { kind: 'send', message: { kind: OFFER_CARD, args: { offerId: offer.id } } },
    onSent: { kind: 'offerCard', offerId: offer.id },
    subject: { kind: 'offer', id: offer.id },
    partnerTenantId: offer.partnerTenantId,
  });

  /** Updates the customer's card in place for everyone who sees it (other devices, other members), copies included. */
  const updateCard = (offer: Offer, fallback?: { conversationId: string; activityId?: string }): NewOutboxEntry[] =>
    offerCardUpdates(offer, fallback);

  /** Moves an offer whose time has passed to expired, telling both sides; returns the offer as it now is. */
  async function expire(offer: Offer): Promise<Offer> {
    const next = close(offer, 'expired', clock());
    const ok = await store.offers.update(next, offer.version, [...updateCard(next), toPartner(next, 'expired')]);
    if (ok) {
      log.info({ offerId: offer.id }, 'offer expired');
      await onClosed(next);
    }
    return ok ? next : ((await store.offers.get(offer.id)) ?? offer);
  }

  async function issue(cmd: TrialCommand | PurchaseCommand, partner: Partner, issuer: Person) {
    assertPartnerFeaturesAvailable(partner, sovereignTenants);
    const example = cmd.kind === 'trial' ? TRIAL_EXAMPLE : OFFER_EXAMPLE;
    const lines =
      cmd.kind === 'trial' ? trialLines(cmd, catalog, partner, TRIAL_EXAMPLE) : purchaseLines(cmd, catalog, partner, OFFER_EXAMPLE);
    const found = await findApprover(store, cmd.approverEmail, partner, sovereignTenants, example);
    const approver = found?.person;
    const now = clock();
    const draft: OfferDraft = {
      kind: cmd.kind,
      partnerTenantId: partner.tenantId,
      approverEmail: cmd.approverEmail,
      lines,
      ...(cmd.kind === 'purchase' ? { billing: cmd.billing, term: cmd.term } : {}),
    };
    if (cmd.withAdmin) assertCanDelegate(partner, issuer, example);
    return withFreshIds(async () => {
      const id = newShortId(cmd.kind === 'trial' ? 'T' : 'P');
      const attached = attachedRequests(cmd, { offerId: id, partner, issuer, approver, now });
      const offer = newOffer(draft, {
        id,
        partnerName: partner.name,
        issuedBy: issuer,
        approver,
        currency: catalog.currency,
        now,
        attachments: attached.length
          ? Object.fromEntries(attached.map((r) => [r.kind === 'delegation' ? 'delegationId' : 'porId', r.id]))
          : undefined,
      });
      const result = await store.offers.create(offer, found ? [deliverCard(offer, found.conversationId)] : [], attached);
      log.info({ offerId: result.offer.id, created: result.created, state: result.offer.state }, 'offer issued');
      if (result.created && result.offer.attachments) await onAttachedReady(result.offer);
      return { offer: result.offer, duplicate: !result.created };
    });
  }

  /** Sends every offer that waited for this person to install the app; returns how many went out. */
  async function deliverAwaiting(conversation: ConversationRecord): Promise<number> {
    const { approver, delivered } = await deliverWaiting(
      conversation,
      sovereignTenants,
      (email) => store.offers.listAwaitingDelivery(email),
      async (offer, approver) => {
        if (isExpired(offer, clock())) {
          await expire(offer);
          return false;
        }
        const next: Offer = { ...offer, state: 'sent', approver, deliveredAt: clock().toISOString(), version: offer.version + 1 };
        const ok = await store.offers.update(next, offer.version, [deliverCard(next, conversation.id), toPartner(next, 'delivered')]);
        if (ok && next.attachments) await onAttachedReady(next);
        return ok;
      },
    );
    if (delivered) log.info({ delivered, tenantId: approver?.tenantId }, 'delivered offers that waited for install');
    return delivered;
  }

  const isApprover = (offer: Offer, actor: { aadObjectId: string; tenantId: string }) =>
    !!offer.approver && offer.approver.aadObjectId === actor.aadObjectId && offer.approver.tenantId === actor.tenantId;

  const notFound = (offerId: string) => new UserInputError(`I can't find offer ${offerId}.`, undefined, 'Offer not found');

  async function load(offerId: string): Promise<Offer> {
    const offer = await store.offers.get(offerId);
    if (!offer) throw notFound(offerId);
    return offer;
  }

  /**
   * The offer, for someone in one of the two organisations it is between; anyone else learns nothing, not even that
   * it exists, so they are answered exactly as for an id that does not exist.
   */
  async function loadFor(offerId: string, actor: { tenantId: string }): Promise<Offer> {
    const offer = await load(offerId);
    if (actor.tenantId !== offer.partnerTenantId && (!offer.approver || actor.tenantId !== offer.approver.tenantId))
      throw notFound(offerId);
    return offer;
  }

  async function decide(input: DecisionInput): Promise<DecisionOutcome> {
    // One retry covers a concurrent change (delivery, expiry) between our read and our write.
    for (let attempt = 0; attempt < 3; attempt++) {
      const offer = await loadFor(input.offerId, input.actor);
      if (!isApprover(offer, input.actor)) {
        log.warn(
          { offerId: offer.id, tenantId: input.actor.tenantId, aadObjectId: input.actor.aadObjectId },
          'decision refused: not the approver',
        );
        return { kind: 'notApprover', offer };
      }
      if (offer.state === 'accepted' || offer.state === 'declined') {
        const [existing] = await store.responses.forSubject(offer.id);
        if (existing) return { kind: 'already', offer, response: existing };
      }
      if (offer.state !== 'sent') return { kind: 'closed', offer };
      const now = clock();
      if (isExpired(offer, now)) return { kind: 'closed', offer: await expire(offer) };

      const next = applyDecision(offer, input.decision, now);
      const result = await store.offers.decide(
        next,
        offer.version,
        {
          id: `${offer.id}/offer`,
          subjectKind: 'offer',
          subjectId: offer.id,
          slot: 'offer',
          decision: input.decision,
          comment: input.comment || undefined,
          by: { aadObjectId: input.actor.aadObjectId, name: input.actor.name, upn: input.actor.upn, tenantId: input.actor.tenantId },
          at: now.toISOString(),
          conversationId: input.conversationId,
          activityId: input.activityId,
          customerTenantId: offer.approver!.tenantId,
        },
        [
          ...updateCard(next, { conversationId: input.conversationId, activityId: input.replyToId }),
          toPartner(next, input.decision),
          ...(input.decision === 'accepted'
            ? await channelNotice(
                store,
                offer.partnerTenantId,
                { kind: OFFER_CHANNEL, args: { offerId: offer.id } },
                { kind: 'offer', id: offer.id },
                DIGEST_MAX,
              )
            : []),
        ],
        input.decision === 'accepted' ? startFulfilment(next, now) : undefined,
      );
      if (result.status === 'recorded') {
        log.info({ offerId: offer.id, decision: input.decision }, 'decision recorded');
        return { kind: 'recorded', offer: result.offer, response: result.response };
      }
      if (result.status === 'already') return { kind: 'already', offer: result.offer, response: result.response };
    }
    return { kind: 'closed', offer: await load(input.offerId) };
  }

  /**
   * The card as it should look now, for Teams' automatic refresh: read-only, because updating or sending while
   * answering a refresh makes Teams refresh again. An offer past its time shows as expired; the sweeper records it.
   * Without a viewer, for rendering inside this process (an attached request's card); with one, only the approver sees
   * it: the card is theirs, and its attached requests name the customer's current partners, which another partner
   * (even the issuing one) has no business learning. Partners follow their offers with `status`.
   */
  async function view(offerId: string, viewer?: { tenantId: string; aadObjectId: string }): Promise<Offer> {
    const offer = await load(offerId);
    if (viewer && !isApprover(offer, viewer)) throw notFound(offerId);
    return isExpired(offer, clock()) ? close(offer, 'expired', clock()) : offer;
  }

  async function withdraw(offerId: string, partner: Partner): Promise<Offer> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const offer = await store.offers.get(offerId);
      if (!offer || offer.partnerTenantId !== partner.tenantId) {
        throw new UserInputError(`${partner.name} has no offer ${offerId}. Type status to see your offers.`, 'status', 'Offer not found');
      }
      if (!isPending(offer.state)) {
        throw new UserInputError(
          `${offer.id} is already ${offer.state}, so there is nothing to withdraw.`,
          `status ${offer.id}`,
          'Nothing to withdraw',
        );
      }
      const next = close(offer, 'withdrawn', clock());
      if (await store.offers.update(next, offer.version, updateCard(next))) {
        log.info({ offerId }, 'offer withdrawn');
        await onClosed(next);
        return next;
      }
    }
    throw new Error(`withdraw ${offerId}: kept losing to concurrent changes`);
  }

  /** Expires what is due; run periodically so partners hear about offers nobody answered. */
  async function expireDue(limit = 100): Promise<number> {
    const due = await store.offers.listExpired(clock().toISOString(), limit);
    for (const offer of due) await expire(offer);
    return due.length;
  }

  async function statusOf(offerId: string, partner: Partner) {
    const offer = await store.offers.get(offerId);
    if (!offer || offer.partnerTenantId !== partner.tenantId) {
      throw new UserInputError(`${partner.name} has no offer ${offerId}. Type status to see your offers.`, 'status', 'Offer not found');
    }
    const current = isExpired(offer, clock()) ? await expire(offer) : offer;
    return { offer: current, responses: await store.responses.forSubject(offer.id) };
  }

  return {
    get: (offerId: string) => store.offers.get(offerId),
    responsesOf: (offerId: string) => store.responses.forSubject(offerId),
    issue,
    deliverAwaiting,
    decide,
    view,
    withdraw,
    expireDue,
    statusOf,
    list: (partner: Partner, approverEmail?: string) =>
      store.offers.listByPartner({ partnerTenantId: partner.tenantId, approverEmail, limit: 20 }),
    customers: (partner: Partner) => store.offers.customersOf(partner.tenantId),
    /** A copy of the offer's card was posted (by `offers`): it is updated with the card from now on. */
    rememberCopy: (offerId: string, place: { conversationId: string; activityId: string }) => store.offers.addCopy(offerId, place),
    pendingFor: (person: { tenantId: string; aadObjectId: string }) => store.offers.listPendingFor(person),
  };
}
