import { possessive } from '../cards/format';
import type { Clock } from '../clock';
import { deliverWaiting, findApprover } from '../directory/approvers';
import type { Partner } from '../directory/partners';
import { assertPartnerFeaturesAvailable } from '../directory/sovereign';
import type { ConversationRecord } from '../directory/types';
import { UserInputError } from '../errors';
import { newShortId, withFreshIds } from '../ids';
import type { Logger } from '../log';
import type { MicrosoftApp } from '../directory/microsoft';
import { channelNotice } from '../notifications/channel';
import type { NewOutboxEntry } from '../notifications/types';
import type { Offer, Person } from '../offers/types';
import type { NewResponse, ResponseRecord } from '../responses/types';
import type { RelationshipsStore } from './store';
import type { ConversationsStore } from '../directory/store';
import type { ChannelsStore } from '../notifications/store';
import type { OffersStore } from '../offers/store';
import type { ResponsesStore } from '../responses/store';
import { DELEGATE_EXAMPLE, DELEGATE_REVOKE_EXAMPLE, type DelegateCommand } from './commands';
import type { GdapFollower } from './gdap/follow';
import { displayNameFor } from './gdap/policy';
import { RELATIONSHIP_CHANNEL, relationshipOutbox, type Audience } from './outbox';
import {
  approve,
  withDue,
  assertAdminAgent,
  assertCanDelegate,
  decline,
  DEFAULT_DURATION_DAYS,
  dueStep,
  end,
  isOpen,
  isRequestExpired,
  atMicrosoft,
  askMicrosoftToEnd,
  KIND_NAME,
  newRelationship,
  refOf,
  resolveAccess,
  defaultRoles,
  type DueEvent,
} from './rules';
import type { Relationship, RelationshipKind } from './types';
import { stateWords } from './wording';

/** The stores this uses: nothing else of the database is in reach. */
export type DelegationStores = {
  channels: ChannelsStore;
  conversations: ConversationsStore;
  offers: OffersStore;
  relationships: RelationshipsStore;
  responses: ResponsesStore;
};

export { NOTICE_EVENTS, RELATIONSHIP_CARD, RELATIONSHIP_CHANNEL, RELATIONSHIP_NOTICE, type Audience, type NoticeEvent } from './outbox';

export type RelationshipDecision = 'approved' | 'declined';

export interface Actor {
  aadObjectId: string;
  userId: string;
  name: string;
  upn?: string;
  email?: string;
  tenantId: string;
  serviceUrl: string;
}

export interface DecideInput {
  relationshipId: string;
  decision: RelationshipDecision;
  /** The active relationship the card said an approval replaces ('' or absent: none). */
  replaces?: string;
  comment?: string;
  actor: Actor;
  conversationId: string;
  activityId: string;
  replyToId?: string;
}

export type DecideOutcome =
  | { kind: 'recorded' | 'already'; relationship: Relationship; response: ResponseRecord }
  /** Not open any more without an answer: expired, or (for attached requests) nothing to answer. */
  | { kind: 'closed'; relationship: Relationship }
  | { kind: 'notApprover'; relationship: Relationship; approverName: string }
  /** The customer's current partner is not the one the card showed: the card is shown again, as it now is. */
  | { kind: 'activeChanged'; relationship: Relationship; active: Relationship | null };

export type RevokeOutcome =
  | { kind: 'recorded' | 'already'; relationship: Relationship; response: ResponseRecord }
  | { kind: 'notActive'; relationship: Relationship };

export interface DelegationServiceDeps {
  store: DelegationStores;
  clock: Clock;
  sovereignTenants: string[];
  log: Logger;
  /**
   * Partners that connected their Entra app (by partner tenant id) and the follower of their real relationships: a
   * delegation from such a partner is created at Microsoft through Graph. Without them every delegation is record-only.
   */
  microsoft?: { apps: ReadonlyMap<string, MicrosoftApp>; follower: GdapFollower };
}

