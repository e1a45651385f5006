import { close } from '../../../src/offers/rules';
import type { DecideResult } from '../../../src/offers/store';
import type { Offer } from '../../../src/offers/types';
import type { ResponseRecord } from '../../../src/responses/types';
import { verifyChain } from '../../../src/store/chain';
import type { Store } from '../../../src/store/types';
import {
  T0,
  TENANT,
  deliverCard,
  delivered,
  diego,
  lee,
  megan,
  notifyIssuer,
  offer,
  plus,
  plusDays,
  purchaseLine,
  unstorableEntry,
} from '../support/fixtures';
import type { ContractContext } from './context';
import { RACE_TIMEOUT_MS, fresh, key, outboxChecks, requested, sortedKeys, textOf } from './helpers';

/** `one handle` > `offers`, `decide` and `all or nothing`: offers, their decisions and the response chain these extend. */
export function offersContract(ctx: ContractContext): void {
  const { clock, nowIso, decision } = ctx;
  const { expectOutbox } = outboxChecks(ctx);
  let store: Store;
  beforeEach(() => (store = ctx.store()));

  /** Creates a sent offer (delivered on creation, as when the approver already chats with the bot). */
  const createSent = async (o: Partial<Offer> = {}) => {
    const built = offer({ state: 'sent', ...o });
    const r = await store.offers.create(built, [deliverCard(built, `a:1personal-${built.approver!.aadObjectId}`)]);
    expect(r.created).toBe(true);
    return built;
  };

  describe('offers', () => {
    it('create stores the offer with its outbox entries; get returns it; an unknown id is null', async () => {
      const o = offer({ kind: 'trial', approverEmail: 'diego@litware.com' });
      const entries = [deliverCard(o, 'a:1personal-diego'), notifyIssuer(o, `${o.id} is on its way`)];
      expect(await store.offers.create(o, entries)).toEqual({ created: true, offer: o });
      expect(await store.offers.get(o.id)).toEqual(o);
      await expectOutbox(o.id, fresh(entries, T0));
      // A `$`-prefixed key comes back as it went in (MongoDB must store it escaped, never as an operator).
      const notice = (await store.outbox.forSubject(o.id)).find((e) => !e.onSent)!;
      expect(key(notice.action)).toContain('"$where":"keys like this must never reach MongoDB raw"');
      expect(await store.offers.get('T-22222Z')).toBeNull();
    });

    it.each([
      ['P1M', 'monthly'],
      ['P1Y', 'monthly'],
      ['P1Y', 'annual'],
      ['P3Y', 'monthly'],
      ['P3Y', 'annual'],
    ] as const)("keeps a purchase offer's term %s and billing %s through create, update and every read", async (term, billing) => {
      const o = offer({ state: 'sent', term, billing });
      await store.offers.create(o, []);
      expect(await store.offers.get(o.id)).toEqual(o);
      const next = close(o, 'withdrawn', clock.now);
      expect(await store.offers.update(next, o.version, [])).toBe(true);
      expect(await store.offers.get(o.id)).toMatchObject({ term, billing, state: 'withdrawn' });
      expect((await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, limit: 10 })).find((x) => x.id === o.id)).toMatchObject({
        term,
        billing,
      });
    });

    it('reads an offer stored before terms existed as it was: a billing and no term', async () => {
      const { term: _term, ...stored } = offer({ state: 'sent', billing: 'annual' });
      await store.offers.create(stored, []);
      const read = await store.offers.get(stored.id);
      expect(read).toEqual(stored);
      expect(read).not.toHaveProperty('term');
    });

    it('duplicate guard: a second create with the same pendingKey returns the first offer and stores nothing', async () => {
      const first = offer();
      await store.offers.create(first, [notifyIssuer(first, 'first')]);
      clock.now = new Date(plus(T0, 1));
      const again: Offer = { ...first, id: 'P-9XK4TQ', createdAt: nowIso(), expiresAt: plusDays(nowIso(), 30) };
      expect(again.pendingKey).toBe(first.pendingKey);

      expect(await store.offers.create(again, [notifyIssuer(again, 'second')])).toEqual({ created: false, offer: first });
      expect(await store.offers.get(again.id)).toBeNull();
      expect(await store.outbox.forSubject(again.id)).toEqual([]);
      await expectOutbox(first.id, fresh([notifyIssuer(first, 'first')], T0));
      expect((await store.outbox.stats()).pending).toBe(1);
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, limit: 10 })).toEqual([first]);
    });

    it.each(['accepted', 'declined', 'withdrawn', 'expired'] as const)(
      'duplicate guard: once the first offer is %s, an identical offer can be created (and guards in turn)',
      async (end) => {
        const first = await createSent();
        clock.now = new Date(plus(T0, 60));
        if (end === 'accepted' || end === 'declined') {
          const d = decision(first, end);
          expect((await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox)).status).toBe('recorded');
        } else {
          const next = close(first, end, clock.now);
          expect(await store.offers.update(next, first.version, [notifyIssuer(next, end)])).toBe(true);
        }
        const stored = await store.offers.get(first.id);
        expect(stored?.state).toBe(end);
        expect(stored?.pendingKey).toBeUndefined();

        const second: Offer = { ...offer({ state: 'sent', lines: first.lines }), createdAt: nowIso() };
        expect(second.pendingKey).toBe(first.pendingKey);
        expect(await store.offers.create(second, [])).toEqual({ created: true, offer: second });

        const third: Offer = { ...second, id: 'P-7HQ3MW' };
        expect(await store.offers.create(third, [notifyIssuer(third, 'third')])).toEqual({ created: false, offer: second });
        expect(await store.offers.get(third.id)).toBeNull();
        expect(await store.outbox.forSubject(third.id)).toEqual([]);
      },
    );

    it('update is a compare-and-set on version: a stale expectedVersion returns false and writes nothing, outbox included', async () => {
      const o = offer();
      await store.offers.create(o, []);
      clock.now = new Date(plus(T0, 10));
      const sent = delivered(o, megan, nowIso());
      const entries = [deliverCard(sent, 'a:1personal-megan')];
      expect(await store.offers.update(sent, o.version + 1, entries)).toBe(false);
      expect(await store.offers.update(sent, o.version - 1, entries)).toBe(false);
      expect(await store.offers.get(o.id)).toEqual(o);
      expect(await store.outbox.forSubject(o.id)).toEqual([]);

      expect(await store.offers.update(sent, o.version, entries)).toBe(true);
      expect(await store.offers.get(o.id)).toEqual(sent);
      await expectOutbox(o.id, fresh(entries, nowIso()));

      // The same write again is stale now: the version moved to 2.
      clock.now = new Date(plus(T0, 20));
      const withdrawn = close(o, 'withdrawn', clock.now);
      expect(await store.offers.update(withdrawn, o.version, [notifyIssuer(withdrawn, 'withdrawn')])).toBe(false);
      expect(await store.offers.get(o.id)).toEqual(sent);
      expect(await store.outbox.forSubject(o.id)).toHaveLength(1);
      expect(await store.offers.update(withdrawn, 42, [])).toBe(false);
      expect(await store.offers.update({ ...withdrawn, id: 'P-MISSNG' }, 1, [notifyIssuer(withdrawn, 'x')])).toBe(false);
      expect((await store.outbox.stats()).pending).toBe(1);
    });

    it("listByPartner lists one partner's offers newest first, up to limit, and filters by approver email in any case", async () => {
      const mk = (minutes: number, o: Partial<Offer> = {}) => offer({ createdAt: plus(T0, minutes), ...o });
      const a1 = mk(-50);
      const b1 = mk(-40, { approverEmail: 'diego@litware.com' });
      const a2 = mk(-30, { state: 'sent' });
      const other = mk(-20, { partnerTenantId: TENANT.northwind, partnerName: 'Northwind Traders' });
      const a3 = mk(-10, { kind: 'trial' });
      for (const o of [a2, other, a1, a3, b1]) expect((await store.offers.create(o, [])).created).toBe(true);

      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, limit: 10 })).toEqual([a3, a2, b1, a1]);
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, limit: 2 })).toEqual([a3, a2]);
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, approverEmail: 'admin@contoso.com', limit: 10 })).toEqual(
        [a3, a2, a1],
      );
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, approverEmail: 'Admin@Contoso.COM', limit: 10 })).toEqual(
        [a3, a2, a1],
      );
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, approverEmail: 'diego@litware.com', limit: 10 })).toEqual(
        [b1],
      );
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.northwind, limit: 10 })).toEqual([other]);
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.litware, limit: 10 })).toEqual([]);
    });

    // The order an index must give MongoDB without a sort: (createdAt desc, id asc), as SQLite's `created_at DESC, id`.
    it('listByPartner orders offers created at the same instant by id, ascending, with and without the approver filter', async () => {
      const at = plus(T0, -5);
      const [x, y, z] = ['P-33333C', 'P-33333A', 'P-33333B'].map((id) => offer({ id, createdAt: at }));
      const newer = offer({ id: 'P-33333Z', createdAt: plus(T0, -1), approverEmail: 'diego@litware.com' });
      for (const o of [x!, newer, y!, z!]) expect((await store.offers.create(o, [])).created).toBe(true);
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, limit: 10 })).toEqual([newer, y, z, x]);
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, approverEmail: x!.approverEmail, limit: 2 })).toEqual([
        y,
        z,
      ]);
    });

    it("customersOf summarises a partner's offers per approver email, most recent activity first", async () => {
      // admin@contoso.com: one accepted, one sent (pending), one withdrawn; the latest created at T0-10.
      const accepted = await createSent({ createdAt: plus(T0, -300) });
      const d = decision(accepted, 'accepted');
      expect((await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox)).status).toBe('recorded');
      await createSent({ createdAt: plus(T0, -200) });
      const withdrawn = offer({ createdAt: plus(T0, -10) });
      await store.offers.create(withdrawn, []);
      expect(await store.offers.update(close(withdrawn, 'withdrawn', clock.now), 1, [])).toBe(true);
      // diego@litware.com: two awaiting delivery (no customer tenant known yet), the latest at T0-5.
      await store.offers.create(offer({ approverEmail: 'diego@litware.com', createdAt: plus(T0, -100) }), []);
      await store.offers.create(offer({ approverEmail: 'diego@litware.com', createdAt: plus(T0, -5) }), []);
      // Another partner's offer to the same approver does not count.
      await store.offers.create(offer({ partnerTenantId: TENANT.northwind, partnerName: 'Northwind Traders', createdAt: T0 }), []);

      const summaries = await store.offers.customersOf(TENANT.fabrikam);
      expect(summaries).toEqual([
        { approverEmail: 'diego@litware.com', offers: 2, pending: 2, accepted: 0, lastActivityAt: plus(T0, -5) },
        {
          approverEmail: 'admin@contoso.com',
          customerTenantId: TENANT.contoso,
          offers: 3,
          pending: 1,
          accepted: 1,
          lastActivityAt: plus(T0, -10),
        },
      ]);
      expect(summaries[0]!.customerTenantId).toBeUndefined();
      expect(await store.offers.customersOf(TENANT.northwind)).toEqual([
        { approverEmail: 'admin@contoso.com', offers: 1, pending: 1, accepted: 0, lastActivityAt: T0 },
      ]);
      expect(await store.offers.customersOf(TENANT.litware)).toEqual([]);
    });

    it('listAwaitingDelivery returns the offers awaiting delivery to that email (any case), oldest first', async () => {
      const later = offer({ createdAt: plus(T0, -10) });
      const earlier = offer({ createdAt: plus(T0, -20), kind: 'trial' });
      const otherEmail = offer({ approverEmail: 'diego@litware.com', createdAt: plus(T0, -30) });
      const sent = offer({ state: 'sent', createdAt: plus(T0, -40) });
      const withdrawn = offer({ createdAt: plus(T0, -50) });
      for (const o of [later, otherEmail, earlier, sent, withdrawn]) await store.offers.create(o, []);
      expect(await store.offers.update(close(withdrawn, 'withdrawn', clock.now), 1, [])).toBe(true);

      expect(await store.offers.listAwaitingDelivery('admin@contoso.com')).toEqual([earlier, later]);
      expect(await store.offers.listAwaitingDelivery('ADMIN@contoso.com')).toEqual([earlier, later]);
      expect(await store.offers.listAwaitingDelivery('diego@litware.com')).toEqual([otherEmail]);
      expect(await store.offers.listAwaitingDelivery('lee.gu@contoso.com')).toEqual([]);
    });

    it('listPendingFor returns the offers sent to that approver and not yet answered, oldest first', async () => {
      const newer = await createSent({ createdAt: plus(T0, -10) });
      const older = await createSent({ createdAt: plus(T0, -20), kind: 'trial' });
      const answered = await createSent({ createdAt: plus(T0, -30) });
      const d = decision(answered, 'declined');
      expect((await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox)).status).toBe('recorded');
      await createSent({ approver: lee, approverEmail: 'lee.gu@contoso.com', createdAt: plus(T0, -40) });
      await createSent({ approver: diego, approverEmail: 'diego@litware.com', createdAt: plus(T0, -50) });
      await store.offers.create(offer({ createdAt: plus(T0, -60) }), []); // awaiting delivery: nobody known yet

      expect(await store.offers.listPendingFor({ tenantId: TENANT.contoso, aadObjectId: megan.aadObjectId })).toEqual([older, newer]);
      expect(await store.offers.listPendingFor({ tenantId: TENANT.litware, aadObjectId: megan.aadObjectId })).toEqual([]);
      expect(await store.offers.listPendingFor({ tenantId: TENANT.litware, aadObjectId: diego.aadObjectId })).toHaveLength(1);
    });

    it('listExpired returns pending offers whose expiry has come, oldest expiry first, at most limit', async () => {
      const exp = (days: number) => plus(T0, days * 24 * 60);
      const sentDue = offer({ state: 'sent', expiresAt: exp(-2) });
      const awaitingDue = offer({ expiresAt: exp(-1) });
      const dueNow = offer({ expiresAt: T0 }); // isExpired: now >= expiresAt
      const notYet = offer({ state: 'sent', expiresAt: plus(T0, 1) });
      const acceptedLongAgo = offer({ state: 'sent', expiresAt: exp(-5) });
      const withdrawnLongAgo = offer({ expiresAt: exp(-4) });
      for (const o of [dueNow, notYet, acceptedLongAgo, awaitingDue, withdrawnLongAgo, sentDue]) await store.offers.create(o, []);
      const d = decision(acceptedLongAgo, 'accepted');
      expect((await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox)).status).toBe('recorded');
      expect(await store.offers.update(close(withdrawnLongAgo, 'withdrawn', clock.now), 1, [])).toBe(true);

      expect(await store.offers.listExpired(T0, 10)).toEqual([sentDue, awaitingDue, dueNow]);
      expect(await store.offers.listExpired(T0, 2)).toEqual([sentDue, awaitingDue]);
      expect(await store.offers.listExpired(exp(-1.5), 10)).toEqual([sentDue]);
      expect(await store.offers.listExpired(exp(-3), 10)).toEqual([]);
      expect(await store.offers.listExpired(plus(T0, 1), 10)).toEqual([sentDue, awaitingDue, dueNow, notYet]);
    });

    it('setCard remembers where the card landed without changing the version', async () => {
      const o = await createSent();
      const card = { conversationId: 'a:1personal-megan', activityId: '1:1732525200000' };
      await store.offers.setCard(o.id, card);
      const stored = await store.offers.get(o.id);
      expect(stored).toEqual({ ...o, card });
      expect(stored?.version).toBe(o.version);

      // A write that read the offer before setCard still passes the version check.
      clock.now = new Date(plus(T0, 5));
      const withdrawn = close(stored!, 'withdrawn', clock.now);
      expect(await store.offers.update(withdrawn, o.version, [])).toBe(true);
      expect(await store.offers.get(o.id)).toEqual(withdrawn);
      expect(withdrawn.card).toEqual(card);
    });

    it('addCopy remembers copies of the card, the newest five, in order, without changing the version', async () => {
      const o = await createSent();
      const copy = (n: number) => ({ conversationId: 'a:1personal-megan', activityId: `1:17325252000${n}` });
      for (let n = 1; n <= 7; n++) await store.offers.addCopy(o.id, copy(n));
      const stored = await store.offers.get(o.id);
      expect(stored).toEqual({ ...o, copies: [3, 4, 5, 6, 7].map(copy) });
      expect(stored?.version).toBe(o.version);
      await store.offers.addCopy('T-NOPE22', copy(1));
      expect(await store.offers.get('T-NOPE22')).toBeNull();
    });
  });

  describe('decide', () => {
    it('recorded: offer updated, one response (seq 1, valid chain), outbox entries stored', async () => {
      const o = await createSent({ kind: 'trial' });
      clock.now = new Date(plus(T0, 90));
      const d = decision(o, 'accepted');
      const result = await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox);

      expect(result.status).toBe('recorded');
      const { response } = result as Extract<DecideResult, { status: 'recorded' }>;
      expect(result.offer).toEqual(d.next);
      expect(response).toEqual({ ...d.response, seq: 1, prevHash: '0'.repeat(64), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(await store.offers.get(o.id)).toEqual(d.next);
      expect(d.next.trialEndsAt).toBe(plusDays(nowIso(), 30));
      expect(await store.responses.forSubject(o.id)).toEqual([response]);
      const chain = await store.responses.chain(TENANT.contoso);
      expect(chain).toEqual([response]);
      expect(verifyChain(chain)).toBe(true);
      await expectOutbox(o.id, [...fresh([deliverCard(o, `a:1personal-${megan.aadObjectId}`)], T0), ...fresh(d.outbox, nowIso())]);
    });

    it('a second decision on the same subject returns already with the first response and writes nothing', async () => {
      const o = await createSent();
      clock.now = new Date(plus(T0, 90));
      const first = decision(o, 'declined');
      const recorded = await store.offers.decide(first.next, first.expectedVersion, first.response, first.outbox);
      expect(recorded.status).toBe('recorded');
      const { response } = recorded as Extract<DecideResult, { status: 'recorded' }>;
      const outboxBefore = await store.outbox.forSubject(o.id);

      // A double click: the same stale read, another decision.
      clock.now = new Date(plus(T0, 91));
      const click = decision(o, 'accepted', { activityId: '1:second-click' });
      expect(await store.offers.decide(click.next, click.expectedVersion, click.response, click.outbox)).toEqual({
        status: 'already',
        offer: first.next,
        response,
      });
      // A colleague who read the offer after the decision (version 2) and tries anyway.
      const late = decision(first.next, 'accepted', { activityId: '1:late' });
      expect(await store.offers.decide(late.next, late.expectedVersion, late.response, late.outbox)).toEqual({
        status: 'already',
        offer: first.next,
        response,
      });

      expect(await store.offers.get(o.id)).toEqual(first.next);
      expect(await store.responses.forSubject(o.id)).toEqual([response]);
      expect(await store.responses.chain(TENANT.contoso)).toEqual([response]);
      expect(sortedKeys(await store.outbox.forSubject(o.id))).toEqual(sortedKeys(outboxBefore));
    });

    it('a stale version is a conflict with the current offer, and nothing is written', async () => {
      const o = await createSent();
      // The card landed again somewhere else: version 2 (as a re-delivery would).
      clock.now = new Date(plus(T0, 30));
      const redelivered: Offer = { ...o, deliveredAt: nowIso(), version: 2 };
      expect(await store.offers.update(redelivered, 1, [])).toBe(true);

      clock.now = new Date(plus(T0, 90));
      const d = decision(o, 'accepted'); // built from version 1
      expect(await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox)).toEqual({
        status: 'conflict',
        offer: redelivered,
      });
      expect(await store.offers.get(o.id)).toEqual(redelivered);
      expect(await store.responses.forSubject(o.id)).toEqual([]);
      expect(await store.responses.chain(TENANT.contoso)).toEqual([]);
      expect(await store.outbox.forSubject(o.id)).toHaveLength(1); // the card from create

      // Re-read and re-decide: recorded, and the chain starts at 1 (the conflict did not move it).
      const again = decision(redelivered, 'accepted');
      const r = await store.offers.decide(again.next, again.expectedVersion, again.response, again.outbox);
      expect(r.status).toBe('recorded');
      expect((r as Extract<DecideResult, { status: 'recorded' }>).response.seq).toBe(1);
    });

    it('decisions on several offers of one customer form one verifiable chain, seq 1..n; each customer has its own', async () => {
      const contosoOffers = [
        await createSent(),
        await createSent({ kind: 'trial' }),
        await createSent({ approver: lee, approverEmail: 'lee.gu@contoso.com' }),
        await createSent(),
      ];
      const litwareOffer = await createSent({ approver: diego, approverEmail: 'diego@litware.com' });
      const recorded: ResponseRecord[] = [];
      for (const [i, o] of [...contosoOffers.slice(0, 2), litwareOffer, ...contosoOffers.slice(2)].entries()) {
        clock.now = new Date(plus(T0, 60 + i));
        const d = decision(o, i % 2 ? 'declined' : 'accepted');
        const r = await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox);
        expect(r.status).toBe('recorded');
        recorded.push((r as Extract<DecideResult, { status: 'recorded' }>).response);
      }

      const chain = await store.responses.chain(TENANT.contoso);
      expect(chain.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
      expect(chain.map((r) => r.subjectId)).toEqual(contosoOffers.map((o) => o.id));
      expect(chain).toEqual(recorded.filter((r) => r.customerTenantId === TENANT.contoso));
      expect(chain.slice(1).every((r, i) => r.prevHash === chain[i]!.hash)).toBe(true);
      expect(verifyChain(chain)).toBe(true);
      const litware = await store.responses.chain(TENANT.litware);
      expect(litware.map((r) => [r.seq, r.subjectId])).toEqual([[1, litwareOffer.id]]);
      expect(verifyChain(litware)).toBe(true);

      // The check can fail: a record changed after the fact no longer verifies.
      expect(verifyChain(chain.map((r) => (r.seq === 2 ? { ...r, decision: 'accepted' as const } : r)))).toBe(false);
    });
  });

  describe('all or nothing', () => {
    it('a decision whose outbox insert fails leaves no response, no offer change and no chain move', async () => {
      const before = await createSent();
      const d0 = decision(before, 'accepted');
      expect((await store.offers.decide(d0.next, d0.expectedVersion, d0.response, d0.outbox)).status).toBe('recorded');
      const o = await createSent({ kind: 'trial' });
      const headBefore = await store.responses.chain(TENANT.contoso);
      const outboxBefore = await store.outbox.forSubject(o.id);
      const statsBefore = await store.outbox.stats();

      clock.now = new Date(plus(T0, 90));
      const d = decision(o, 'accepted');
      // The first entry is fine, the second cannot be stored: both must go, with everything else.
      await expect(store.offers.decide(d.next, d.expectedVersion, d.response, [d.outbox[0]!, unstorableEntry(d.next)])).rejects.toThrow();

      expect(await store.offers.get(o.id)).toEqual(o);
      expect(await store.responses.forSubject(o.id)).toEqual([]);
      expect(await store.responses.chain(TENANT.contoso)).toEqual(headBefore);
      expect(sortedKeys(await store.outbox.forSubject(o.id))).toEqual(sortedKeys(outboxBefore));
      expect(await store.outbox.stats()).toEqual(statsBefore);

      // The head did not move: the same decision now records as seq 2 right after the first, and verifies.
      const r = await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox);
      expect(r.status).toBe('recorded');
      expect((r as Extract<DecideResult, { status: 'recorded' }>).response.seq).toBe(2);
      const chain = await store.responses.chain(TENANT.contoso);
      expect(chain.map((x) => x.seq)).toEqual([1, 2]);
      expect(verifyChain(chain)).toBe(true);
    });

    it('a create whose outbox insert fails inserts no offer, and its pendingKey stays free', async () => {
      const o = offer({ state: 'sent' });
      await expect(store.offers.create(o, [deliverCard(o, 'a:1personal-megan'), unstorableEntry(o)])).rejects.toThrow();
      expect(await store.offers.get(o.id)).toBeNull();
      expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, limit: 10 })).toEqual([]);
      expect(await store.outbox.forSubject(o.id)).toEqual([]);
      expect(await store.outbox.stats()).toEqual({ pending: 0, failed: 0 });

      const again = { ...o, id: 'P-3NRW8K' };
      expect(await store.offers.create(again, [deliverCard(again, 'a:1personal-megan')])).toEqual({ created: true, offer: again });
    });

    it('an update whose outbox insert fails leaves the offer as it was', async () => {
      const o = offer();
      await store.offers.create(o, []);
      const next = delivered(o, megan, plus(T0, 5));
      await expect(store.offers.update(next, o.version, [deliverCard(next, 'a:1personal-megan'), unstorableEntry(next)])).rejects.toThrow();
      expect(await store.offers.get(o.id)).toEqual(o);
      expect(await store.outbox.forSubject(o.id)).toEqual([]);
      expect(await store.offers.update(next, o.version, [])).toBe(true);
    });
  });
}

