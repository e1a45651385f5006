import { randomUUID } from 'node:crypto';
import type { RelationshipDecideResult, RelationshipDecision } from '../../../src/delegation/store';
import type { Relationship, RelationshipKind } from '../../../src/delegation/types';
import type { Offer, Person } from '../../../src/offers/types';
import { GENESIS_HASH, verifyChain } from '../../../src/store/chain';
import type { Store } from '../../../src/store/types';
import {
  T0,
  TENANT,
  alex,
  approvedRel,
  deliverCard,
  deliveredRel,
  diego,
  lee,
  megan,
  notifyIssuer,
  notifyRelIssuer,
  offer,
  otherPartner,
  partnerRef,
  person,
  plus,
  plusDays,
  relCard,
  relationship,
  unstorableEntry,
  unstorableRelEntry,
} from '../support/fixtures';
import type { ContractContext } from './context';
import { RACE_TIMEOUT_MS, fresh, key, outboxChecks, requested, sortedKeys } from './helpers';

/** `one handle` > `relationships`: delegation and partner-of-record requests, their decisions, one active per customer. */
export function relationshipsContract(ctx: ContractContext): void {
  const { clock, nowIso, approval, refusal, revocation } = ctx;
  const { expectOutbox } = outboxChecks(ctx);
  let store: Store;
  beforeEach(() => (store = ctx.store()));

  describe('relationships', () => {
    /** A request delivered on creation (the approver already chats with the bot), with its own card. */
    const createPending = async (r: Partial<Relationship> = {}) => {
      const built = relationship({ state: 'approvalPending', ...r });
      expect(await store.relationships.create(built, [relCard(built, `a:1personal-${built.approver!.aadObjectId}`)])).toEqual({
        created: true,
        relationship: built,
      });
      return built;
    };
    /** Set up as stored (as a migration or an earlier approval left it); `create` is no way to approve. */
    const createStored = async (r: Relationship) => {
      expect(await store.relationships.create(r, [])).toEqual({ created: true, relationship: r });
      return r;
    };
    const decide = (d: RelationshipDecision) => store.relationships.decide(d);
    const recorded = async (d: RelationshipDecision) => {
      const r = await decide(d);
      expect(r.status).toBe('recorded');
      return (r as Extract<RelationshipDecideResult, { status: 'recorded' }>).responses;
    };
    /** Rejects, and says why in the error's code (which survives a worker thread) and message. */
    const refusedActive = async (write: Promise<unknown>, activeId: string) => {
      const err = (await write.then(
        () => undefined,
        (e: unknown) => e,
      )) as { name?: string; code?: string; message?: string } | undefined;
      expect(err).toMatchObject({ name: 'ActiveRelationshipExists', code: 'ACTIVE_RELATIONSHIP_EXISTS' });
      expect(err?.message).toContain(activeId);
    };

    it('create stores the request with its outbox entries; get returns it; an unknown id is null', async () => {
      const r = relationship();
      const entries = [notifyRelIssuer(r, `${r.id} waits for the approver to install the app`)];
      expect(await store.relationships.create(r, entries)).toEqual({ created: true, relationship: r });
      expect(await store.relationships.get(r.id)).toEqual(r);
      await expectOutbox(r.id, fresh(entries, T0));
      // A `$`-prefixed key comes back as it went in (MongoDB must store it escaped, never as an operator).
      const [notice] = await store.outbox.forSubject(r.id);
      expect(key(notice!.action)).toContain('"$where":"keys like this must never reach MongoDB raw"');

      const por = relationship({ kind: 'por', state: 'approvalPending' });
      const card = relCard(por, 'a:1personal-megan');
      expect(await store.relationships.create(por, [card])).toEqual({ created: true, relationship: por });
      expect(await store.relationships.get(por.id)).toEqual(por);
      expect((await store.outbox.forSubject(por.id)).map(requested)).toEqual([card]);
      expect(await store.relationships.get('D-NQPE23')).toBeNull();
    });

    it('duplicate guard: a second create with the same pendingKey returns the first and stores nothing; once decided, the key is free', async () => {
      const first = relationship();
      await store.relationships.create(first, [notifyRelIssuer(first, 'first')]);
      clock.now = new Date(plus(T0, 1));
      const again = relationship({ createdAt: nowIso(), pendingKey: first.pendingKey });
      expect(again.pendingKey).toEqual(expect.any(String));

      expect(await store.relationships.create(again, [notifyRelIssuer(again, 'second')])).toEqual({ created: false, relationship: first });
      expect(await store.relationships.get(again.id)).toBeNull();
      expect(await store.outbox.forSubject(again.id)).toEqual([]);
      await expectOutbox(first.id, fresh([notifyRelIssuer(first, 'first')], T0));
      expect((await store.outbox.stats()).pending).toBe(1);
      expect(await store.relationships.listByPartner(TENANT.fabrikam, 10)).toEqual([first]);

      // Delivered, the request is still open and still guards; declined, it no longer carries the key.
      const sent = deliveredRel(first, megan, nowIso());
      expect(await store.relationships.update(sent, first.version, [])).toBe(true);
      expect((await store.relationships.create(again, [])).created).toBe(false);
      await recorded(refusal(sent));
      expect((await store.relationships.get(first.id))?.pendingKey).toBeUndefined();

      expect(await store.relationships.create(again, [])).toEqual({ created: true, relationship: again });
      const third = { ...again, id: 'D-7HQ3MW' };
      expect(await store.relationships.create(third, [notifyRelIssuer(third, 'third')])).toEqual({ created: false, relationship: again });
      expect(await store.relationships.get(third.id)).toBeNull();
      expect(await store.outbox.forSubject(third.id)).toEqual([]);
    });

    it('update is a compare-and-set on version: a stale expectedVersion returns false and writes nothing, outbox included', async () => {
      const r = relationship();
      await store.relationships.create(r, []);
      clock.now = new Date(plus(T0, 10));
      const sent = deliveredRel(r, megan, nowIso());
      const entries = [relCard(sent, 'a:1personal-megan')];
      expect(await store.relationships.update(sent, r.version + 1, entries)).toBe(false);
      expect(await store.relationships.update(sent, r.version - 1, entries)).toBe(false);
      expect(await store.relationships.get(r.id)).toEqual(r);
      expect(await store.outbox.forSubject(r.id)).toEqual([]);

      expect(await store.relationships.update(sent, r.version, entries)).toBe(true);
      expect(await store.relationships.get(r.id)).toEqual(sent);
      await expectOutbox(r.id, fresh(entries, nowIso()));

      // The same write again is stale now: the version moved to 2.
      const { pendingKey: _k, dueAt: _d, ...rest } = sent;
      const expired: Relationship = { ...rest, state: 'expired', version: 3 };
      expect(await store.relationships.update(expired, r.version, [notifyRelIssuer(expired, 'expired')])).toBe(false);
      expect(await store.relationships.get(r.id)).toEqual(sent);
      expect(await store.relationships.update({ ...expired, id: 'D-M2SSNG' }, 2, [notifyRelIssuer(expired, 'x')])).toBe(false);
      expect((await store.outbox.stats()).pending).toBe(1);
      expect(await store.relationships.update(expired, sent.version, [])).toBe(true);
      expect(await store.relationships.get(r.id)).toEqual(expired);
    });

    it('create and update refuse a second active relationship of a kind for a customer, naming the active one', async () => {
      const active = await createStored(relationship({ ...otherPartner(1), state: 'active' }));
      const other = await createPending();

      // An approval written through update instead of decide: the database refuses it, and nothing is written.
      await refusedActive(
        store.relationships.update(approvedRel(other, nowIso()), other.version, [notifyRelIssuer(other, 'approved')]),
        active.id,
      );
      expect(await store.relationships.get(other.id)).toEqual(other);
      expect(await store.outbox.forSubject(other.id)).toHaveLength(1); // its card
      const second = relationship({ ...otherPartner(2), state: 'active' });
      await refusedActive(store.relationships.create(second, [notifyRelIssuer(second, 'x')]), active.id);
      expect(await store.relationships.get(second.id)).toBeNull();
      expect(await store.outbox.forSubject(second.id)).toEqual([]);
      expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(active);

      // One per kind and customer: partner of record for Contoso, a delegation for Litware are their own.
      const por = await createStored(relationship({ kind: 'por', state: 'active' }));
      const litware = await createStored(relationship({ state: 'active', approver: diego, approverEmail: diego.email! }));
      expect(await store.relationships.activeFor(TENANT.contoso, 'por')).toEqual(por);
      expect(await store.relationships.activeFor(TENANT.litware, 'delegation')).toEqual(litware);
      expect(await store.relationships.activeFor(TENANT.litware, 'por')).toBeNull();
      expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(active);

      // An active relationship changes through update while it stays active (a reminder, an extension).
      const reminded: Relationship = { ...active, version: 2, remindersSent: [30] };
      expect(await store.relationships.update(reminded, 1, [])).toBe(true);
      expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(reminded);
    });

    it('offers.create inserts the attached requests with the offer; forOffer returns them; a duplicate offer inserts none', async () => {
      const base = offer({ state: 'sent' });
      const delegation = relationship({ state: 'approvalPending', offerId: base.id });
      const por = relationship({ kind: 'por', state: 'approvalPending', offerId: base.id });
      expect(delegation.pendingKey).toBeUndefined(); // attached requests travel on the offer's card: no guard of their own
      const o: Offer = { ...base, attachments: { delegationId: delegation.id, porId: por.id } };
      expect(await store.offers.create(o, [deliverCard(o, 'a:1personal-megan')], [delegation, por])).toEqual({ created: true, offer: o });
      expect(await store.offers.get(o.id)).toEqual(o);
      expect(await store.relationships.get(delegation.id)).toEqual(delegation);
      expect(await store.relationships.get(por.id)).toEqual(por);
      expect(await store.relationships.forOffer(o.id)).toEqual([delegation, por]);
      expect(await store.relationships.listByPartner(TENANT.fabrikam, 10)).toHaveLength(2);

      // The same offer again: the partner gets the first back, and neither the offer nor its requests are stored.
      const again: Offer = { ...o, id: 'P-9XK4TQ' };
      const againRequest = relationship({ state: 'approvalPending', offerId: again.id });
      expect(await store.offers.create(again, [notifyIssuer(again, 'again')], [againRequest])).toEqual({ created: false, offer: o });
      expect(await store.relationships.get(againRequest.id)).toBeNull();
      expect(await store.relationships.forOffer(again.id)).toEqual([]);
      expect(await store.relationships.forOffer(o.id)).toEqual([delegation, por]);
      expect(await store.outbox.forSubject(again.id)).toEqual([]);

      // An offer without attachments has none; a request that does not point at its offer is refused.
      const plain = offer();
      await store.offers.create(plain, []);
      expect(await store.relationships.forOffer(plain.id)).toEqual([]);
      const stray = offer();
      await expect(store.offers.create(stray, [], [relationship({ offerId: o.id })])).rejects.toThrow(/offerId/);
      expect(await store.offers.get(stray.id)).toBeNull();
    });

    it('an offer create whose outbox insert fails inserts neither the offer nor its requests', async () => {
      const o = offer({ state: 'sent' });
      const request = relationship({ state: 'approvalPending', offerId: o.id });
      await expect(store.offers.create(o, [deliverCard(o, 'a:1personal-megan'), unstorableEntry(o)], [request])).rejects.toThrow();
      expect(await store.offers.get(o.id)).toBeNull();
      expect(await store.relationships.get(request.id)).toBeNull();
      expect(await store.relationships.forOffer(o.id)).toEqual([]);
      expect(await store.outbox.stats()).toEqual({ pending: 0, failed: 0 });
      expect(await store.offers.create(o, [], [request])).toEqual({ created: true, offer: o });
      expect(await store.relationships.forOffer(o.id)).toEqual([request]);
    });

    it("listByPartner lists one partner's relationships and requests newest first, up to limit", async () => {
      const mk = (minutes: number, r: Partial<Relationship> = {}) => relationship({ createdAt: plus(T0, minutes), ...r });
      const a1 = mk(-50);
      const b1 = mk(-40, { kind: 'por', state: 'approvalPending' });
      const a2 = mk(-30, { state: 'active' });
      const other = mk(-20, otherPartner(1));
      const a3 = mk(-10, { state: 'declined' });
      for (const r of [a2, other, a1, a3, b1]) expect((await store.relationships.create(r, [])).created).toBe(true);

      expect(await store.relationships.listByPartner(TENANT.fabrikam, 10)).toEqual([a3, a2, b1, a1]);
      expect(await store.relationships.listByPartner(TENANT.fabrikam, 2)).toEqual([a3, a2]);
      expect(await store.relationships.listByPartner(TENANT.fabrikam, 0)).toEqual([]);
      expect(await store.relationships.listByPartner(otherPartner(1).partnerTenantId, 10)).toEqual([other]);
      expect(await store.relationships.listByPartner(TENANT.litware, 10)).toEqual([]);
    });

    it('listAwaitingDelivery returns the unattached requests awaiting delivery to that email (any case), oldest first', async () => {
      const later = relationship({ createdAt: plus(T0, -10) });
      const earlier = relationship({ createdAt: plus(T0, -20), kind: 'por' });
      const otherEmail = relationship({ approverEmail: 'diego@litware.com', createdAt: plus(T0, -30) });
      const delivered = relationship({ state: 'approvalPending', createdAt: plus(T0, -40) });
      const expired = relationship({ state: 'expired', createdAt: plus(T0, -50) });
      for (const r of [later, otherEmail, earlier, delivered, expired]) await store.relationships.create(r, []);
      // Attached to an offer awaiting delivery: it goes out on the offer's card, not on one of its own.
      const o = offer({ createdAt: plus(T0, -60) });
      await store.offers.create(o, [], [relationship({ createdAt: plus(T0, -60), offerId: o.id })]);

      expect(await store.relationships.listAwaitingDelivery('admin@contoso.com')).toEqual([earlier, later]);
      expect(await store.relationships.listAwaitingDelivery('ADMIN@Contoso.com')).toEqual([earlier, later]);
      expect(await store.relationships.listAwaitingDelivery('diego@litware.com')).toEqual([otherEmail]);
      expect(await store.relationships.listAwaitingDelivery('lee.gu@contoso.com')).toEqual([]);
    });

    it('listPendingFor returns the unattached requests delivered to that approver and not answered, oldest first', async () => {
      const newer = await createPending({ createdAt: plus(T0, -10) });
      const older = await createPending({ createdAt: plus(T0, -20), kind: 'por' });
      const answered = await createPending({ createdAt: plus(T0, -30) });
      await recorded(refusal(answered));
      const leeRequest = await createPending({ approver: lee, approverEmail: lee.email!, createdAt: plus(T0, -40) });
      const diegoRequest = await createPending({ approver: diego, approverEmail: diego.email!, createdAt: plus(T0, -50) });
      await store.relationships.create(relationship({ createdAt: plus(T0, -60) }), []); // awaiting delivery: nobody known yet
      await createStored(relationship({ state: 'active', createdAt: plus(T0, -70) }));
      // Attached to an offer Megan has: answered on the offer's card, so not pending on its own.
      const o = offer({ state: 'sent', createdAt: plus(T0, -80) });
      await store.offers.create(o, [], [relationship({ state: 'approvalPending', createdAt: plus(T0, -80), offerId: o.id })]);

      expect(await store.relationships.listPendingFor({ tenantId: TENANT.contoso, aadObjectId: megan.aadObjectId })).toEqual([
        older,
        newer,
      ]);
      expect(await store.relationships.listPendingFor({ tenantId: TENANT.litware, aadObjectId: megan.aadObjectId })).toEqual([]);
      expect(await store.relationships.listPendingFor({ tenantId: TENANT.contoso, aadObjectId: lee.aadObjectId })).toEqual([leeRequest]);
      expect(await store.relationships.listPendingFor({ tenantId: TENANT.litware, aadObjectId: diego.aadObjectId })).toEqual([
        diegoRequest,
      ]);
    });

    it('listDue returns open, active and Microsoft-followed relationships whose dueAt has come, earliest first, at most limit', async () => {
      const at = (minutes: number) => plus(T0, minutes);
      const awaiting = relationship({ dueAt: at(-300) });
      const pending = relationship({ state: 'approvalPending', dueAt: at(-200) });
      const active = relationship({ state: 'active', dueAt: at(-100) });
      const dueNow = relationship({ kind: 'por', state: 'approvalPending', dueAt: T0 });
      const notYet = relationship({ dueAt: at(1) });
      const nothingDue = relationship({ kind: 'por', state: 'active' }); // partner of record: no end, no reminders
      expect(nothingDue.dueAt).toBeUndefined();
      // Graph-backed delegations are still read from Graph after a decline in the chat (a Global Administrator can
      // approve at Microsoft anyway) and while their end is asked for.
      const graph = { displayName: 'Partner Offers D-TEST22' };
      const declined = relationship({ state: 'declined', dueAt: at(-400), graph });
      const ending = relationship({ state: 'terminationRequested', customerTenantId: undefined, dueAt: at(-50), graph });
      // Ended ones are never due, even with a dueAt left over.
      const expired = relationship({ state: 'expired', dueAt: at(-500) });
      const terminated = relationship({ state: 'terminated', dueAt: at(-600) });
      for (const r of [dueNow, terminated, notYet, active, declined, nothingDue, awaiting, ending, expired, pending]) await createStored(r);

      expect(await store.relationships.listDue(T0, 10)).toEqual([declined, awaiting, pending, active, ending, dueNow]);
      expect(await store.relationships.listDue(T0, 2)).toEqual([declined, awaiting]);
      expect(await store.relationships.listDue(T0, 0)).toEqual([]);
      expect(await store.relationships.listDue(at(-250), 10)).toEqual([declined, awaiting]);
      expect(await store.relationships.listDue(at(-1000), 10)).toEqual([]);
      expect(await store.relationships.listDue(at(1), 10)).toEqual([declined, awaiting, pending, active, ending, dueNow, notYet]);
    });

    it("setCard remembers where the request's card landed without changing the version", async () => {
      const r = await createPending();
      const card = { conversationId: 'a:1personal-megan', activityId: '1:1732525200000' };
      await store.relationships.setCard(r.id, card);
      const stored = await store.relationships.get(r.id);
      expect(stored).toEqual({ ...r, card });
      expect(stored?.version).toBe(r.version);

      // A write that read the request before setCard still passes the version check.
      clock.now = new Date(plus(T0, 5));
      const d = refusal(stored!);
      await recorded(d);
      expect(await store.relationships.get(r.id)).toEqual(d.next);
      expect(d.next.card).toEqual(card);
    });

    it('addCopy remembers copies of the card, the newest five, in order, without changing the version; a decision keeps them', async () => {
      const r = await createPending();
      const copy = (n: number) => ({ conversationId: 'a:1personal-megan', activityId: `1:17325252000${n}` });
      for (let n = 1; n <= 7; n++) await store.relationships.addCopy(r.id, copy(n));
      const stored = await store.relationships.get(r.id);
      expect(stored).toEqual({ ...r, copies: [3, 4, 5, 6, 7].map(copy) });
      expect(stored?.version).toBe(r.version);

      // A decision made from the stored request carries its copies, so its card updates can reach them.
      clock.now = new Date(plus(T0, 5));
      const d = refusal(stored!);
      await recorded(d);
      expect((await store.relationships.get(r.id))?.copies).toEqual([3, 4, 5, 6, 7].map(copy));

      await store.relationships.addCopy('D-NOPE22', copy(1));
      expect(await store.relationships.get('D-NOPE22')).toBeNull();
    });

    describe('decide', () => {
      it('a decline is recorded: request declined, one response chained, outbox stored; nothing becomes active', async () => {
        const r = await createPending();
        clock.now = new Date(plus(T0, 90));
        const d = refusal(r);
        const result = await decide(d);
        expect(result).toEqual({
          status: 'recorded',
          relationship: d.next,
          responses: [{ ...d.responses[0]!, seq: 1, prevHash: GENESIS_HASH, hash: expect.stringMatching(/^[0-9a-f]{64}$/) }],
        });
        const { responses } = result as Extract<RelationshipDecideResult, { status: 'recorded' }>;
        expect(await store.relationships.get(r.id)).toEqual(d.next);
        expect(await store.responses.forSubject(r.id)).toEqual(responses);
        const chain = await store.responses.chain(TENANT.contoso);
        expect(chain).toEqual(responses);
        expect(verifyChain(chain)).toBe(true);
        await expectOutbox(r.id, [...fresh([relCard(r, `a:1personal-${megan.aadObjectId}`)], T0), ...fresh(d.outbox, nowIso())]);
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toBeNull();
        expect(await store.relationships.listPendingFor({ tenantId: TENANT.contoso, aadObjectId: megan.aadObjectId })).toEqual([]);
      });

      it("an approval with no active relationship makes the request the customer's active one", async () => {
        const r = await createPending();
        clock.now = new Date(plus(T0, 90));
        const d = approval(r, null);
        const responses = await recorded(d);
        expect(responses).toEqual([{ ...d.responses[0]!, seq: 1, prevHash: GENESIS_HASH, hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
        expect(await store.relationships.get(r.id)).toEqual(d.next);
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(d.next);
        expect(await store.relationships.activeFor(TENANT.contoso, 'por')).toBeNull();
        expect(await store.relationships.listDue(d.next.dueAt!, 10)).toEqual([d.next]);
        expect(sortedKeys((await store.outbox.forSubject(r.id)).filter((e) => !e.onSent).map(requested))).toEqual(sortedKeys(d.outbox));
      });

      it("Graph's activation of a relationship at Microsoft: the record keeps Microsoft's confirmation as given, chained", async () => {
        const graph = { displayName: 'Partner Offers D-TEST22', id: 'rel-1', status: 'active' };
        const r = await createPending({ graph: { displayName: graph.displayName, id: 'rel-1', status: 'approvalPending' } });
        clock.now = new Date(plus(T0, 90));
        const base = approval(r, null);
        const microsoft = { relationshipId: 'rel-1', status: 'active', reportedAt: '2026-11-25T09:01:00.000Z' };
        const d: RelationshipDecision = {
          ...base,
          next: { ...base.next, graph },
          responses: [{ ...base.responses[0]!, id: `${r.id}/activation`, slot: 'activation', microsoft }],
        };
        const [record] = await recorded(d);
        expect(record).toMatchObject({ slot: 'activation', microsoft });
        expect(await store.responses.forSubject(r.id)).toEqual([record]);
        expect(verifyChain(await store.responses.chain(TENANT.contoso))).toBe(true);
        expect((await store.relationships.get(r.id))?.graph).toEqual(graph);
      });

      it('an approval replacing the active one ends it and activates the new one together; both responses chained in order', async () => {
        const old = await createStored(relationship({ ...otherPartner(1), state: 'active', createdAt: plusDays(T0, -100) }));
        const otherKind = await createStored(
          relationship({ ...otherPartner(1), kind: 'por', state: 'active', createdAt: plusDays(T0, -100) }),
        );
        // An earlier decision of the customer's, so the chain does not start with this one.
        await recorded(refusal(await createPending({ kind: 'por' })));
        const r = await createPending();
        clock.now = new Date(plus(T0, 90));
        const d = approval(r, old);

        const responses = await recorded(d);
        expect(responses.map((x) => [x.seq, x.subjectId, x.slot, x.decision])).toEqual([
          [2, r.id, 'delegation', 'approved'],
          [3, old.id, 'termination', 'replaced'],
        ]);
        expect(responses).toEqual(d.responses.map((x) => expect.objectContaining(x)));
        expect(responses[1]!.prevHash).toBe(responses[0]!.hash);
        const ended = d.replaces!.ended!.next;
        expect(ended).toMatchObject({ state: 'terminated', endReason: 'replaced', replacedBy: partnerRef(r), version: 2 });
        expect(await store.relationships.get(old.id)).toEqual(ended);
        expect(await store.relationships.get(r.id)).toEqual(d.next);
        expect(d.next.replaced).toEqual(partnerRef(old));
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(d.next);
        expect(await store.relationships.activeFor(TENANT.contoso, 'por')).toEqual(otherKind);

        const chain = await store.responses.chain(TENANT.contoso);
        expect(chain.map((x) => x.seq)).toEqual([1, 2, 3]);
        expect(chain.slice(1)).toEqual(responses);
        expect(verifyChain(chain)).toBe(true);
        expect(await store.responses.forSubject(old.id)).toEqual([responses[1]]);
        expect(await store.responses.forSubject(r.id)).toEqual([responses[0]]);
        expect((await store.outbox.forSubject(old.id)).map(requested)).toEqual([d.outbox[1]]);
      });

      it('a revocation ends the active relationship with a termination response; a second one is already', async () => {
        const active = await createStored(relationship({ state: 'active' }));
        clock.now = new Date(plus(T0, 30));
        const d = revocation(active, megan);
        const responses = await recorded(d);
        expect(responses.map((x) => [x.seq, x.subjectId, x.slot, x.decision])).toEqual([[1, active.id, 'termination', 'revoked']]);
        expect(await store.relationships.get(active.id)).toEqual(d.next);
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toBeNull();
        expect(await store.relationships.listDue(plusDays(T0, 1000), 10)).toEqual([]);

        // The partner revoking at the same moment, from what it read before: the customer's act stands.
        const partnerSide = revocation(active, alex);
        expect(await decide(partnerSide)).toEqual({ status: 'already', relationship: d.next, response: responses[0] });
        expect(await store.responses.chain(TENANT.contoso)).toEqual(responses);
      });

      it('a second decision on the same request returns already with the first response and writes nothing', async () => {
        const r = await createPending();
        clock.now = new Date(plus(T0, 90));
        const first = approval(r, null);
        const [response] = await recorded(first);
        const outboxBefore = sortedKeys(await store.outbox.forSubject(r.id));

        // A double click: the same stale read, another answer.
        clock.now = new Date(plus(T0, 91));
        const click = refusal(r, { activityId: '1:second-click' });
        expect(await decide(click)).toEqual({ status: 'already', relationship: first.next, response });
        // A colleague who read the request after the approval (version 2) and answers anyway.
        expect(await decide(refusal(first.next, { activityId: '1:late' }))).toEqual({
          status: 'already',
          relationship: first.next,
          response,
        });
        // The same approval again, retried by Teams.
        expect(await decide(first)).toEqual({ status: 'already', relationship: first.next, response });

        expect(await store.relationships.get(r.id)).toEqual(first.next);
        expect(await store.responses.forSubject(r.id)).toEqual([response]);
        expect(await store.responses.chain(TENANT.contoso)).toEqual([response]);
        expect(sortedKeys(await store.outbox.forSubject(r.id))).toEqual(outboxBefore);
      });

      it('activeChanged: the active relationship is not the one the approver was shown, and nothing is written', async () => {
        const northwind = await createStored(relationship({ ...otherPartner(1), state: 'active' }));
        const r = await createPending();
        const untouched = async () => {
          expect(await store.relationships.get(r.id)).toEqual(r);
          expect(await store.responses.forSubject(r.id)).toEqual([]);
          expect((await store.outbox.forSubject(r.id)).map(requested)).toEqual([relCard(r, `a:1personal-${megan.aadObjectId}`)]);
        };

        // Shown "no delegated admin yet" before Northwind's was approved.
        expect(await decide(approval(r, null))).toEqual({ status: 'activeChanged', active: northwind });
        await untouched();
        expect(await store.relationships.get(northwind.id)).toEqual(northwind);
        expect(await store.responses.chain(TENANT.contoso)).toEqual([]);
        // An approval that names no expectation cannot make a second active one either.
        expect(await decide({ ...approval(r, null), replaces: undefined })).toEqual({ status: 'activeChanged', active: northwind });
        await untouched();

        // Shown Northwind's, but another partner has replaced it since.
        const litware = await createPending(otherPartner(2));
        const won = approval(litware, northwind);
        await recorded(won);
        const chain = await store.responses.chain(TENANT.contoso);
        expect(await decide(approval(r, northwind))).toEqual({ status: 'activeChanged', active: won.next });
        await untouched();
        expect(await store.relationships.get(northwind.id)).toEqual(won.replaces!.ended!.next);
        expect(await store.responses.chain(TENANT.contoso)).toEqual(chain);

        // Shown that one, but it was revoked since: none is active now, which is the news.
        await recorded(revocation(won.next, megan));
        expect(await decide(approval(r, won.next))).toEqual({ status: 'activeChanged', active: null });
        await untouched();

        // Re-read and re-decide: recorded.
        await recorded(approval(r, null));
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toMatchObject({ id: r.id, state: 'active' });
      });

      it('a stale version of the request, or of the relationship it replaces, is a conflict naming it, and nothing is written', async () => {
        const r = await createPending();
        // The card landed again somewhere else: version 2.
        const moved: Relationship = { ...r, deliveredAt: plus(T0, 30), version: 2 };
        expect(await store.relationships.update(moved, 1, [])).toBe(true);
        clock.now = new Date(plus(T0, 90));
        expect(await decide(approval(r, null))).toEqual({ status: 'conflict', relationship: moved });
        expect(await decide(refusal(r))).toEqual({ status: 'conflict', relationship: moved });
        expect(await store.relationships.get(r.id)).toEqual(moved);
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toBeNull();
        expect(await store.responses.forSubject(r.id)).toEqual([]);

        // A replace from the stale read: the old relationship is as expected, but it must stay as it is.
        const old = await createStored(relationship({ ...otherPartner(1), state: 'active' }));
        expect(await decide(approval(r, old))).toEqual({ status: 'conflict', relationship: moved });
        expect(await store.relationships.get(old.id)).toEqual(old);
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(old);
        expect(await store.responses.forSubject(old.id)).toEqual([]);

        // The active one changed underneath (a reminder went out): the replace is a conflict about it.
        const reminded: Relationship = { ...old, version: 2, remindersSent: [30] };
        expect(await store.relationships.update(reminded, 1, [])).toBe(true);
        expect(await decide(approval(moved, old))).toEqual({ status: 'conflict', relationship: reminded });
        expect(await store.relationships.get(moved.id)).toEqual(moved);
        expect(await store.relationships.get(old.id)).toEqual(reminded);
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(reminded);
        expect(await store.responses.chain(TENANT.contoso)).toEqual([]);
        expect(await store.outbox.forSubject(old.id)).toEqual([]);

        // Re-read and re-decide: recorded, and the chain starts at 1 (the conflicts did not move it).
        const responses = await recorded(approval(moved, reminded));
        expect(responses.map((x) => x.seq)).toEqual([1, 2]);
        expect((await store.relationships.get(old.id))?.state).toBe('terminated');
      });

      it('refuses a replace that does not end the relationship it expects (a caller bug), writing nothing', async () => {
        const old = await createStored(relationship({ ...otherPartner(1), state: 'active' }));
        const r = await createPending();
        const d = approval(r, old);
        await expect(decide({ ...d, replaces: { expectedActiveId: old.id } })).rejects.toThrow(/replace must end/);
        await expect(decide({ ...d, replaces: { expectedActiveId: null, ended: d.replaces!.ended } })).rejects.toThrow(/replace must end/);
        await expect(decide({ ...d, responses: [] })).rejects.toThrow(/at least one response/);
        expect(await store.relationships.get(r.id)).toEqual(r);
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(old);
      });
    });

    describe('all or nothing', () => {
      it('a replace whose outbox insert fails leaves no response, no change to either relationship, the old one active, no chain move', async () => {
        const old = await createStored(relationship({ ...otherPartner(1), state: 'active' }));
        await recorded(refusal(await createPending({ kind: 'por' })));
        const r = await createPending();
        const chainBefore = await store.responses.chain(TENANT.contoso);
        const outboxBefore = [sortedKeys(await store.outbox.forSubject(r.id)), sortedKeys(await store.outbox.forSubject(old.id))];
        const statsBefore = await store.outbox.stats();

        clock.now = new Date(plus(T0, 90));
        const d = approval(r, old);
        // The first entry is fine, the last cannot be stored: everything before it must go too.
        await expect(decide({ ...d, outbox: [d.outbox[0]!, unstorableRelEntry(d.next)] })).rejects.toThrow();

        expect(await store.relationships.get(r.id)).toEqual(r);
        expect(await store.relationships.get(old.id)).toEqual(old);
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(old);
        expect(await store.responses.forSubject(r.id)).toEqual([]);
        expect(await store.responses.forSubject(old.id)).toEqual([]);
        expect(await store.responses.chain(TENANT.contoso)).toEqual(chainBefore);
        expect([sortedKeys(await store.outbox.forSubject(r.id)), sortedKeys(await store.outbox.forSubject(old.id))]).toEqual(outboxBefore);
        expect(await store.outbox.stats()).toEqual(statsBefore);

        // The head did not move: the same replace now records as seq 2 and 3, and the chain verifies.
        const responses = await recorded(d);
        expect(responses.map((x) => x.seq)).toEqual([2, 3]);
        expect(verifyChain(await store.responses.chain(TENANT.contoso))).toBe(true);
        expect(await store.relationships.activeFor(TENANT.contoso, 'delegation')).toEqual(d.next);
      });

      it('a create or update whose outbox insert fails writes nothing, and the pendingKey stays free', async () => {
        const r = relationship();
        await expect(store.relationships.create(r, [notifyRelIssuer(r, 'ok'), unstorableRelEntry(r)])).rejects.toThrow();
        expect(await store.relationships.get(r.id)).toBeNull();
        expect(await store.outbox.stats()).toEqual({ pending: 0, failed: 0 });
        expect(await store.relationships.create(r, [])).toEqual({ created: true, relationship: r });

        const sent = deliveredRel(r, megan, plus(T0, 5));
        await expect(
          store.relationships.update(sent, r.version, [relCard(sent, 'a:1personal-megan'), unstorableRelEntry(sent)]),
        ).rejects.toThrow();
        expect(await store.relationships.get(r.id)).toEqual(r);
        expect(await store.outbox.forSubject(r.id)).toEqual([]);
        expect(await store.relationships.update(sent, r.version, [])).toBe(true);
      });
    });
  });
}

/** `concurrent handles` > `relationships`. */
export function relationshipsConcurrent(ctx: ContractContext): void {
  const { harness, together, approval } = ctx;
  let handles: Store[];

  describe('relationships', () => {
    type Recorded = Extract<RelationshipDecideResult, { status: 'recorded' }>;
    /** A customer tenant of its own for each round (its admin), so every round starts with no active relationship. */
    const newCustomer = (): Person => {
      const tenantId = randomUUID();
      return person({ name: 'Megan Bowen', tenantId, email: `admin@${tenantId.slice(0, 8)}.example` });
    };
    /** Requests from `n` different partners, delivered to `approver`, set up through handle 0. */
    const createRequests = async (n: number, approver: Person, kind: RelationshipKind = 'delegation') => {
      const made: Relationship[] = [];
      for (let i = 0; i < n; i++) {
        const r = relationship({ kind, state: 'approvalPending', approver, approverEmail: approver.email!, ...otherPartner(i) });
        const res = await handles[0]!.relationships.create(r, []);
        if (!res.created) throw new Error(`setup: ${r.id} was not created`);
        made.push(r);
      }
      return made;
    };
    /** Every relationship the racing partners hold, as stored. */
    const allOf = async (racers: number) =>
      (
        await Promise.all(
          Array.from({ length: racers }, (_, i) => handles[0]!.relationships.listByPartner(otherPartner(i).partnerTenantId, 10_000)),
        )
      ).flat();

    it(
      'copies of a request card posted at once from several processes are all kept: each append is one atomic write',
      async () => {
        handles = await harness.openHandles(4);
        const [r] = await createRequests(1, newCustomer());
        const copy = (n: number) => ({ conversationId: 'a:1personal-megan', activityId: `1:racer-${n}` });
        await together(handles.map((h, i) => () => h.relationships.addCopy(r!.id, copy(i))));
        const copies = (await handles[0]!.relationships.get(r!.id))?.copies ?? [];
        expect(copies.map((c) => c.activityId).sort()).toEqual([0, 1, 2, 3].map((n) => copy(n).activityId));
      },
      RACE_TIMEOUT_MS,
    );

    it.each([
      ['delegation', 2, 25],
      ['delegation', 8, 10],
      ['por', 2, 25],
      ['por', 8, 10],
    ] as const)(
      "%s: %i approvals at once of different partners' requests for one customer (x%i customers): one active, the others activeChanged naming it",
      async (kind, racers, rounds) => {
        handles = await harness.openHandles(racers);
        const problems: string[] = [];
        const wins = new Array<number>(racers).fill(0);
        for (let round = 0; round < rounds; round++) {
          const approver = newCustomer();
          const requests = await createRequests(racers, approver, kind);
          const plans = requests.map((r, i) => approval(r, null, { activityId: `1:racer-${i}`, note: `racer ${i}` }));
          const results = await together(plans.map((p, i) => () => handles[i]!.relationships.decide(p)));

          const where = `round ${round}`;
          const winners = results.flatMap((r, i) => (r.status === 'recorded' ? [i] : []));
          if (winners.length !== 1) {
            problems.push(`${where}: ${winners.length} recorded (${results.map((r) => r.status).join(', ')})`);
            continue;
          }
          const w = winners[0]!;
          wins[w]!++;
          const won = plans[w]!.next;
          results.forEach((r, i) => {
            if (i === w) return;
            if (r.status !== 'activeChanged') problems.push(`${where}: racer ${i} got ${r.status}`);
            else if (r.active?.id !== won.id || r.active.partnerName !== `Partner ${w}` || key(r.active) !== key(won)) {
              problems.push(`${where}: racer ${i} was told ${r.active?.id} (${r.active?.partnerName}) is active, not ${won.id}`);
            }
          });
          const reader = handles[0]!;
          if (key(await reader.relationships.activeFor(approver.tenantId, kind)) !== key(won))
            problems.push(`${where}: activeFor is not the winner`);
          for (const [i, r] of requests.entries()) {
            const stored = await reader.relationships.get(r.id);
            if (key(stored) !== key(i === w ? won : r))
              problems.push(`${where}: racer ${i}'s request stored ${stored?.state} v${stored?.version}`);
            const responses = await reader.responses.forSubject(r.id);
            if (responses.length !== (i === w ? 1 : 0)) problems.push(`${where}: racer ${i} has ${responses.length} responses`);
            const outbox = await reader.outbox.forSubject(r.id);
            if (outbox.length !== (i === w ? 1 : 0)) problems.push(`${where}: racer ${i} has ${outbox.length} outbox entries`);
          }
          const chain = await reader.responses.chain(approver.tenantId);
          if (chain.length !== 1 || key(chain[0]) !== key((results[w] as Recorded).responses[0]))
            problems.push(`${where}: chain of ${chain.length}`);
        }
        expect(problems).toEqual([]);
        expect(wins.reduce((a, b) => a + b, 0)).toBe(rounds);

        // Exactly one active per customer, in the database as a whole.
        const all = await allOf(racers);
        expect(all).toHaveLength(racers * rounds);
        const active = all.filter((r) => r.state === 'active');
        expect(active).toHaveLength(rounds);
        expect(new Set(active.map((r) => r.customerTenantId)).size).toBe(rounds);
        expect(all.filter((r) => r.state !== 'active').every((r) => r.state === 'approvalPending' && r.version === 1)).toBe(true);
      },
      RACE_TIMEOUT_MS,
    );

    it.each([
      [2, 25],
      [8, 10],
    ])(
      '%i identical approvals at once of one request (x%i requests): one recorded, the others already with its response',
      async (racers, iterations) => {
        handles = await harness.openHandles(racers);
        const problems: string[] = [];
        for (let iteration = 0; iteration < iterations; iteration++) {
          const approver = newCustomer();
          const [r] = (await createRequests(1, approver)) as [Relationship];
          // Half the iterations: every racer sends the same response id, as the service does (`<id>/delegation`).
          const sameId = iteration % 2 === 0;
          const plans = handles.map((_, i) =>
            approval(r, null, {
              activityId: `1:racer-${i}`,
              note: `racer ${i}`,
              ...(sameId ? {} : { responseId: `${r.id}/delegation#${i}` }),
            }),
          );
          const results = await together(plans.map((p, i) => () => handles[i]!.relationships.decide(p)));

          const where = `iteration ${iteration} (${r.id})`;
          const winners = results.flatMap((x, i) => (x.status === 'recorded' ? [i] : []));
          if (winners.length !== 1) {
            problems.push(`${where}: ${winners.length} recorded (${results.map((x) => x.status).join(', ')})`);
            continue;
          }
          const w = winners[0]!;
          const won = results[w] as Recorded;
          if (won.responses[0]!.activityId !== `1:racer-${w}`) problems.push(`${where}: the winner's response is not its own`);
          results.forEach((x, i) => {
            if (i === w) return;
            if (x.status !== 'already') problems.push(`${where}: racer ${i} got ${x.status}`);
            else {
              if (key(x.response) !== key(won.responses[0])) problems.push(`${where}: racer ${i} got another response`);
              if (key(x.relationship) !== key(plans[w]!.next)) problems.push(`${where}: racer ${i} got another relationship state`);
            }
          });
          const reader = handles[0]!;
          const responses = await reader.responses.forSubject(r.id);
          if (responses.length !== 1 || key(responses[0]) !== key(won.responses[0]))
            problems.push(`${where}: ${responses.length} stored responses`);
          if (key(await reader.relationships.get(r.id)) !== key(plans[w]!.next))
            problems.push(`${where}: stored relationship is not the winner's`);
          if (key(await reader.relationships.activeFor(approver.tenantId, 'delegation')) !== key(plans[w]!.next))
            problems.push(`${where}: not active`);
          const outbox = (await reader.outbox.forSubject(r.id)).map(requested);
          if (sortedKeys(outbox).join() !== sortedKeys(plans[w]!.outbox).join())
            problems.push(`${where}: outbox has ${outbox.length} entries`);
        }
        expect(problems).toEqual([]);
      },
      RACE_TIMEOUT_MS,
    );

    it.each([
      [2, 15],
      [8, 6],
    ])(
      "%i approvals at once, each replacing the customer's active delegation (x%i rounds): one replaces it, never two active or none",
      async (racers, rounds) => {
        handles = await harness.openHandles(racers);
        const approver = newCustomer();
        let active = relationship({ state: 'active', approver, approverEmail: approver.email!, ...otherPartner(racers) });
        await handles[0]!.relationships.create(active, []);
        const problems: string[] = [];
        const replaced: string[] = [];
        for (let round = 0; round < rounds; round++) {
          const requests = await createRequests(racers, approver);
          const plans = requests.map((r, i) => approval(r, active, { activityId: `1:racer-${i}` }));
          const results = await together(plans.map((p, i) => () => handles[i]!.relationships.decide(p)));

          const where = `round ${round}`;
          const winners = results.flatMap((x, i) => (x.status === 'recorded' ? [i] : []));
          if (winners.length !== 1) {
            problems.push(`${where}: ${winners.length} recorded (${results.map((x) => x.status).join(', ')})`);
            break; // the next round's plans would all be stale
          }
          const w = winners[0]!;
          const won = plans[w]!;
          results.forEach((x, i) => {
            if (i !== w && (x.status !== 'activeChanged' || key(x.active) !== key(won.next))) {
              problems.push(`${where}: racer ${i} got ${x.status} ${x.status === 'activeChanged' ? x.active?.id : ''}`);
            }
          });
          const reader = handles[0]!;
          if (key(await reader.relationships.get(active.id)) !== key(won.replaces!.ended!.next))
            problems.push(`${where}: the old one is not ended as the winner said`);
          if (key(await reader.relationships.activeFor(approver.tenantId, 'delegation')) !== key(won.next))
            problems.push(`${where}: activeFor is not the winner`);
          replaced.push(active.id);
          active = won.next;
        }
        expect(problems).toEqual([]);

        const all = await allOf(racers + 1);
        expect(all.filter((r) => r.state === 'active').map((r) => r.id)).toEqual([active.id]);
        expect(
          all
            .filter((r) => r.state === 'terminated')
            .map((r) => r.id)
            .sort(),
        ).toEqual([...replaced].sort());
        const chain = await handles[0]!.responses.chain(approver.tenantId);
        expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: rounds * 2 }, (_, i) => i + 1));
        expect(chain.map((r) => r.slot)).toEqual(Array.from({ length: rounds }, () => ['delegation', 'termination']).flat());
        expect(verifyChain(chain)).toBe(true);
      },
      RACE_TIMEOUT_MS,
    );
  });
}