export type DelegationService = ReturnType<typeof createDelegationService>;

const byOf = (a: Actor) => ({ aadObjectId: a.aadObjectId, name: a.name, upn: a.upn, tenantId: a.tenantId });

export function createDelegationService({ store, clock, sovereignTenants, log, microsoft }: DelegationServiceDeps) {
  const { subject, notice, deliverCard, updateCard, response: record } = relationshipOutbox(store);
  const connected = (partnerTenantId: string) => !!microsoft?.apps.has(partnerTenantId);

  /**
   * One Graph step now, where a person is waiting for its answer (the partner's `delegate` and `status`, a revoke):
   * a failure is recorded by the follower and retried later, so it never fails the person's command.
   */
  async function followNow(id: string, o: { force?: boolean } = {}): Promise<Relationship | null> {
    if (!microsoft) return store.relationships.get(id);
    try {
      await microsoft.follower.follow(id, o);
    } catch (err) {
      log.warn({ err, relationshipId: id }, 'Graph step failed');
    }
    return store.relationships.get(id);
  }

  const notFound = (id: string) => new UserInputError(`I can't find ${id}.`, undefined, 'Not found');

  async function load(id: string): Promise<Relationship> {
    const r = await store.relationships.get(id);
    if (!r) throw notFound(id);
    return r;
  }

  const customerOf = async (r: Relationship) => r.customerTenantId ?? (await approverOf(r))?.tenantId;

  /**
   * The relationship, for someone in one of the two organisations in it. Anyone else is answered exactly as for an id
   * that does not exist: they learn neither that it exists nor who may answer it.
   */
  async function loadFor(id: string, actor: { tenantId: string }): Promise<Relationship> {
    const r = await load(id);
    if (actor.tenantId !== r.partnerTenantId && actor.tenantId !== (await customerOf(r))) throw notFound(id);
    return r;
  }

  /**
   * For a card refresh: the addressed approver only. The card names the customer's current partner (and its
   * relationship id) for the replace, which the requesting partner has no business learning; partners use `status`.
   */
  async function viewableBy(id: string, viewer: { tenantId: string; aadObjectId: string }): Promise<Relationship> {
    const r = await load(id);
    const approver = await approverOf(r);
    const isApprover = !!approver && approver.aadObjectId === viewer.aadObjectId && approver.tenantId === viewer.tenantId;
    if (!isApprover) throw notFound(id);
    return r;
  }

  /** The customer's side of a relationship (revoke, keep): someone of the customer's organisation, else not found. */
  async function ofCustomer(id: string, actor: { tenantId: string }): Promise<Relationship> {
    const r = await load(id);
    if (actor.tenantId !== (await customerOf(r))) throw notFound(id);
    return r;
  }

  /**
   * An attached request lives and dies with its offer's card: once the offer is withdrawn or expires unanswered, its
   * open requests end too. Called after the offer closes; `decide` checks the offer as well, so a request can never
   * be approved on a closed offer even if this step did not run.
   */
  async function closeAttached(offer: Offer): Promise<number> {
    if (!offer.attachments || (offer.state !== 'withdrawn' && offer.state !== 'expired')) return 0;
    let closed = 0;
    for (const r of await store.relationships.forOffer(offer.id)) {
      // One created at Microsoft lives on there: Microsoft has no way to withdraw a request locked for approval, so it
      // stays open and followed until Graph reports it approved or expired. One not created yet never will be.
      if (!isOpen(r) || atMicrosoft(r)) continue;
      const next = end(r, offer.state === 'withdrawn' ? 'withdrawn' : 'expired', clock());
      if (await store.relationships.update(next, r.version, [])) closed++;
    }
    if (closed) log.info({ offerId: offer.id, closed }, 'requests attached to a closed offer ended');
    return closed;
  }

  /**
   * A connected partner's delegated-admin request travelling on an offer is created at Microsoft too, once the offer's
   * approver (so the customer's tenant) is known: at issue, or when the offer reaches them. The offer's card shows
   * Microsoft's approval link in the request's section once Graph has it (the follower updates the card).
   */
  async function adoptAttached(offer: Offer): Promise<void> {
    if (!offer.approver || !connected(offer.partnerTenantId)) return;
    for (const r of await store.relationships.forOffer(offer.id)) {
      if (r.kind !== 'delegation' || !isOpen(r) || r.graph?.nextCheckAt || r.graph?.id) continue;
      const next = withGraph({ ...r, version: r.version + 1, customerTenantId: offer.approver.tenantId }, true);
      if (await store.relationships.update(next, r.version, [])) await followNow(next.id);
    }
  }

  /** Who may answer: the addressed approver, who for an attached request is the offer's. */
  async function approverOf(r: Relationship): Promise<Person | undefined> {
    if (r.approver || !r.offerId) return r.approver;
    return (await store.offers.get(r.offerId))?.approver;
  }

  /** The customer's active relationship of the same kind, if it is another one: what an approval would replace. */
  async function currentOther(r: Relationship, customerTenantId = r.customerTenantId): Promise<Relationship | null> {
    if (!customerTenantId) return null;
    const active = await store.relationships.activeFor(customerTenantId, r.kind);
    return active && active.id !== r.id ? active : null;
  }

  /** The request as one the follower creates at Microsoft; `now`: start at once (the customer's tenant is known). */
  function withGraph(r: Relationship, start: boolean): Relationship {
    return withDue({
      ...r,
      graph: { displayName: displayNameFor(r), ...(start ? { nextCheckAt: clock().toISOString() } : {}) },
    });
  }

  async function request(cmd: DelegateCommand, partner: Partner, issuer: Person & { upn?: string }) {
    assertPartnerFeaturesAvailable(partner, sovereignTenants);
    assertCanDelegate(partner, issuer, DELEGATE_EXAMPLE);
    const access = resolveAccess(cmd.roles, cmd.autoExtend, DELEGATE_EXAMPLE, defaultRoles(partner));
    const found = await findApprover(store, cmd.approverEmail, partner, sovereignTenants, DELEGATE_EXAMPLE);
    const now = clock();
    return withFreshIds(async () => {
      const draft = newRelationship(
        {
          kind: 'delegation',
          partnerTenantId: partner.tenantId,
          approverEmail: cmd.approverEmail,
          access,
          durationDays: cmd.days ?? DEFAULT_DURATION_DAYS,
          autoExtend: cmd.autoExtend,
        },
        { id: newShortId('D'), partnerName: partner.name, issuedBy: issuer, approver: found?.person, now },
      );
      // A connected partner's request is created at Microsoft first: its card carries Microsoft's approval link, so
      // it goes out once Graph has the request (the follower queues it), and creation starts when the customer's
      // tenant is known (the approver has the app), so the relationship is pinned to that tenant.
      const real = connected(partner.tenantId);
      const r = real ? withGraph(draft, !!found) : draft;
      const result = await store.relationships.create(r, found && !real ? [deliverCard(r, found.conversationId)] : []);
      log.info(
        { relationshipId: result.relationship.id, created: result.created, state: result.relationship.state, microsoft: real },
        'delegation requested',
      );
      const relationship = result.created && real && found ? ((await followNow(r.id)) ?? result.relationship) : result.relationship;
      return { relationship, duplicate: !result.created };
    });
  }

  /** Sends every request that waited for this person to install the app; returns how many went out. */
  async function deliverAwaiting(conversation: ConversationRecord): Promise<number> {
    const { approver, delivered } = await deliverWaiting(
      conversation,
      sovereignTenants,
      (email) => store.relationships.listAwaitingDelivery(email),
      async (r, approver) => {
        if (isRequestExpired(r, clock())) {
          await runDue(r);
          return false;
        }
        const delivered: Relationship = {
          ...r,
          state: 'approvalPending',
          approver,
          customerTenantId: approver.tenantId,
          deliveredAt: clock().toISOString(),
          version: r.version + 1,
        };
        if (r.graph) {
          // Now the customer's tenant is known: the follower creates it at Microsoft, then sends the card.
          // The partner hears it reached them once the card (with Microsoft's link) is queued, by the follower.
          const next = withGraph(delivered, true);
          const ok = await store.relationships.update(next, r.version, []);
          if (ok) await followNow(next.id);
          return ok;
        }
        return store.relationships.update(delivered, r.version, [
          deliverCard(delivered, conversation.id),
          ...notice(delivered, 'partner', 'delivered'),
        ]);
      },
    );
    if (delivered) log.info({ delivered, tenantId: approver?.tenantId }, 'delivered requests that waited for install');
    return delivered;
  }

  const response = (
    r: Relationship,
    slot: NewResponse['slot'],
    decision: NewResponse['decision'],
    actor: Actor,
    at: Date,
    where: { conversationId: string; activityId: string },
    customerTenantId: string,
    comment?: string,
  ): NewResponse => record(r, slot, decision, byOf(actor), at, where, customerTenantId, { comment });

  async function decide(input: DecideInput): Promise<DecideOutcome> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await loadFor(input.relationshipId, input.actor);
      const approver = await approverOf(r);
      if (!approver || approver.aadObjectId !== input.actor.aadObjectId || approver.tenantId !== input.actor.tenantId) {
        log.warn(
          { relationshipId: r.id, tenantId: input.actor.tenantId, aadObjectId: input.actor.aadObjectId },
          'decision refused: not the approver',
        );
        return { kind: 'notApprover', relationship: r, approverName: approver?.name ?? r.approverEmail };
      }
      const [existing] = (await store.responses.forSubject(r.id)).filter((x) => x.slot === r.kind);
      if (existing) return { kind: 'already', relationship: r, response: existing };
      if (r.state !== 'approvalPending') return { kind: 'closed', relationship: r };
      if (r.graph && input.decision === 'approved') {
        // Only the customer's Global Administrator approves a real relationship, at Microsoft: a click here (an old
        // card, a crafted payload) cannot, and must not record an approval Microsoft never saw.
        throw new UserInputError(
          `${r.id} is approved at Microsoft, not here: a Global Administrator of your organisation opens "Review and approve in admin center" on the request card. This card changes once Microsoft reports it approved.`,
          undefined,
          'Approve it at Microsoft',
        );
      }
      const now = clock();
      if (isRequestExpired(r, now)) return { kind: 'closed', relationship: await runDue(r) };
      const offer = r.offerId ? await store.offers.get(r.offerId) : null;
      if (offer && (offer.state === 'withdrawn' || offer.state === 'expired') && !atMicrosoft(r)) {
        await closeAttached(offer);
        return { kind: 'closed', relationship: (await store.relationships.get(r.id)) ?? r };
      }

      const where = { conversationId: input.conversationId, activityId: input.activityId };
      const fallback = { conversationId: input.conversationId, activityId: input.replyToId };
      const customer = approver.tenantId;
      const answer = response(r, r.kind, input.decision, input.actor, now, where, customer, input.comment);
      let decision: Parameters<RelationshipsStore['decide']>[0];
      if (input.decision === 'declined') {
        const next = decline(r, approver, now);
        decision = {
          next,
          expectedVersion: r.version,
          responses: [answer],
          outbox: [...(await updateCard(next, fallback)), ...notice(next, 'partner', 'declined')],
        };
      } else {
        const current = await currentOther(r, customer);
        if ((current?.id ?? '') !== (input.replaces ?? '')) return { kind: 'activeChanged', relationship: r, active: current };
        const next = approve(r, approver, now, current ? refOf(current) : undefined);
        // A replaced relationship at Microsoft is ended there (with its own partner's app), not just here.
        const ended = !current
          ? undefined
          : atMicrosoft(current)
            ? askMicrosoftToEnd(current, 'replaced', now, refOf(next))
            : end(current, 'replaced', now, refOf(next));
        decision = {
          next,
          expectedVersion: r.version,
          replaces: {
            expectedActiveId: current?.id ?? null,
            ended: ended && current ? { next: ended, expectedVersion: current.version } : undefined,
          },
          responses: [answer, ...(ended ? [response(ended, 'termination', 'replaced', input.actor, now, where, customer)] : [])],
          outbox: [
            ...(await updateCard(next, fallback)),
            ...notice(next, 'partner', 'approved'),
            ...(await channelNotice(
              store,
              next.partnerTenantId,
              { kind: RELATIONSHIP_CHANNEL, args: { relationshipId: next.id } },
              subject(next),
            )),
            // A partner renewing its own relationship hears "approved" only; another partner hears it was replaced
            // (one at Microsoft once Microsoft confirms the end: the follower tells it).
            ...(ended ? await updateCard(ended) : []),
            ...(ended && ended.state === 'terminated' && ended.partnerTenantId !== next.partnerTenantId
              ? notice(ended, 'partner', 'replaced', { by: input.actor.name })
              : []),
          ],
        };
      }
      const result = await store.relationships.decide(decision);
      switch (result.status) {
        case 'recorded':
          log.info(
            { relationshipId: r.id, decision: input.decision, replaced: decision.replaces?.ended?.next.id },
            'relationship decision recorded',
          );
          return { kind: 'recorded', relationship: result.relationship, response: result.responses[0]! };
        case 'already':
          return { kind: 'already', relationship: result.relationship, response: result.response };
        case 'activeChanged':
          // Another partner's approval won the race: show the card again, now naming who the customer would replace.
          return { kind: 'activeChanged', relationship: r, active: result.active && result.active.id !== r.id ? result.active : null };
        case 'conflict':
          continue;
      }
    }
    return { kind: 'closed', relationship: await load(input.relationshipId) };
  }

  /** Ends an active relationship on behalf of one side; the other side is told. */
  async function terminate(
    r: Relationship,
    by: Audience,
    actor: Actor,
    where: { conversationId: string; activityId: string },
  ): Promise<RevokeOutcome> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = attempt === 0 ? r : await load(r.id);
      const [existing] = (await store.responses.forSubject(current.id)).filter((x) => x.slot === 'termination');
      if (existing) return { kind: 'already', relationship: current, response: existing };
      if (current.state !== 'active' || !current.customerTenantId) return { kind: 'notActive', relationship: current };
      const now = clock();
      const reason = by === 'customer' ? 'revokedByCustomer' : 'revokedByPartner';
      if (atMicrosoft(current)) {
        // Ended for real through Graph's terminate request; the cards say "ended" once Graph reports it (the follower).
        const next = askMicrosoftToEnd(current, reason, now);
        const result = await store.relationships.decide({
          next,
          expectedVersion: current.version,
          responses: [response(current, 'termination', 'revoked', actor, now, where, current.customerTenantId)],
          outbox: await updateCard(next),
        });
        if (result.status === 'recorded') {
          log.info({ relationshipId: r.id, by }, 'relationship end asked of Microsoft');
          // A card click answers within Teams' few seconds: the sweep (every 5 s) sends the terminate. A typed
          // command may wait for Graph, so the partner's reply already says what Microsoft answered.
          const followed = by === 'partner' ? ((await followNow(r.id)) ?? result.relationship) : result.relationship;
          return { kind: 'recorded', relationship: followed, response: result.responses[0]! };
        }
        if (result.status === 'already') return { kind: 'already', relationship: result.relationship, response: result.response };
        continue;
      }
      const next = end(current, reason, now);
      const result = await store.relationships.decide({
        next,
        expectedVersion: current.version,
        responses: [response(current, 'termination', 'revoked', actor, now, where, current.customerTenantId)],
        outbox: [
          ...(await updateCard(next)),
          ...(by === 'customer' ? notice(next, 'partner', 'revokedByCustomer') : notice(next, 'customer', 'revokedByPartner')),
        ],
      });
      if (result.status === 'recorded') {
        log.info({ relationshipId: r.id, by }, 'relationship revoked');
        return { kind: 'recorded', relationship: result.relationship, response: result.responses[0]! };
      }
      if (result.status === 'already') return { kind: 'already', relationship: result.relationship, response: result.response };
    }
    return { kind: 'notActive', relationship: await load(r.id) };
  }

  /** `revoke admin`: the customer's approver ends their delegated-admin relationship (after confirming on a card). */
  async function revokeByCustomer(
    relationshipId: string,
    actor: Actor,
    where: { conversationId: string; activityId: string },
  ): Promise<RevokeOutcome> {
    const r = await ofCustomer(relationshipId, actor);
    if (r.approver && r.approver.aadObjectId !== actor.aadObjectId) {
      throw new UserInputError(
        `Only ${r.approver.name}, who approved it, can revoke it here. Any Global Administrator of your organisation can remove ${possessive(r.partnerName)} roles in the Microsoft 365 admin center (Settings > Partner relationships).`,
        'partners',
        'Only the approver can revoke',
      );
    }
    return terminate(r, 'customer', actor, where);
  }

  /** `delegate revoke <id>`: the partner gives up a relationship it holds. */
  async function revokeByPartner(
    relationshipId: string,
    partner: Partner,
    actor: Actor,
    where: { conversationId: string; activityId: string },
  ): Promise<RevokeOutcome> {
    const r = await store.relationships.get(relationshipId);
    if (!r || r.partnerTenantId !== partner.tenantId) {
      throw new UserInputError(
        `${partner.name} has no relationship ${relationshipId}. Type status to see yours.`,
        DELEGATE_REVOKE_EXAMPLE,
        'Not found',
      );
    }
    // Giving up access must work even for a partner that has left the programmes; only the admin-agent rule applies.
    if (r.kind === 'delegation') assertAdminAgent(partner, actor, DELEGATE_REVOKE_EXAMPLE);
    const outcome = await terminate(r, 'partner', actor, where);
    if (outcome.kind !== 'recorded') {
      throw new UserInputError(
        `${r.id} is ${stateWords(outcome.relationship)}, so there is nothing to revoke.`,
        `status ${r.id}`,
        'Nothing to revoke',
      );
    }
    return outcome;
  }

  /** Moves one relationship through what time has done to it (request expiry, reminder, extension, end). */
  async function runDue(r: Relationship): Promise<Relationship> {
    const step = dueStep(r, clock());
    if (!step) return r;
    const outbox = await dueOutbox(step.next, step.event);
    if (await store.relationships.update(step.next, r.version, outbox)) {
      log.info({ relationshipId: r.id, event: step.event.kind }, 'relationship time step');
      return step.next;
    }
    return (await store.relationships.get(r.id)) ?? r;
  }

  async function dueOutbox(next: Relationship, event: DueEvent): Promise<NewOutboxEntry[]> {
    switch (event.kind) {
      case 'requestExpired':
        return [...(await updateCard(next)), ...notice(next, 'partner', 'requestExpired')];
      case 'ended':
        return [...(await updateCard(next)), ...notice(next, 'partner', 'ended'), ...notice(next, 'customer', 'ended')];
      case 'extended':
        return [...notice(next, 'partner', 'extended'), ...notice(next, 'customer', 'extended')];
      case 'reminder': {
        const daysLeft = String(event.daysLeft);
        return [...notice(next, 'partner', 'reminder', { daysLeft }), ...notice(next, 'customer', 'reminder', { daysLeft })];
      }
    }
  }

  /**
   * Runs what is due; called periodically so expiries, reminders and extensions happen without anyone asking, and
   * the relationships created at Microsoft are read from Graph when their next check comes.
   */
  async function sweep(limit = 100): Promise<number> {
    const due = await store.relationships.listDue(clock().toISOString(), limit);
    for (const r of due) {
      try {
        if (microsoft?.follower.isDue(r, clock())) await microsoft.follower.follow(r.id);
        const now = (await store.relationships.get(r.id)) ?? r;
        if (dueStep(now, clock())) await runDue(now);
      } catch (err) {
        // One relationship's failure must not keep the others waiting: it is due again at the next sweep.
        log.error({ err, relationshipId: r.id }, 'sweep step failed');
      }
    }
    return due.length;
  }

  /**
   * The approver opened the card (Teams refreshes it): approvals follow soon after, so Graph is read more often for
   * a while. Best effort: a lost race only means the usual pace.
   */
  async function noticeAttention(r: Relationship): Promise<void> {
    const g = r.graph;
    if (!g?.cardQueued || r.state !== 'approvalPending' || g.leaseUntil) return;
    const now = clock();
    const soon = new Date(now.getTime() + 15_000).toISOString();
    const next = withDue({
      ...r,
      version: r.version + 1,
      graph: { ...g, attentionAt: now.toISOString(), nextCheckAt: g.nextCheckAt && g.nextCheckAt < soon ? g.nextCheckAt : soon },
    });
    await store.relationships.update(next, r.version, []);
  }

  /** The card as it should look now (read-only, for Teams' automatic refresh), with what an approval would replace. */
  async function view(id: string): Promise<{ relationship: Relationship; replaces: Relationship | null }> {
    const r = await load(id);
    await noticeAttention(r);
    const shown = isRequestExpired(r, clock()) ? end(r, 'expired', clock()) : r;
    const approver = await approverOf(r);
    return { relationship: shown, replaces: isOpen(shown) ? await currentOther(r, approver?.tenantId) : null };
  }

  async function statusOf(id: string, partner: Partner) {
    let r = await store.relationships.get(id);
    if (!r || r.partnerTenantId !== partner.tenantId) {
      throw new UserInputError(`${partner.name} has no request or relationship ${id}. Type status to see yours.`, 'status', 'Not found');
    }
    if (dueStep(r, clock())) r = await runDue(r);
    // The partner sees Microsoft's word as of now, not as of the last scheduled read.
    if (r.graph?.id && !['terminated', 'expired'].includes(r.graph.status ?? '')) r = (await followNow(r.id, { force: true })) ?? r;
    const offer = r.offerId && isOpen(r) ? await store.offers.get(r.offerId) : null;
    // An attached request is only as far along as the offer carrying it.
    const shown: Relationship = offer?.state === 'awaitingDelivery' ? { ...r, state: 'awaitingDelivery' } : r;
    return { relationship: shown, responses: await store.responses.forSubject(r.id) };
  }

  /** A customer's delegated-admin partner and partner of record. */
  async function partnersOf(customerTenantId: string) {
    const [delegation, por] = await Promise.all([
      store.relationships.activeFor(customerTenantId, 'delegation'),
      store.relationships.activeFor(customerTenantId, 'por'),
    ]);
    return { delegation, por };
  }

  return {
    get: (id: string) => store.relationships.get(id),
    closeAttached,
    adoptAttached,
    forOffer: (offerId: string) => store.relationships.forOffer(offerId),
    responsesOf: (id: string) => store.responses.forSubject(id),
    request,
    deliverAwaiting,
    decide,
    revokeByCustomer,
    revokeByPartner,
    viewableBy,
    ofCustomer,
    sweep,
    view,
    statusOf,
    partnersOf,
    currentOther,
    approverOf,
    list: (partner: Partner, limit = 20) => store.relationships.listByPartner(partner.tenantId, limit),
    pendingFor: (person: { tenantId: string; aadObjectId: string }) => store.relationships.listPendingFor(person),
    /** A copy of the request's own card, posted by `offers`: it is updated with the card from now on. */
    rememberCopy: (id: string, place: { conversationId: string; activityId: string }) => store.relationships.addCopy(id, place),
    kindName: (kind: RelationshipKind) => KIND_NAME[kind],
  };
}