/** Races on offers, declared straight under `concurrent handles` (their names have no describe of their own). */
export function offersConcurrent(ctx: ContractContext): void {
  const { harness, together, decision } = ctx;
  let handles: Store[];

  /** Sets up offers sent to Megan through handle 0. */
  const createSentOffers = async (n: number, o: Partial<Offer> = {}) => {
    const made: Offer[] = [];
    for (let i = 0; i < n; i++) {
      const built = offer({ state: 'sent', ...o });
      const r = await handles[0]!.offers.create(built, [deliverCard(built, `a:1personal-${megan.aadObjectId}`)]);
      if (!r.created) throw new Error(`setup: ${built.id} was not created`);
      made.push(built);
    }
    return made;
  };

  it(
    'copies of a card posted at once from several processes are all kept: each append is one atomic write',
    async () => {
      handles = await harness.openHandles(4);
      const [o] = await createSentOffers(1);
      const copy = (n: number) => ({ conversationId: 'a:1personal-megan', activityId: `1:racer-${n}` });
      await together(handles.map((h, i) => () => h.offers.addCopy(o!.id, copy(i))));
      const copies = (await handles[0]!.offers.get(o!.id))?.copies ?? [];
      expect(copies.map((c) => c.activityId).sort()).toEqual([0, 1, 2, 3].map((n) => copy(n).activityId));
    },
    RACE_TIMEOUT_MS,
  );

  it.each([
    [2, 25],
    [8, 25],
  ])(
    '%i decisions at once on one offer (x%i offers): exactly one recorded, the others already with that response, one set of outbox entries',
    async (racers, iterations) => {
      handles = await harness.openHandles(racers);
      const offers = await createSentOffers(iterations);
      const problems: string[] = [];
      for (const [iteration, o] of offers.entries()) {
        // Half the iterations: every racer sends the same response id, as the offers service does (`<id>/offer`).
        const sameId = iteration % 2 === 0;
        const plans = handles.map((_, i) =>
          decision(o, i % 2 ? 'declined' : 'accepted', {
            note: `racer ${i}`,
            activityId: `1:racer-${i}`,
            ...(sameId ? {} : { responseId: `${o.id}/offer#${i}` }),
          }),
        );
        const results = await together(
          plans.map((p, i) => () => handles[i]!.offers.decide(p.next, p.expectedVersion, p.response, p.outbox)),
        );

        const where = `iteration ${iteration} (${o.id})`;
        const winners = results.flatMap((r, i) => (r.status === 'recorded' ? [i] : []));
        if (winners.length !== 1) {
          problems.push(`${where}: ${winners.length} recorded (${results.map((r) => r.status).join(', ')})`);
          continue;
        }
        const w = winners[0]!;
        const won = results[w] as Extract<DecideResult, { status: 'recorded' }>;
        if (won.response.activityId !== `1:racer-${w}`) problems.push(`${where}: the winner's response is not its own`);
        results.forEach((r, i) => {
          if (i === w) return;
          if (r.status !== 'already') problems.push(`${where}: racer ${i} got ${r.status}`);
          else {
            if (key(r.response) !== key(won.response)) problems.push(`${where}: racer ${i} got another response`);
            if (key(r.offer) !== key(plans[w]!.next)) problems.push(`${where}: racer ${i} got another offer state`);
          }
        });
        const reader = handles[0]!;
        const responses = await reader.responses.forSubject(o.id);
        if (responses.length !== 1 || key(responses[0]) !== key(won.response))
          problems.push(`${where}: ${responses.length} stored responses`);
        const stored = await reader.offers.get(o.id);
        if (key(stored) !== key(plans[w]!.next)) problems.push(`${where}: stored offer is not the winner's (${stored?.state})`);
        const outbox = await reader.outbox.forSubject(o.id);
        const decisionEntries = outbox.filter((e) => !e.onSent);
        if (outbox.length !== 3 || sortedKeys(decisionEntries.map(requested)).join() !== sortedKeys(plans[w]!.outbox).join()) {
          problems.push(`${where}: outbox has ${outbox.length} entries: ${decisionEntries.map(textOf).join(' | ')}`);
        }
      }
      expect(problems).toEqual([]);

      const chain = await handles[0]!.responses.chain(TENANT.contoso);
      expect(chain.map((r) => r.seq)).toEqual(offers.map((_, i) => i + 1));
      expect(chain.map((r) => r.subjectId)).toEqual(offers.map((o) => o.id));
      expect(verifyChain(chain)).toBe(true);
    },
    RACE_TIMEOUT_MS,
  );

  it.each([
    [2, 10],
    [8, 5],
  ])(
    '%i decisions at once on different offers of one customer (x%i rounds): all recorded, one chain, seq 1..n without gaps',
    async (racers, rounds) => {
      handles = await harness.openHandles(racers);
      const all: Offer[] = [];
      const statuses: string[] = [];
      for (let round = 0; round < rounds; round++) {
        // Different approvers of one customer tenant: the chain is per customer tenant, not per person.
        const batch: Offer[] = [];
        for (let i = 0; i < racers; i++) {
          const approver = i % 2 ? lee : megan;
          batch.push(...(await createSentOffers(1, { approver, approverEmail: approver.email! })));
        }
        const plans = batch.map((o, i) => decision(o, i % 3 ? 'accepted' : 'declined', { note: `round ${round}` }));
        const results = await together(
          plans.map((p, i) => () => handles[i]!.offers.decide(p.next, p.expectedVersion, p.response, p.outbox)),
        );
        statuses.push(...results.map((r) => r.status));
        all.push(...batch);
      }
      expect(statuses.filter((s) => s !== 'recorded')).toEqual([]);

      const chain = await handles[0]!.responses.chain(TENANT.contoso);
      expect(chain.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
      expect(new Set(chain.map((r) => r.subjectId))).toEqual(new Set(all.map((o) => o.id)));
      expect(verifyChain(chain)).toBe(true);
      for (const o of all.slice(-racers)) {
        expect(await handles[0]!.responses.forSubject(o.id)).toHaveLength(1);
        expect((await handles[0]!.offers.get(o.id))?.version).toBe(2);
        expect(await handles[0]!.outbox.forSubject(o.id)).toHaveLength(3);
      }
    },
    RACE_TIMEOUT_MS,
  );

  it.each([
    [2, 10],
    [8, 10],
  ])(
    '%i identical creates at once (x%i rounds): one created, the others get it back, only its outbox entries exist',
    async (racers, rounds) => {
      handles = await harness.openHandles(racers);
      const problems: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const lines = [purchaseLine()];
        const candidates = handles.map(() => offer({ state: 'sent', lines, createdAt: plus(T0, round) }));
        if (new Set(candidates.map((c) => c.pendingKey)).size !== 1) throw new Error('setup: the candidates must share a pendingKey');
        const results = await together(
          candidates.map(
            (c, i) => () => handles[i]!.offers.create(c, [deliverCard(c, 'a:1personal-megan'), notifyIssuer(c, `racer ${i}`)]),
          ),
        );
        const created = results.flatMap((r, i) => (r.created ? [i] : []));
        if (created.length !== 1) {
          problems.push(`round ${round}: ${created.length} created`);
          continue;
        }
        const winner = candidates[created[0]!]!;
        results.forEach((r, i) => {
          if (key(r.offer) !== key(winner)) problems.push(`round ${round}: racer ${i} got ${r.offer.id}, not ${winner.id}`);
        });
        for (const [i, c] of candidates.entries()) {
          const stored = await handles[0]!.offers.get(c.id);
          const outbox = await handles[0]!.outbox.forSubject(c.id);
          const mine = c === winner;
          if (mine ? key(stored) !== key(c) : stored !== null) problems.push(`round ${round}: racer ${i}'s offer stored: ${!!stored}`);
          if (outbox.length !== (mine ? 2 : 0)) problems.push(`round ${round}: racer ${i} has ${outbox.length} outbox entries`);
        }
      }
      expect(problems).toEqual([]);
      expect(await handles[0]!.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, limit: 1000 })).toHaveLength(rounds);
      expect((await handles[0]!.outbox.stats()).pending).toBe(rounds * 2);
    },
    RACE_TIMEOUT_MS,
  );
}
