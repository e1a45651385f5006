import { randomUUID } from 'node:crypto';
import type { Relationship, RelationshipKind } from '../../src/delegation/types';
import type { Lead, Listing, ListingQuery } from '../../src/marketplace/types';
import type { NewOutboxEntry, OutboxEntry } from '../../src/notifications/types';
import { applyDecision, close } from '../../src/offers/rules';
import type { Decision, Offer, Person } from '../../src/offers/types';
import type { ResponseRecord } from '../../src/responses/types';
import { GENESIS_HASH, canonical, verifyChain } from '../../src/store/chain';
import type { PipelineCursor, PipelineItem, PipelinePage, PipelineQuery } from '../../src/dashboard/types';
import type { RelationshipDecideResult, RelationshipDecision } from '../../src/delegation/store';
import type { DecideResult } from '../../src/offers/store';
import type { Store } from '../../src/store/types';
import {
  T0,
  TENANT,
  alex,
  approvedRel,
  conversation,
  declinedRel,
  deliverCard,
  delivered,
  deliveredRel,
  diego,
  edited,
  endedRel,
  lead,
  leadCard,
  leadConfirmation,
  lee,
  listing,
  listingCorpus,
  megan,
  newResponse,
  notifyIssuer,
  notificationChannel,
  notifyRelIssuer,
  offer,
  otherPartner,
  partner,
  partnerNotice,
  partnerRef,
  person,
  plus,
  plusDays,
  purchaseLine,
  relCard,
  relResponse,
  relationship,
  requester,
  terminationResponse,
  unstorableEntry,
  unstorableLeadEntry,
  unstorableRelEntry,
  updateCard,
  type CorpusKey,
} from './support/fixtures';

/** What one adapter's test file provides to run the contract against it. */
export interface StoreHarness {
  /** Once before the suite (start a server, say). */
  setup?(): Promise<void>;
  /** A fresh, empty store whose clock is `now` (the real clock when omitted). */
  open(now?: () => Date): Promise<Store>;
  /**
   * `n` handles on ONE fresh, empty database, each its own connection, able to run at the same time (real clock).
   * Tests use handle 0 to set up and to read back.
   */
  openHandles(n: number): Promise<Store[]>;
  /**
   * Starts every call at the same instant, as far as the backend allows; each call makes exactly one call on a
   * handle of its own. Default: `Promise.all`, which is a real race when the handles do I/O (MongoDB).
   */
  together?<T>(calls: Array<() => Promise<T>>): Promise<T[]>;
  /** After each test: closes what `open` and `openHandles` returned and discards their data. */
  cleanup(): Promise<void>;
  /** Once after the suite. */
  dispose?(): Promise<void>;
}

const RACE_TIMEOUT_MS = 60_000;

/** The part of an outbox entry the caller chose; ids, times, state and lease are the store's. */
const requested = (e: OutboxEntry): NewOutboxEntry => ({
  target: e.target,
  action: e.action,
  onSent: e.onSent,
  subject: e.subject,
  partnerTenantId: e.partnerTenantId,
});
/** Comparison key for records: keys sorted, undefined dropped, so neither key order nor absent fields matter. */
const key = (v: unknown): string => canonical(v);
const sortedKeys = (vs: unknown[]): string[] => vs.map(key).sort();
const textOf = (e: OutboxEntry | NewOutboxEntry): string => key(e.action);

export function describeStoreContract(name: string, harness: StoreHarness): void {
  describe(`store contract: ${name}`, () => {
    const clock = { now: new Date(T0) };
    const nowIso = () => clock.now.toISOString();
    const together = <T>(calls: Array<() => Promise<T>>): Promise<T[]> =>
      harness.together ? harness.together(calls) : Promise.all(calls.map((c) => c()));

    if (harness.setup) beforeAll(() => harness.setup!(), 180_000);
    beforeEach(() => {
      clock.now = new Date(T0);
    });
    afterEach(() => harness.cleanup(), 60_000);
    if (harness.dispose) afterAll(() => harness.dispose!(), 60_000);

    /** Everything a decision by the offer's approver passes to `decide`, built the way the offers service does. */
    const decision = (o: Offer, d: Decision, extra: { note?: string; responseId?: string; activityId?: string } = {}) => {
      const next = applyDecision(o, d, clock.now);
      const response = newResponse(o, d, {
        at: nowIso(),
        ...(extra.responseId ? { id: extra.responseId } : {}),
        ...(extra.activityId ? { activityId: extra.activityId } : {}),
      });
      const card = o.card ?? { conversationId: response.conversationId, activityId: response.activityId };
      const outbox = [updateCard(next, card), notifyIssuer(next, `${o.id} ${d} ${extra.note ?? ''}`.trim())];
      return { next, expectedVersion: o.version, response, outbox };
    };

    /**
     * An approval by the request's approver, built the way the delegation service does: `shown` is the customer's
     * active relationship of that kind the approver was shown (null: none), which this one replaces.
     */
    const approval = (
      r: Relationship,
      shown: Relationship | null,
      extra: { responseId?: string; activityId?: string; note?: string } = {},
    ): RelationshipDecision => {
      const at = nowIso();
      const response = relResponse(r, 'approved', {
        at,
        ...(extra.responseId ? { id: extra.responseId } : {}),
        ...(extra.activityId ? { activityId: extra.activityId } : {}),
      });
      const next = approvedRel(r, at, shown ? partnerRef(shown) : undefined);
      const ended = shown ? { next: endedRel(shown, 'replaced', at, partnerRef(r)), expectedVersion: shown.version } : undefined;
      const click = { at, conversationId: response.conversationId, activityId: response.activityId };
      return {
        next,
        expectedVersion: r.version,
        replaces: { expectedActiveId: shown?.id ?? null, ...(ended ? { ended } : {}) },
        responses: [response, ...(shown ? [terminationResponse(shown, 'replaced', r.approver!, click)] : [])],
        outbox: [
          notifyRelIssuer(next, `${r.id} approved ${extra.note ?? ''}`.trim()),
          ...(ended ? [notifyRelIssuer(ended.next, `${ended.next.id} replaced by ${r.id}`)] : []),
        ],
      };
    };
    /** The approver declines the request. */
    const refusal = (r: Relationship, extra: { activityId?: string } = {}): RelationshipDecision => {
      const next = declinedRel(r, nowIso());
      return {
        next,
        expectedVersion: r.version,
        responses: [relResponse(r, 'declined', { at: nowIso(), ...(extra.activityId ? { activityId: extra.activityId } : {}) })],
        outbox: [notifyRelIssuer(next, `${r.id} declined`)],
      };
    };
    /** `by` (the customer's admin or the partner) ends an active relationship. */
    const revocation = (active: Relationship, by: Person): RelationshipDecision => {
      const next = endedRel(active, by.tenantId === active.customerTenantId ? 'revokedByCustomer' : 'revokedByPartner', nowIso());
      return {
        next,
        expectedVersion: active.version,
        responses: [terminationResponse(active, 'revoked', by, { at: nowIso() })],
        outbox: [notifyRelIssuer(next, `${active.id} revoked`)],
      };
    };

    describe('one handle', () => {
      let store: Store;
      beforeEach(async () => {
        store = await harness.open(() => clock.now);
      });

      /** The outbox entries as the store keeps them right after a write at `at`. */
      const fresh = (entries: NewOutboxEntry[], at: string) =>
        entries.map((e) => ({ ...e, state: 'pending', attempts: 0, createdAt: at, nextAttemptAt: at }));
      const outboxOf = async (subjectId: string) => (await store.outbox.forSubject(subjectId)).map(({ id: _id, lease: _l, ...rest }) => rest);
      const expectOutbox = async (subjectId: string, expected: object[]) => {
        const actual = await outboxOf(subjectId);
        expect(sortedKeys(actual)).toEqual(sortedKeys(expected));
      };

      /** Creates a sent offer (delivered on creation, as when the approver already chats with the bot). */
      const createSent = async (o: Partial<Offer> = {}) => {
        const built = offer({ state: 'sent', ...o });
        const r = await store.offers.create(built, [deliverCard(built, `a:1personal-${built.approver!.aadObjectId}`)]);
        expect(r.created).toBe(true);
        return built;
      };

      describe('basics', () => {
        it('reports its kind and answers ping', async () => {
          expect(['sqlite', 'mongo']).toContain(store.kind);
          await expect(store.ping()).resolves.toBeUndefined();
        });
      });

      describe('partners', () => {
        it('upsert then get returns the partner; a second upsert replaces it; an unknown tenant is null', async () => {
          const fabrikam = partner();
          await store.partners.upsert(fabrikam);
          expect(await store.partners.get(TENANT.fabrikam)).toEqual(fabrikam);

          const renamed = partner({ name: 'Fabrikam Cloud Partners Ltd', authorizedServices: ['intune-p1'], adminAgents: undefined });
          await store.partners.upsert(renamed);
          expect(await store.partners.get(TENANT.fabrikam)).toEqual(renamed);

          const northwind = partner({ tenantId: TENANT.northwind, name: 'Northwind Traders', cloud: '21vianet', programs: [] });
          await store.partners.upsert(northwind);
          expect(await store.partners.get(TENANT.northwind)).toEqual(northwind);
          expect(await store.partners.get(TENANT.fabrikam)).toEqual(renamed);
          expect(await store.partners.get(TENANT.litware)).toBeNull();
        });

        it('notification channel: set, get, replace, clear; per tenant; an unknown tenant is null', async () => {
          expect(await store.channels.get(TENANT.fabrikam)).toBeNull();
          await store.partners.upsert(partner());
          expect(await store.channels.get(TENANT.fabrikam)).toBeNull(); // a partner without a channel

          const general = notificationChannel();
          await store.channels.set(TENANT.fabrikam, general);
          expect(await store.channels.get(TENANT.fabrikam)).toEqual(general);

          // Optional names absent: they stay absent.
          const deals = notificationChannel({ channelName: undefined, teamName: undefined, setAt: plus(T0, 5) });
          await store.channels.set(TENANT.fabrikam, deals);
          const replaced = await store.channels.get(TENANT.fabrikam);
          expect(replaced).toEqual(deals);
          expect(replaced!.conversationId).not.toBe(general.conversationId);
          expect(Object.keys(replaced!).sort()).toEqual(['conversationId', 'serviceUrl', 'setAt', 'setBy', 'tenantId']);

          // Another partner's channel is its own.
          const northwind = notificationChannel({ tenantId: TENANT.northwind, teamName: 'Northwind Sales' });
          await store.channels.set(TENANT.northwind, northwind);
          expect(await store.channels.get(TENANT.northwind)).toEqual(northwind);
          expect(await store.channels.get(TENANT.fabrikam)).toEqual(deals);
          expect(await store.channels.get(TENANT.litware)).toBeNull();

          // null turns notifications off for that partner only; clearing again (or an unknown tenant) is no error.
          await store.channels.set(TENANT.fabrikam, null);
          expect(await store.channels.get(TENANT.fabrikam)).toBeNull();
          await store.channels.set(TENANT.fabrikam, null);
          await store.channels.set(TENANT.litware, null);
          expect(await store.channels.get(TENANT.fabrikam)).toBeNull();
          expect(await store.channels.get(TENANT.northwind)).toEqual(northwind);
          expect(await store.partners.get(TENANT.fabrikam)).toEqual(partner()); // the registry entry stays

          // A channel can be set again after being cleared.
          await store.channels.set(TENANT.fabrikam, general);
          expect(await store.channels.get(TENANT.fabrikam)).toEqual(general);
        });

        it('partners.upsert (the partners file, at every start) leaves the notification channel in place, and the channel is no part of the partner', async () => {
          const fabrikam = partner();
          await store.partners.upsert(fabrikam);
          const general = notificationChannel();
          await store.channels.set(TENANT.fabrikam, general);

          await store.partners.upsert(fabrikam);
          expect(await store.channels.get(TENANT.fabrikam)).toEqual(general);
          const renamed = partner({ name: 'Fabrikam Cloud Partners Ltd', adminAgents: undefined });
          await store.partners.upsert(renamed);
          expect(await store.channels.get(TENANT.fabrikam)).toEqual(general);
          expect(await store.partners.get(TENANT.fabrikam)).toEqual(renamed);

          // A channel set before the partner is in the registry survives its first upsert too.
          const northwind = notificationChannel({ tenantId: TENANT.northwind });
          await store.channels.set(TENANT.northwind, northwind);
          await store.partners.upsert(partner({ tenantId: TENANT.northwind, name: 'Northwind Traders' }));
          expect(await store.channels.get(TENANT.northwind)).toEqual(northwind);
        });
      });

      describe('conversations', () => {
        it('upsert then get returns the record as given, email and UPN in their original case; upsert replaces', async () => {
          const c = conversation(megan, {
            user: { aadObjectId: megan.aadObjectId, userId: megan.userId, name: megan.name, email: 'Megan.Bowen@Contoso.com', upn: 'MeganB@Contoso.onmicrosoft.com' },
          });
          await store.conversations.upsert(c);
          expect(await store.conversations.get(c.id)).toEqual(c);

          const later = { ...c, updatedAt: plus(T0, 5), reference: { ...c.reference, activityId: 'f:later' } };
          await store.conversations.upsert(later);
          expect(await store.conversations.get(c.id)).toEqual(later);
          expect(await store.conversations.get('a:1unknown')).toBeNull();
        });

        it('findPersonal returns the most recently updated active personal chat of that user, never an inactive one or a channel', async () => {
          const older = conversation(megan, { updatedAt: plus(T0, -60) });
          const newer = conversation(megan, { updatedAt: plus(T0, -10) });
          const newestInactive = conversation(megan, { updatedAt: plus(T0, -1), active: false, inactiveReason: 'uninstalled' });
          const channel = { ...conversation(megan, { updatedAt: T0 }), kind: 'channel' as const, id: '19:general@thread.tacv2' };
          for (const c of [newer, older, newestInactive, channel]) await store.conversations.upsert(c);

          expect(await store.conversations.findPersonal(TENANT.contoso, megan.aadObjectId)).toEqual(newer);
          expect(await store.conversations.findPersonal(TENANT.litware, megan.aadObjectId)).toBeNull();
          expect(await store.conversations.findPersonal(TENANT.contoso, lee.aadObjectId)).toBeNull();
        });

        it('findPersonalByEmail matches email and UPN in any case', async () => {
          const c = conversation(megan, {
            user: { aadObjectId: megan.aadObjectId, userId: megan.userId, name: megan.name, email: 'Megan.Bowen@Contoso.com', upn: 'MeganB@Contoso.onmicrosoft.com' },
          });
          await store.conversations.upsert(c);
          await store.conversations.upsert(conversation(lee));

          expect(await store.conversations.findPersonalByEmail('megan.bowen@contoso.com')).toEqual(c);
          expect(await store.conversations.findPersonalByEmail('MEGAN.BOWEN@CONTOSO.COM')).toEqual(c);
          expect(await store.conversations.findPersonalByEmail('meganb@contoso.onmicrosoft.com')).toEqual(c);
          expect(await store.conversations.findPersonalByEmail('MeganB@CONTOSO.onmicrosoft.COM')).toEqual(c);
          expect(await store.conversations.findPersonalByEmail('megan@contoso.com')).toBeNull();
        });

        it('findPersonalByEmail returns the most recently updated active chat and skips inactive ones', async () => {
          const first = conversation(megan, { updatedAt: plus(T0, -30) });
          const second = conversation(megan, { updatedAt: plus(T0, -20) });
          const third = conversation(megan, { updatedAt: plus(T0, -10), active: false, inactiveReason: 'ConversationBlockedByUser' });
          const group = { ...conversation(megan, { updatedAt: T0 }), kind: 'groupChat' as const, id: '19:meeting_abc@thread.v2' };
          for (const c of [second, third, first, group]) await store.conversations.upsert(c);
          expect(await store.conversations.findPersonalByEmail(megan.email!)).toEqual(second);

          await store.conversations.upsert({ ...first, updatedAt: plus(T0, -5) });
          expect((await store.conversations.findPersonalByEmail(megan.email!))?.id).toBe(first.id);
        });

        it('deactivate marks the record inactive with its reason and time, and lookups stop finding it', async () => {
          const c = conversation(megan);
          await store.conversations.upsert(c);
          const at = plus(T0, 15);
          await store.conversations.deactivate(c.id, 'BotNotInConversationRoster', at);

          expect(await store.conversations.get(c.id)).toEqual({ ...c, active: false, inactiveReason: 'BotNotInConversationRoster', updatedAt: at });
          expect(await store.conversations.findPersonal(TENANT.contoso, megan.aadObjectId)).toBeNull();
          expect(await store.conversations.findPersonalByEmail(megan.email!)).toBeNull();

          // Installing again makes it active (the bot upserts the full record).
          await store.conversations.upsert({ ...c, updatedAt: plus(T0, 30) });
          expect((await store.conversations.findPersonal(TENANT.contoso, megan.aadObjectId))?.id).toBe(c.id);
        });
      });

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

        it('listByPartner lists one partner\'s offers newest first, up to limit, and filters by approver email in any case', async () => {
          const mk = (minutes: number, o: Partial<Offer> = {}) => offer({ createdAt: plus(T0, minutes), ...o });
          const a1 = mk(-50);
          const b1 = mk(-40, { approverEmail: 'diego@litware.com' });
          const a2 = mk(-30, { state: 'sent' });
          const other = mk(-20, { partnerTenantId: TENANT.northwind, partnerName: 'Northwind Traders' });
          const a3 = mk(-10, { kind: 'trial' });
          for (const o of [a2, other, a1, a3, b1]) expect((await store.offers.create(o, [])).created).toBe(true);

          expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, limit: 10 })).toEqual([a3, a2, b1, a1]);
          expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, limit: 2 })).toEqual([a3, a2]);
          expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, approverEmail: 'admin@contoso.com', limit: 10 })).toEqual([a3, a2, a1]);
          expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, approverEmail: 'Admin@Contoso.COM', limit: 10 })).toEqual([a3, a2, a1]);
          expect(await store.offers.listByPartner({ partnerTenantId: TENANT.fabrikam, approverEmail: 'diego@litware.com', limit: 10 })).toEqual([b1]);
          expect(await store.offers.listByPartner({ partnerTenantId: TENANT.northwind, limit: 10 })).toEqual([other]);
          expect(await store.offers.listByPartner({ partnerTenantId: TENANT.litware, limit: 10 })).toEqual([]);
        });

        it('customersOf summarises a partner\'s offers per approver email, most recent activity first', async () => {
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
            { approverEmail: 'admin@contoso.com', customerTenantId: TENANT.contoso, offers: 3, pending: 1, accepted: 1, lastActivityAt: plus(T0, -10) },
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
          expect(await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox)).toEqual({ status: 'conflict', offer: redelivered });
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
          const contosoOffers = [await createSent(), await createSent({ kind: 'trial' }), await createSent({ approver: lee, approverEmail: 'lee.gu@contoso.com' }), await createSent()];
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
          await refusedActive(store.relationships.update(approvedRel(other, nowIso()), other.version, [notifyRelIssuer(other, 'approved')]), active.id);
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

        it('listByPartner lists one partner\'s relationships and requests newest first, up to limit', async () => {
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

          expect(await store.relationships.listPendingFor({ tenantId: TENANT.contoso, aadObjectId: megan.aadObjectId })).toEqual([older, newer]);
          expect(await store.relationships.listPendingFor({ tenantId: TENANT.litware, aadObjectId: megan.aadObjectId })).toEqual([]);
          expect(await store.relationships.listPendingFor({ tenantId: TENANT.contoso, aadObjectId: lee.aadObjectId })).toEqual([leeRequest]);
          expect(await store.relationships.listPendingFor({ tenantId: TENANT.litware, aadObjectId: diego.aadObjectId })).toEqual([diegoRequest]);
        });

        it('listDue returns open and active relationships whose dueAt has come, earliest first, at most limit', async () => {
          const at = (minutes: number) => plus(T0, minutes);
          const awaiting = relationship({ dueAt: at(-300) });
          const pending = relationship({ state: 'approvalPending', dueAt: at(-200) });
          const active = relationship({ state: 'active', dueAt: at(-100) });
          const dueNow = relationship({ kind: 'por', state: 'approvalPending', dueAt: T0 });
          const notYet = relationship({ dueAt: at(1) });
          const nothingDue = relationship({ kind: 'por', state: 'active' }); // partner of record: no end, no reminders
          expect(nothingDue.dueAt).toBeUndefined();
          // Ended ones are never due, even with a dueAt left over.
          const declined = relationship({ state: 'declined', dueAt: at(-400) });
          const expired = relationship({ state: 'expired', dueAt: at(-500) });
          const terminated = relationship({ state: 'terminated', dueAt: at(-600) });
          for (const r of [dueNow, terminated, notYet, active, declined, nothingDue, awaiting, expired, pending]) await createStored(r);

          expect(await store.relationships.listDue(T0, 10)).toEqual([awaiting, pending, active, dueNow]);
          expect(await store.relationships.listDue(T0, 2)).toEqual([awaiting, pending]);
          expect(await store.relationships.listDue(T0, 0)).toEqual([]);
          expect(await store.relationships.listDue(at(-250), 10)).toEqual([awaiting]);
          expect(await store.relationships.listDue(at(-1000), 10)).toEqual([]);
          expect(await store.relationships.listDue(at(1), 10)).toEqual([awaiting, pending, active, dueNow, notYet]);
        });

        it('setCard remembers where the request\'s card landed without changing the version', async () => {
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

          it('an approval with no active relationship makes the request the customer\'s active one', async () => {
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

          it('an approval replacing the active one ends it and activates the new one together; both responses chained in order', async () => {
            const old = await createStored(relationship({ ...otherPartner(1), state: 'active', createdAt: plusDays(T0, -100) }));
            const otherKind = await createStored(relationship({ ...otherPartner(1), kind: 'por', state: 'active', createdAt: plusDays(T0, -100) }));
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
            expect(await decide(refusal(first.next, { activityId: '1:late' }))).toEqual({ status: 'already', relationship: first.next, response });
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
            await expect(store.relationships.update(sent, r.version, [relCard(sent, 'a:1personal-megan'), unstorableRelEntry(sent)])).rejects.toThrow();
            expect(await store.relationships.get(r.id)).toEqual(r);
            expect(await store.outbox.forSubject(r.id)).toEqual([]);
            expect(await store.relationships.update(sent, r.version, [])).toBe(true);
          });
        });
      });

      describe('listings', () => {
        const save = async (l: Listing, expectedVersion = l.version - 1) => {
          expect(await store.listings.save(l, expectedVersion)).toBe(true);
          return l;
        };
        const search = (words: string[], o: Partial<ListingQuery> = {}) => store.listings.search({ words, limit: 20, offset: 0, ...o });
        const ids = async (words: string[], o: Partial<ListingQuery> = {}) => (await search(words, o)).map((r) => r.listing.id);

        it('save inserts with expectedVersion 0; get (by partner) and getById return it; a second insert for the partner or the id is false; unknown is null', async () => {
          const l = listing({ expertise: ['exchange'], contact: { name: alex.name, email: alex.email!, person: alex } });
          expect(await store.listings.save(l, 0)).toBe(true);
          expect(await store.listings.get(l.partnerTenantId)).toEqual(l);
          expect(await store.listings.getById(l.id)).toEqual(l);

          const samePartner = listing({ partnerTenantId: l.partnerTenantId, headline: 'A second listing' });
          expect(await store.listings.save(samePartner, 0)).toBe(false);
          expect(await store.listings.getById(samePartner.id)).toBeNull();
          const sameId = listing({ id: l.id, headline: 'Another partner, the same id' });
          expect(await store.listings.save(sameId, 0)).toBe(false);
          expect(await store.listings.get(sameId.partnerTenantId)).toBeNull();
          expect(await store.listings.get(l.partnerTenantId)).toEqual(l);

          expect(await store.listings.get(TENANT.northwind)).toBeNull();
          expect(await store.listings.getById('M-NQPE23')).toBeNull();
          expect(await ids([])).toEqual([l.id]);
        });

        it('save replaces by compare-and-set on version: a stale or unknown one is false and changes nothing, the search index included', async () => {
          const l = await save(listing({ headline: 'Security reviews' }));
          const v2 = edited(l, { headline: 'Identity reviews', countries: ['DE'] });
          expect(await store.listings.save(v2, 1)).toBe(true);
          expect(await store.listings.get(l.partnerTenantId)).toEqual(v2);

          const stale = edited(l, { headline: 'Stale edit about voice' });
          expect(stale.version).toBe(2);
          expect(await store.listings.save(stale, 1)).toBe(false);
          expect(await store.listings.getById(l.id)).toEqual(v2);
          expect(await ids(['voice'])).toEqual([]);
          expect(await ids(['identity'])).toEqual([l.id]);
          expect(await ids(['security'])).toEqual([]);

          const v3 = edited(v2, { headline: 'Identity and voice reviews' });
          expect(await store.listings.save(v3, 2)).toBe(true);
          expect(await store.listings.getById(l.id)).toEqual(v3);
          expect(await ids(['voice'])).toEqual([l.id]);

          // Never saved: nothing to compare with.
          const unknown = listing();
          expect(await store.listings.save(edited(unknown, {}), 1)).toBe(false);
          expect(await store.listings.get(unknown.partnerTenantId)).toBeNull();
          // The partner and the id are the listing's identity: an update naming another partner matches nothing.
          expect(await store.listings.save({ ...edited(v3, {}), partnerTenantId: TENANT.northwind }, 3)).toBe(false);
          expect(await store.listings.getById(l.id)).toEqual(v3);
        });

        it('refuses a save whose version is not expectedVersion + 1 (a caller bug), writing nothing', async () => {
          const l = listing();
          await expect(store.listings.save(l, 1)).rejects.toThrow(/version/);
          await expect(store.listings.save({ ...l, version: 2 }, 0)).rejects.toThrow(/version/);
          expect(await store.listings.get(l.partnerTenantId)).toBeNull();
          await save(l);
          await expect(store.listings.save(l, 1)).rejects.toThrow(/version/);
          expect(await store.listings.getById(l.id)).toEqual(l);
        });

        it('only published listings are found: publish and unpublish take effect at once, and an edit re-indexes the text', async () => {
          const other = await save(listing({ headline: 'Backup and recovery', updatedAt: plus(T0, -60) }));
          const draft = await save(listing({ headline: 'Power Platform dashboards', published: false }));
          expect(await ids(['dashboards'])).toEqual([]);
          expect(await ids([])).toEqual([other.id]);

          const published = await save(edited(draft, { published: true }));
          expect(await search(['dashboards'])).toEqual([{ listing: published, score: expect.any(Number) }]);
          expect(await ids([])).toEqual([published.id, other.id]);

          const renamed = await save(edited(published, { headline: 'Power BI reports' }));
          expect(await ids(['dashboards'])).toEqual([]);
          expect(await ids(['reports'])).toEqual([renamed.id]);

          const hidden = await save(edited(renamed, { published: false }));
          expect(await ids(['reports'])).toEqual([]);
          expect(await ids([])).toEqual([other.id]);
          expect(await store.listings.get(hidden.partnerTenantId)).toEqual(hidden);

          const again = await save(edited(hidden, { published: true }));
          expect(await ids(['reports'])).toEqual([again.id]);
          expect(await ids(['recovery', 'reports'])).toHaveLength(2);
        });

        it('equal scores: the most recently updated first, then by id', async () => {
          const text = { headline: 'Power BI dashboards', description: 'Reports for finance teams.', expertise: ['analytics'] };
          const older = await save(listing({ ...text, id: 'M-22222A', updatedAt: plus(T0, 1) }));
          const newerB = await save(listing({ ...text, id: 'M-22222C', updatedAt: plus(T0, 2) }));
          const newerA = await save(listing({ ...text, id: 'M-22222B', updatedAt: plus(T0, 2) }));
          const results = await search(['dashboards']);
          expect(results.map((r) => r.listing.id)).toEqual([newerA.id, newerB.id, older.id]);
          expect(new Set(results.map((r) => r.score)).size).toBe(1);
          expect(results[0]!.score).toBeGreaterThan(0);
          expect(await ids([])).toEqual([newerA.id, newerB.id, older.id]);
        });

        describe('search on a fixed corpus', () => {
          let corpus: Record<CorpusKey, Listing>;
          const idsOf = (...keys: CorpusKey[]) => keys.map((k) => corpus[k].id);
          beforeEach(async () => {
            corpus = listingCorpus();
            for (const l of Object.values(corpus)) await save(l);
          });

          it('a headline hit outranks a description-only hit; scores are positive, best first; the unpublished listing is never found', async () => {
            const results = await search(['security']);
            expect(results.map((r) => r.listing)).toEqual([corpus.A, corpus.B]);
            expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
            expect(results[1]!.score).toBeGreaterThan(0);
          });

          it('a services hit (by catalog name) outranks an expertise hit, which outranks a description hit', async () => {
            const results = await search(['exchange']);
            expect(results.map((r) => r.listing.id)).toEqual(idsOf('C', 'D', 'E'));
            expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
            expect(results[1]!.score).toBeGreaterThan(results[2]!.score);
            // By the service's catalog id too.
            expect(await ids(['online'])).toEqual(idsOf('C'));
          });

          it('words are OR-ed: a listing matching both words outranks one matching one of them', async () => {
            expect(await ids(['teams', 'voice'])).toEqual(idsOf('F', 'G'));
            expect(await ids(['voice'])).toEqual(idsOf('F'));
            expect(new Set(await ids(['security', 'exchange']))).toEqual(new Set(idsOf('A', 'B', 'C', 'D', 'E')));
          });

          it('words are prefixes on SQLite ("secur" finds "security"); MongoDB $text matches whole words only', async () => {
            if (store.kind === 'sqlite') {
              expect(await ids(['secur'])).toEqual(idsOf('A', 'B'));
              expect(await ids(['exch', 'voi'])).toEqual(expect.arrayContaining(idsOf('C', 'D', 'E', 'F')));
            } else {
              // $text has no prefix matching (documented in the store README): only whole words are found.
              expect(await ids(['secur'])).toEqual([]);
            }
            expect(await ids(['security'])).toEqual(idsOf('A', 'B'));
          });

          it('filters by country and by language inside the query, with words and without', async () => {
            expect(await ids(['exchange'], { country: 'DE' })).toEqual(idsOf('C', 'D'));
            expect(await ids(['exchange'], { language: 'fr' })).toEqual(idsOf('D', 'E'));
            expect(await ids(['exchange'], { country: 'DE', language: 'de' })).toEqual(idsOf('C', 'D'));
            expect(await ids(['exchange'], { country: 'FR', language: 'de' })).toEqual([]);
            expect(await ids(['exchange'], { country: 'GB' })).toEqual([]);
            expect(await ids(['security'], { country: 'AT' })).toEqual(idsOf('A'));
            expect(await ids([], { country: 'US' })).toEqual(idsOf('B', 'H', 'F'));
            expect(await ids([], { language: 'fr' })).toEqual(idsOf('E', 'D', 'H'));
            expect(await ids([], { country: 'CA', language: 'fr' })).toEqual(idsOf('H'));
            // The unpublished listing is in DE and speaks de: still never found.
            expect(await ids([], { country: 'DE' })).toEqual(idsOf('D', 'A', 'C'));
          });

          it('no words: every published listing, most recently updated first, score 0', async () => {
            const results = await search([]);
            expect(results.map((r) => r.listing)).toEqual(['E', 'B', 'G', 'D', 'H', 'A', 'F', 'C'].map((k) => corpus[k as CorpusKey]));
            expect(results.every((r) => r.score === 0)).toBe(true);
          });

          it('pages with limit and offset: pages are stable and add up to the whole list', async () => {
            const all = await ids([]);
            const pages: string[] = [];
            for (let offset = 0; offset < 10; offset += 3) pages.push(...(await ids([], { limit: 3, offset })));
            expect(pages).toEqual(all);
            expect(await ids([], { limit: 3, offset: 3 })).toEqual(all.slice(3, 6));
            expect(await ids([], { limit: 3, offset: 3 })).toEqual(all.slice(3, 6));

            const ranked = await ids(['security', 'exchange']);
            expect(ranked).toHaveLength(5);
            expect([...(await ids(['security', 'exchange'], { limit: 2 })), ...(await ids(['security', 'exchange'], { limit: 2, offset: 2 })), ...(await ids(['security', 'exchange'], { limit: 2, offset: 4 }))]).toEqual(ranked);
            expect(await ids(['exchange'], { limit: 2, offset: 1 })).toEqual(idsOf('D', 'E'));
            expect(await ids(['exchange'], { offset: 3 })).toEqual([]);
            expect(await ids(['exchange'], { limit: 0 })).toEqual([]);
          });

          it('query syntax in the words is harmless: quotes, *, NEAR, -, :, parentheses, ^ and braces only separate words', async () => {
            const nasty = ['"security', 'exch*', 'NEAR(voice', 'teams)', '-description:', 'headline:exchange', '^teams', '{headline}', 'AND', 'OR', 'NOT', '"', '*', '(', ')', ':', '-', "'", '\\'];
            const clean = ['security', 'exch', 'near', 'voice', 'teams', 'description', 'headline', 'exchange', 'and', 'or', 'not'];
            const found = await search(nasty);
            expect(found).toEqual(await search(clean));
            // Every listing that has one of the words, whatever the syntax around it (`exch` is a whole word only on MongoDB).
            expect(found.map((r) => r.listing.id)).toEqual(expect.arrayContaining(idsOf('A', 'B', 'C', 'D', 'E', 'F', 'G')));
            // Punctuation alone is no word at all: the same as no words.
            expect(await ids(['"', '*', '(', ')', '-', ':'])).toEqual(await ids([]));
            expect(await ids(['exchange"', 'OR', '"security'], { country: 'FR' })).toEqual(idsOf('E'));
          });
        });
      });

      describe('leads', () => {
        const listed = listing();
        /** Since when an earlier lead counts as the same request: the service's window, 7 days before `at`. */
        const windowFrom = (at: string) => plusDays(at, -7);
        /** Every pending outbox entry as requested (leased to the reader, so read once per test), in insertion order. */
        const pendingOutbox = async () => (await store.outbox.claim('reader', plusDays(T0, 365), plusDays(T0, 366), 1_000)).map(requested);

        it('create stores the lead with its outbox entries; get returns it; an unknown id is null', async () => {
          const ld = lead(listed, requester());
          const entries = [leadCard(ld, 'new lead'), leadConfirmation(ld)];
          expect(await store.leads.create(ld, entries, windowFrom(ld.createdAt))).toEqual({ created: true, lead: ld });
          expect(await store.leads.get(ld.id)).toEqual(ld);
          expect(await store.leads.get('C-NQPE23')).toBeNull();
          expect(await store.outbox.stats()).toEqual({ pending: 2, failed: 0, oldestPendingAt: T0 });
          const stored = await pendingOutbox();
          expect(sortedKeys(stored)).toEqual(sortedKeys(entries));
          expect(stored.find((e) => e.partnerTenantId === listed.partnerTenantId)).toEqual(entries[0]);
          expect(key(stored)).toContain('"$where":"keys like this must never reach MongoDB raw"');

          const { note: _n, ...noNote } = lead(listed, requester());
          expect(await store.leads.create(noNote, [], windowFrom(T0))).toEqual({ created: true, lead: noNote });
          expect(await store.leads.get(noNote.id)).toEqual(noNote);
        });

        it('the same requester asking the same partner at or after `since` gets that lead back, and nothing is written', async () => {
          const who = requester();
          const first = lead(listed, who);
          await store.leads.create(first, [leadCard(first, 'first')], windowFrom(T0));
          clock.now = new Date(plusDays(T0, 3));
          const again = lead(listed, who, { createdAt: nowIso(), note: 'Asking again' });

          expect(await store.leads.create(again, [leadCard(again, 'second'), leadConfirmation(again)], windowFrom(again.createdAt))).toEqual({
            created: false,
            lead: first,
          });
          expect(await store.leads.get(again.id)).toBeNull();
          // `since` is inclusive.
          expect(await store.leads.create(again, [leadCard(again, 'third')], first.createdAt)).toEqual({ created: false, lead: first });
          expect(await store.leads.get(again.id)).toBeNull();
          expect(await store.outbox.stats()).toEqual({ pending: 1, failed: 0, oldestPendingAt: T0 });
          expect(await pendingOutbox()).toEqual([leadCard(first, 'first')]);
        });

        it('a lead older than `since` does not count; of several that do, the newest (then the last inserted) is returned', async () => {
          const who = requester();
          const first = lead(listed, who);
          expect((await store.leads.create(first, [], windowFrom(T0))).created).toBe(true);
          // A moment after the first lead: it no longer counts, so this one is recorded.
          const second = lead(listed, who, { createdAt: plusDays(T0, 8) });
          expect(await store.leads.create(second, [leadCard(second, 'second')], plus(first.createdAt, 1))).toEqual({ created: true, lead: second });
          // Both in the window: the newer one.
          const third = lead(listed, who, { createdAt: plusDays(T0, 9) });
          expect(await store.leads.create(third, [], plusDays(T0, -1))).toEqual({ created: false, lead: second });
          // Two at the same instant (the second recorded when the first did not count): the one inserted last.
          const sameInstant = lead(listed, who, { createdAt: second.createdAt });
          expect(await store.leads.create(sameInstant, [], plus(second.createdAt, 1))).toEqual({ created: true, lead: sameInstant });
          expect(await store.leads.create(third, [], windowFrom(third.createdAt))).toEqual({ created: false, lead: sameInstant });
          expect(await store.leads.get(third.id)).toBeNull();
          expect((await store.outbox.stats()).pending).toBe(1);
        });

        it('another partner, another user of the tenant, or the same user id in another tenant is another request', async () => {
          const who = requester();
          const first = lead(listed, who);
          await store.leads.create(first, [], windowFrom(T0));
          const otherListing = listing();
          const others = [
            lead(otherListing, who),
            lead(listed, requester()),
            lead(listed, requester({ aadObjectId: who.aadObjectId, tenantId: TENANT.litware, email: 'megan@litware.com' })),
          ];
          for (const o of others) expect(await store.leads.create(o, [leadCard(o, o.id)], windowFrom(T0))).toEqual({ created: true, lead: o });
          for (const o of [first, ...others]) expect(await store.leads.get(o.id)).toEqual(o);
          expect((await store.outbox.stats()).pending).toBe(3);
          // And each of them now guards its own (requester, partner).
          for (const o of others) {
            const again = lead(otherListing, o.requester, { partnerTenantId: o.partnerTenantId });
            expect(await store.leads.create(again, [], windowFrom(T0))).toEqual({ created: false, lead: o });
          }
        });

        it('a create whose outbox insert fails writes neither the lead nor any entry, and the request can be made again', async () => {
          const who = requester();
          const ld = lead(listed, who);
          await expect(store.leads.create(ld, [leadCard(ld, 'fine'), unstorableLeadEntry(ld)], windowFrom(T0))).rejects.toThrow();
          expect(await store.leads.get(ld.id)).toBeNull();
          expect(await store.outbox.stats()).toEqual({ pending: 0, failed: 0 });

          const retried = lead(listed, who);
          expect(await store.leads.create(retried, [leadCard(retried, 'fine')], windowFrom(T0))).toEqual({ created: true, lead: retried });
          expect(await pendingOutbox()).toEqual([leadCard(retried, 'fine')]);
        });

        it('setTrial records the first trial only; an unknown lead is false', async () => {
          const ld = lead(listed, requester());
          await store.leads.create(ld, [], windowFrom(T0));
          expect(await store.leads.setTrial('C-NQPE23', 'T-3NRW8K')).toBe(false);
          expect(await store.leads.setTrial(ld.id, 'T-3NRW8K')).toBe(true);
          expect(await store.leads.setTrial(ld.id, 'T-4K7P2Q')).toBe(false);
          expect(await store.leads.get(ld.id)).toEqual({ ...ld, trialOfferId: 'T-3NRW8K' });
        });
      });

      describe('pipeline', () => {
        type Owner = { partnerTenantId: string; partnerName: string };
        const FABRIKAM: Owner = { partnerTenantId: TENANT.fabrikam, partnerName: 'Fabrikam Cloud Partners' };
        const NORTHWIND: Owner = { partnerTenantId: TENANT.northwind, partnerName: 'Northwind Traders' };
        const isaiah = person({ name: 'Isaiah Langer', tenantId: TENANT.fabrikam, email: 'isaiahl@fabrikam.com' });
        const at = (minutes: number) => plus(T0, minutes);
        const idOf = (i: PipelineItem) => (i.type === 'offer' ? i.offer.id : i.relationship.id);
        const itemOf = (x: Offer | Relationship): PipelineItem => ('lines' in x ? { type: 'offer', offer: x } : { type: 'relationship', relationship: x });
        const page = (q: Partial<PipelineQuery> = {}) => store.pipeline.page({ partnerTenantId: TENANT.fabrikam, limit: 50, ...q });
        /** The page holds exactly these rows, in this order, and nothing follows. */
        const expectRows = (p: PipelinePage, rows: Array<Offer | Relationship>) => {
          expect(p.items.map(idOf)).toEqual(rows.map((r) => r.id));
          expect(p.items).toEqual(rows.map(itemOf));
          expect(p.total).toBe(rows.length);
          expect(p.next).toBeUndefined();
        };
        const create = async <T extends Offer | Relationship>(row: T): Promise<T> => {
          if ('lines' in row) expect((await store.offers.create(row, [])).created).toBe(true);
          else expect((await store.relationships.create(row, [])).created).toBe(true);
          return row;
        };
        /** Every page from the first with this limit: the rows in order, checking each page's next and total on the way. */
        const allPages = async (q: Partial<PipelineQuery>, limit: number, total: number) => {
          const seen: PipelineItem[] = [];
          let after: PipelineCursor | undefined;
          for (let n = 0; n < 100; n++) {
            const p = await page({ ...q, limit, after });
            expect(p.total).toBe(total);
            seen.push(...p.items);
            if (!p.next) {
              expect(p.items.length).toBeLessThanOrEqual(limit);
              return seen;
            }
            expect(p.items).toHaveLength(limit);
            const last = p.items[p.items.length - 1]!;
            const position = last.type === 'offer' ? last.offer : last.relationship;
            expect(p.next).toEqual({ createdAt: position.createdAt, id: position.id });
            after = p.next;
          }
          throw new Error('pagination did not end');
        };

        /**
         * One partner's rows: offers and relationships of every kind, in many states, at times that tie across the two
         * (minute 30: a trial, a purchase and a delegation; minute 50: a trial and a partner-of-record request). The
         * other partner's copy has rows at the same times that match every filter the tests use, and must never show.
         */
        const corpus = (owner: Owner, n: number) => {
          const mine = owner === FABRIKAM;
          // At most one active relationship per (customer, kind), whoever the partner: the copy's are other customers'.
          const customer = (tenantId: string, kind: string) => (mine ? tenantId : `${tenantId.slice(0, 8)}-elsewhere-${kind}-${n}`);
          const rows = {
            withdrawnTrial: offer({ ...owner, kind: 'trial', state: 'withdrawn', approverEmail: 'lee.gu@contoso.com', createdAt: at(50) }),
            awaitingPor: relationship({ ...owner, kind: 'por', approverEmail: 'new.admin@tailspin.com', createdAt: at(50) }),
            declinedDelegation: relationship({ ...owner, state: 'declined', issuedBy: isaiah, createdAt: at(40) }),
            declinedTrial: offer({ ...owner, kind: 'trial', state: 'declined', createdAt: at(30) }),
            backup: offer({
              ...owner,
              state: 'awaitingDelivery',
              approverEmail: 'lee.gu@contoso.com',
              issuedBy: isaiah,
              lines: [{ serviceId: 'backup-pro', serviceName: 'Backup 100% Plus_Pro .* (EU)', quantity: 3, unitPriceCents: 500 }],
              createdAt: at(30),
            }),
            rolesDelegation: relationship({
              ...owner,
              state: 'active',
              approverEmail: 'diego@litware.com',
              approver: diego,
              customerTenantId: customer(TENANT.litware, 'delegation'),
              access: { kind: 'roles', roles: ['Helpdesk Administrator', 'User Administrator'] },
              createdAt: at(30),
            }),
            activePor: relationship({ ...owner, kind: 'por', state: 'active', customerTenantId: customer(TENANT.contoso, 'por'), createdAt: at(25) }),
            acceptedPurchase: offer({ ...owner, state: 'accepted', approverEmail: 'diego@litware.com', approver: diego, createdAt: at(20) }),
            pendingDelegation: relationship({ ...owner, state: 'approvalPending', createdAt: at(15) }),
            sentTrial: offer({ ...owner, kind: 'trial', state: 'sent', createdAt: at(10) }),
            expiredPurchase: offer({ ...owner, state: 'expired', approverEmail: 'diego@litware.com', approver: diego, createdAt: at(5) }),
          };
          return rows;
        };
        type Corpus = ReturnType<typeof corpus>;
        /** Newest first; ties (minutes 50 and 30) by id descending: T- before R- before P- before D-. */
        const ordered = (c: Corpus) => [
          c.withdrawnTrial,
          c.awaitingPor,
          c.declinedDelegation,
          c.declinedTrial,
          c.backup,
          c.rolesDelegation,
          c.activePor,
          c.acceptedPurchase,
          c.pendingDelegation,
          c.sentTrial,
          c.expiredPurchase,
        ];
        /** Both partners' rows, the other partner's interleaved (created first, so insertion order helps no one). */
        const seed = async () => {
          const theirs = corpus(NORTHWIND, 1);
          const mine = corpus(FABRIKAM, 0);
          const a = Object.values(theirs);
          const b = Object.values(mine).reverse();
          for (let i = 0; i < a.length; i++) {
            await create(a[i]!);
            await create(b[i]!);
          }
          return { mine, theirs };
        };

        it("lists only the partner's rows: offers and relationships merged newest first, ties on createdAt to the higher id", async () => {
          const { mine, theirs } = await seed();
          expectRows(await page(), ordered(mine));
          expectRows(await page({ partnerTenantId: TENANT.northwind }), ordered(theirs));
          expectRows(await page({ partnerTenantId: TENANT.litware }), []);
        });

        it('breaks ties by id descending within each source and across them, whatever the insertion order', async () => {
          const t = at(60);
          const rows = [
            offer({ id: 'P-22222B', state: 'accepted', createdAt: t }),
            relationship({ id: 'D-22222A', state: 'declined', createdAt: t }),
            offer({ id: 'P-22222A', state: 'accepted', createdAt: t }),
            relationship({ id: 'R-22222A', kind: 'por', state: 'declined', createdAt: t }),
            offer({ id: 'P-22222C', state: 'accepted', createdAt: t }),
            relationship({ id: 'D-22222B', state: 'declined', createdAt: t }),
            offer({ id: 'P-22222D', state: 'accepted', createdAt: at(59) }),
            relationship({ id: 'D-22222C', state: 'declined', createdAt: at(61) }),
          ];
          for (const r of rows) await create(r);
          const order = ['D-22222C', 'R-22222A', 'P-22222C', 'P-22222B', 'P-22222A', 'D-22222B', 'D-22222A', 'P-22222D'];
          expect((await page()).items.map(idOf)).toEqual(order);
          for (const limit of [1, 2, 3, 4, 7, 8]) expect((await allPages({}, limit, 8)).map(idOf)).toEqual(order);
          // Strictly after the cursor: not the row it names; a cursor between two rows of one instant works as well.
          const after = async (id: string, createdAt = t) => (await page({ after: { createdAt, id } })).items.map(idOf);
          expect(await after('P-22222B')).toEqual(['P-22222A', 'D-22222B', 'D-22222A', 'P-22222D']);
          expect(await after('P-22222BZ')).toEqual(['P-22222B', 'P-22222A', 'D-22222B', 'D-22222A', 'P-22222D']);
          expect(await after('A')).toEqual(['P-22222D']);
          expect(await after('Z', at(59))).toEqual(['P-22222D']);
          expect(await after('P-22222D', at(59))).toEqual([]);
          expect((await page({ after: { createdAt: at(60), id: 'P-22222A' } })).total).toBe(8);
        });

        it('pages with any limit visit every row exactly once, in order; next only while rows follow; total ignores after', async () => {
          const { mine } = await seed();
          const all = ordered(mine).map(itemOf);
          for (const limit of [1, 2, 3, 4, 5, 10, 11, 12, 50]) expect(await allPages({}, limit, 11)).toEqual(all);
          // A page that ends exactly at the last row says nothing follows.
          const whole = await page({ limit: 11 });
          expect(whole.items).toHaveLength(11);
          expect(whole.next).toBeUndefined();
          const first = await page({ limit: 10 });
          expect(first.next).toEqual({ createdAt: mine.sentTrial.createdAt, id: mine.sentTrial.id });
          expect(await page({ limit: 10, after: first.next })).toEqual({ items: [itemOf(mine.expiredPurchase)], total: 11 });
          // Filtered: the same, over the matching rows only.
          const trialsAndDelegations = all.filter((i) => (i.type === 'offer' ? i.offer.kind === 'trial' : i.relationship.kind === 'delegation'));
          expect(trialsAndDelegations).toHaveLength(6);
          for (const limit of [1, 2, 4, 5, 6]) expect(await allPages({ kinds: ['trial', 'delegation'] }, limit, 6)).toEqual(trialsAndDelegations);
        });

        it('filters by kind: only those kinds; a filter naming no offer kind (or no relationship kind) leaves that source out', async () => {
          const { mine: c } = await seed();
          expectRows(await page({ kinds: ['trial'] }), [c.withdrawnTrial, c.declinedTrial, c.sentTrial]);
          expectRows(await page({ kinds: ['purchase'] }), [c.backup, c.acceptedPurchase, c.expiredPurchase]);
          expectRows(await page({ kinds: ['trial', 'purchase'] }), ordered(c).filter((r) => 'lines' in r));
          expectRows(await page({ kinds: ['delegation'] }), [c.declinedDelegation, c.rolesDelegation, c.pendingDelegation]);
          expectRows(await page({ kinds: ['por'] }), [c.awaitingPor, c.activePor]);
          expectRows(await page({ kinds: ['purchase', 'por'] }), [c.awaitingPor, c.backup, c.activePor, c.acceptedPurchase, c.expiredPurchase]);
          expectRows(await page({ kinds: ['trial', 'purchase', 'delegation', 'por'] }), ordered(c));
          expectRows(await page({ kinds: [] }), []);
        });

        it('filters by state (the raw states of either source)', async () => {
          const { mine: c } = await seed();
          expectRows(await page({ states: ['sent', 'approvalPending'] }), [c.pendingDelegation, c.sentTrial]);
          expectRows(await page({ states: ['active'] }), [c.rolesDelegation, c.activePor]);
          expectRows(await page({ states: ['accepted'] }), [c.acceptedPurchase]);
          expectRows(await page({ states: ['declined'] }), [c.declinedDelegation, c.declinedTrial]);
          expectRows(await page({ states: ['awaitingDelivery'] }), [c.awaitingPor, c.backup]);
          expectRows(await page({ states: ['expired', 'withdrawn', 'terminated'] }), [c.withdrawnTrial, c.expiredPurchase]);
          expectRows(await page({ states: [] }), []);
        });

        it("filters by customer: the approver's whole address, any case", async () => {
          const { mine: c } = await seed();
          const contosoAdmin = [c.declinedDelegation, c.declinedTrial, c.activePor, c.pendingDelegation, c.sentTrial];
          expectRows(await page({ customer: 'admin@contoso.com' }), contosoAdmin);
          expectRows(await page({ customer: 'Admin@CONTOSO.com' }), contosoAdmin);
          expectRows(await page({ customer: 'diego@litware.com' }), [c.rolesDelegation, c.acceptedPurchase, c.expiredPurchase]);
          for (const part of ['admin@contoso', 'contoso.com', 'min@contoso.com', '%', 'admin@contoso.co_']) expectRows(await page({ customer: part }), []);
        });

        it('searches ids, customer addresses and tenants, issuer names, service names and what a relationship grants', async () => {
          const { mine: c } = await seed();
          const search = (words: string) => page({ search: words });
          // Service names (every line), and every word must occur.
          const trials = [c.withdrawnTrial, c.declinedTrial, c.sentTrial];
          expectRows(await search('teams essentials'), trials);
          expectRows(await search('ESSENTIALS'), trials);
          expectRows(await search('premium'), [c.withdrawnTrial, c.declinedTrial, c.acceptedPurchase, c.sentTrial, c.expiredPurchase]);
          // Role names; full access and partner of record by their labels.
          expectRows(await search('helpdesk'), [c.rolesDelegation]);
          expectRows(await search('user administrator'), [c.rolesDelegation]);
          expectRows(await search('administration'), [c.declinedDelegation, c.pendingDelegation]);
          expectRows(await search('Full Administration'), [c.declinedDelegation, c.pendingDelegation]);
          expectRows(await search('record'), [c.awaitingPor, c.activePor]);
          expectRows(await search('partner of record'), [c.awaitingPor, c.activePor]);
          // Issuer names.
          expectRows(await search('langer'), [c.declinedDelegation, c.backup]);
          expectRows(await search('Isaiah LANGER'), [c.declinedDelegation, c.backup]);
          expectRows(await search('isaiah wilber'), []);
          expect((await search('alex')).total).toBe(9);
          // Customer addresses and tenants (the offer's approver's, the relationship's customer).
          expectRows(await search('lee.gu'), [c.withdrawnTrial, c.backup]);
          expectRows(await search('tailspin'), [c.awaitingPor]);
          expectRows(await search(TENANT.litware.slice(0, 8).toUpperCase()), [c.rolesDelegation, c.acceptedPurchase, c.expiredPurchase]);
          expectRows(await search(TENANT.litware), [c.rolesDelegation, c.acceptedPurchase, c.expiredPurchase]);
          expectRows(await search('alex litware'), [c.rolesDelegation, c.acceptedPurchase, c.expiredPurchase]);
          // Ids, whole or in part, any case.
          expectRows(await search(c.backup.id.toLowerCase()), [c.backup]);
          expectRows(await search(c.activePor.id.slice(2)), [c.activePor]);
          expectRows(await search(`  ${c.sentTrial.id}\t${c.sentTrial.id.slice(2).toLowerCase()} `), [c.sentTrial]);
          // A word never spans two fields (the backup offer's address is followed by its issuer's name).
          expectRows(await search('contoso.comisaiah'), []);
          // Not searched: states, kinds' names, partner names.
          for (const words of ['declined', 'trial', 'fabrikam cloud']) expectRows(await search(words), []);
          // Whitespace only: no search.
          expectRows(await search(' \t '), ordered(c));
        });

        it('takes search words literally: no LIKE wildcards, no regular expressions, no operators', async () => {
          const { mine: c } = await seed();
          const search = (words: string) => page({ search: words });
          // Each of these is in one service name only ("Backup 100% Plus_Pro .* (EU)").
          // `(eu` would not even compile as a regular expression.
          for (const words of ['%', '_', '.*', '100%', 'plus_pro', '(eu)', '(eu', 'pro .* (EU)']) expectRows(await search(words), [c.backup]);
          // As patterns these would match other rows (`%`/`_` as LIKE wildcards, `.`, `*`, `[...]`, `|` in a regex);
          // as text they occur nowhere. None of them may fail either.
          for (const words of ['p%o', 'a_m', 'adm_n', 'b.ckup', 'e.*n', 'con[a-z]oso', 'alex|lee', '[', ']', '\\', '^admin', 'premium$', '{"$ne":null}', '$where', '(xx']) {
            const found = await search(words);
            expect({ words, found: found.items.map(idOf), total: found.total }).toEqual({ words, found: [], total: 0 });
          }
        });

        it('combines filters: every one narrows, the cursor included', async () => {
          const { mine: c } = await seed();
          const q: Partial<PipelineQuery> = {
            kinds: ['trial', 'purchase', 'delegation'],
            states: ['declined', 'accepted', 'active', 'sent', 'approvalPending'],
            customer: 'Diego@Litware.com',
            search: 'ALEX',
          };
          expectRows(await page(q), [c.rolesDelegation, c.acceptedPurchase]);
          const first = await page({ ...q, limit: 1 });
          expect(first).toEqual({ items: [itemOf(c.rolesDelegation)], total: 2, next: { createdAt: c.rolesDelegation.createdAt, id: c.rolesDelegation.id } });
          expect(await page({ ...q, limit: 1, after: first.next })).toEqual({ items: [itemOf(c.acceptedPurchase)], total: 2 });
          expectRows(await page({ ...q, kinds: ['delegation'] }), [c.rolesDelegation]);
          expectRows(await page({ ...q, states: ['accepted'] }), [c.acceptedPurchase]);
          expectRows(await page({ ...q, search: 'alex helpdesk' }), [c.rolesDelegation]);
          // Alex's to the Contoso admin: not the declined delegation (Isaiah's), nor the partner of record (kinds).
          expectRows(await page({ ...q, customer: 'admin@contoso.com' }), [c.declinedTrial, c.pendingDelegation, c.sentTrial]);
          expectRows(await page({ ...q, customer: 'lee.gu@contoso.com' }), []);
          expectRows(await page({ kinds: ['trial'], states: ['declined', 'sent'], search: 'teams' }), [c.declinedTrial, c.sentTrial]);
          expectRows(await page({ kinds: ['por'], states: ['sent'] }), []);
        });

        it('searches what the rows say now: a delivered request is found by its customer tenant, and a change of grant too', async () => {
          const r = await create(relationship({ createdAt: at(1) }));
          const o = await create(offer({ createdAt: at(2) }));
          const tenant = TENANT.litware.slice(0, 8);
          expectRows(await page({ search: tenant }), []);
          const sent = deliveredRel(r, diego, at(3));
          expect(await store.relationships.update(sent, r.version, [])).toBe(true);
          const reached = delivered(o, diego, at(3));
          expect(await store.offers.update(reached, o.version, [])).toBe(true);
          expectRows(await page({ search: tenant }), [reached, sent]);
          const roles = { ...sent, access: { kind: 'roles' as const, roles: ['Exchange Administrator'] }, version: sent.version + 1 };
          expect(await store.relationships.update(roles, sent.version, [])).toBe(true);
          expectRows(await page({ search: 'exchange' }), [roles]);
          expectRows(await page({ search: 'full' }), []);
          expectRows(await page({ states: ['approvalPending'], search: 'exchange' }), [roles]);
        });

        it('refuses filters that are not what the types say, and a limit out of range', async () => {
          await seed();
          const bad = (q: object) => store.pipeline.page({ partnerTenantId: TENANT.fabrikam, limit: 5, ...q } as PipelineQuery);
          await expect(bad({ customer: { $ne: '' } })).rejects.toThrow(/customer/);
          await expect(bad({ search: { $regex: '.*' } })).rejects.toThrow(/search/);
          await expect(bad({ states: [{ $ne: '' }] })).rejects.toThrow(/states/);
          await expect(bad({ kinds: 'trial' })).rejects.toThrow(/kinds/);
          await expect(bad({ after: { createdAt: { $gt: '' }, id: 'x' } })).rejects.toThrow(/after/);
          await expect(bad({ partnerTenantId: { $ne: '' } })).rejects.toThrow(/partnerTenantId/);
          for (const limit of [0, -1, 1.5, 100_000]) await expect(bad({ limit })).rejects.toThrow(/limit/);
          await expect(store.pipeline.summary({ $ne: '' } as unknown as string, T0)).rejects.toThrow(/partnerTenantId/);
          await expect(store.pipeline.summary(TENANT.fabrikam, 'soon')).rejects.toThrow(/now/);
        });

        describe('summary', () => {
          const noOffers = { awaitingDelivery: 0, sent: 0, accepted: 0, declined: 0, expired: 0, withdrawn: 0 };
          const noRelationships = { awaitingDelivery: 0, approvalPending: 0, active: 0, declined: 0, expired: 0, terminated: 0, withdrawn: 0 };

          it('is all zeros, every state present, for a partner with nothing', async () => {
            await seed();
            expect(await store.pipeline.summary(TENANT.litware, T0)).toEqual({
              offers: noOffers,
              relationships: noRelationships,
              expiring: { within1: 0, within7: 0, within30: 0 },
            });
          });

          it("counts the partner's offers and relationships by state, and active delegations by how soon they end", async () => {
            const now = plusDays(T0, 100);
            const later = (minutes: number) => plus(now, minutes);
            const DAY = 24 * 60;
            let customers = 0;
            const active = (o: Partial<Relationship>) => relationship({ state: 'active', customerTenantId: `customer-${++customers}`, ...o });
            const mine = [
              offer({ state: 'sent' }),
              offer({ state: 'sent' }),
              offer({ state: 'sent' }),
              offer({ state: 'accepted' }),
              offer({ state: 'accepted', kind: 'trial' }),
              offer({ state: 'declined' }),
              relationship({ state: 'approvalPending' }),
              relationship({ kind: 'por', state: 'approvalPending' }),
              relationship({ state: 'declined' }),
              // Ended, or not ending: never expiring.
              relationship({ state: 'terminated', endsAt: later(60) }),
              active({ kind: 'por', endsAt: later(2 * DAY) }),
              active({ kind: 'por' }),
              // Active delegations: past, now, within a day (both ends), a week, thirty days, and after.
              active({ endsAt: later(-1) }),
              active({ endsAt: now }),
              active({ endsAt: later(1) }),
              active({ endsAt: later(DAY) }),
              active({ endsAt: later(DAY + 1) }),
              active({ endsAt: later(7 * DAY) }),
              active({ endsAt: later(7 * DAY + 1) }),
              active({ endsAt: later(30 * DAY) }),
              active({ endsAt: later(30 * DAY + 1) }),
            ];
            const theirs = [
              offer({ ...NORTHWIND, state: 'expired' }),
              offer({ ...NORTHWIND, state: 'sent' }),
              relationship({ ...NORTHWIND, state: 'expired' }),
              active({ ...NORTHWIND, endsAt: later(60) }),
            ];
            for (const row of [...theirs, ...mine]) await create(row);

            const summary = await store.pipeline.summary(TENANT.fabrikam, now);
            expect(summary).toEqual({
              offers: { ...noOffers, sent: 3, accepted: 2, declined: 1 },
              relationships: { ...noRelationships, approvalPending: 2, declined: 1, terminated: 1, active: 11 },
              expiring: { within1: 2, within7: 4, within30: 6 },
            });
            expect(Object.keys(summary.offers).sort()).toEqual(Object.keys(noOffers).sort());
            expect(Object.keys(summary.relationships).sort()).toEqual(Object.keys(noRelationships).sort());
            expect((await store.pipeline.summary(TENANT.northwind, now)).expiring).toEqual({ within1: 1, within7: 1, within30: 1 });
            // `now` is the argument's, not the store's clock; any ISO form of it.
            expect((await store.pipeline.summary(TENANT.fabrikam, later(DAY))).expiring).toEqual({ within1: 1, within7: 3, within30: 5 });
            expect((await store.pipeline.summary(TENANT.fabrikam, new Date(now).toISOString().replace('.000Z', 'Z'))).expiring).toEqual({
              within1: 2,
              within7: 4,
              within30: 6,
            });
          });

          it('follows decisions: an approved delegation counts as expiring as its end nears; a revoked one no longer', async () => {
            const r = await create(relationship({ state: 'approvalPending' }));
            clock.now = new Date(plus(T0, 5));
            await store.relationships.decide(approval(r, null));
            const approved = (await store.relationships.get(r.id))!;
            expect(approved.state).toBe('active');
            const before = plusDays(approved.endsAt!, -1);
            expect(await store.pipeline.summary(TENANT.fabrikam, before)).toEqual({
              offers: noOffers,
              relationships: { ...noRelationships, active: 1 },
              expiring: { within1: 1, within7: 1, within30: 1 },
            });
            expect((await store.pipeline.summary(TENANT.fabrikam, nowIso())).expiring).toEqual({ within1: 0, within7: 0, within30: 0 });
            await store.relationships.decide(revocation(approved, alex));
            expect(await store.pipeline.summary(TENANT.fabrikam, before)).toEqual({
              offers: noOffers,
              relationships: { ...noRelationships, terminated: 1 },
              expiring: { within1: 0, within7: 0, within30: 0 },
            });
          });
        });
      });

      describe('outbox', () => {
        /** Creates an offer with the given entries at the current clock time; returns the stored entries in insertion order. */
        const enqueue = async (entries: (o: Offer) => NewOutboxEntry[]) => {
          const o = offer({ createdAt: nowIso() });
          const list = entries(o);
          await store.offers.create(o, list);
          const stored = await store.outbox.forSubject(o.id);
          expect(stored).toHaveLength(list.length);
          // Insertion order, by content (the store's order for equal createdAt is not part of forSubject's contract).
          return { offer: o, entries: list.map((e) => stored.find((s) => textOf(s) === textOf(e))!) };
        };
        const notices = (n: number, tag: string) => (o: Offer) => Array.from({ length: n }, (_, i) => notifyIssuer(o, `${tag} ${i + 1}`));

        it('claim leases due entries to the owner in due order (nextAttemptAt, then insertion), up to limit', async () => {
          const a = await enqueue(notices(3, 'a'));
          clock.now = new Date(plus(T0, 1));
          const b = await enqueue(notices(1, 'b'));
          const lease = plus(T0, 10);

          expect(await store.outbox.claim('worker-1', plus(T0, -1), lease, 10)).toEqual([]); // nothing due yet
          const first = await store.outbox.claim('worker-1', plus(T0, 5), lease, 2);
          expect(first.map(textOf)).toEqual(a.entries.slice(0, 2).map(textOf));
          for (const e of first) {
            expect(e).toEqual({ ...a.entries.find((x) => x.id === e.id)!, lease: { owner: 'worker-1', until: lease } });
            expect(e).toMatchObject({ state: 'pending', attempts: 0, createdAt: T0, nextAttemptAt: T0 });
          }
          const second = await store.outbox.claim('worker-1', plus(T0, 5), lease, 10);
          expect(second.map(textOf)).toEqual([a.entries[2]!, b.entries[0]!].map(textOf));
          expect(second[1]!.createdAt).toBe(plus(T0, 1));
          expect(await store.outbox.claim('worker-2', plus(T0, 5), lease, 10)).toEqual([]);
          // The lease is stored, not just returned.
          expect((await store.outbox.forSubject(a.offer.id)).map((e) => e.lease)).toEqual(Array(3).fill({ owner: 'worker-1', until: lease }));
        });

        it('a leased entry is taken over by another owner once its lease has expired, and only then', async () => {
          const { entries } = await enqueue(notices(1, 'n'));
          const [e] = entries;
          expect(await store.outbox.claim('worker-1', plus(T0, 1), plus(T0, 2), 10)).toHaveLength(1);
          expect(await store.outbox.claim('worker-2', plus(T0, 1.5), plus(T0, 5), 10)).toEqual([]);
          const taken = await store.outbox.claim('worker-2', plus(T0, 3), plus(T0, 5), 10);
          expect(taken.map((x) => [x.id, x.lease])).toEqual([[e!.id, { owner: 'worker-2', until: plus(T0, 5) }]]);

          // The first owner lost it: its report changes nothing; the new owner's does.
          await store.outbox.markSent(e!.id, 'worker-1');
          expect((await store.outbox.forSubject(e!.subject!.id))[0]).toMatchObject({ state: 'pending', attempts: 0, lease: { owner: 'worker-2' } });
          await store.outbox.markSent(e!.id, 'worker-2');
          const [sent] = await store.outbox.forSubject(e!.subject!.id);
          expect(sent).toMatchObject({ state: 'sent', attempts: 1 });
          expect(sent!.lease).toBeUndefined();
        });

        it('markSent, retryLater and markFailed change an entry only for its lease owner', async () => {
          const { offer: o, entries } = await enqueue(notices(3, 'n'));
          await store.outbox.claim('worker-1', plus(T0, 1), plus(T0, 10), 10);
          const [s, r, f] = entries.map((e) => e.id) as [string, string, string];
          const snapshot = async () => sortedKeys(await store.outbox.forSubject(o.id));
          const before = await snapshot();

          await store.outbox.markSent(s, 'worker-2');
          await store.outbox.retryLater(r, 'worker-2', plus(T0, 30), 'HTTP 503');
          await store.outbox.markFailed(f, 'worker-2', 'HTTP 403 BotNotInConversationRoster');
          expect(await snapshot()).toEqual(before);

          await store.outbox.markSent(s, 'worker-1');
          await store.outbox.retryLater(r, 'worker-1', plus(T0, 30), 'HTTP 503');
          await store.outbox.markFailed(f, 'worker-1', 'HTTP 403 BotNotInConversationRoster');
          const byId = new Map((await store.outbox.forSubject(o.id)).map((e) => [e.id, e]));
          expect(byId.get(s)).toEqual({ ...entries[0], state: 'sent', attempts: 1, lease: undefined });
          expect(byId.get(r)).toEqual({ ...entries[1], state: 'pending', attempts: 1, nextAttemptAt: plus(T0, 30), lastError: 'HTTP 503', lease: undefined });
          expect(byId.get(f)).toEqual({ ...entries[2], state: 'failed', attempts: 1, lastError: 'HTTP 403 BotNotInConversationRoster', lease: undefined });

          // Once reported, the entry is free: the owner cannot report it a second time.
          await store.outbox.markFailed(s, 'worker-1', 'late');
          expect((await store.outbox.forSubject(o.id)).find((e) => e.id === s)).toMatchObject({ state: 'sent', attempts: 1 });
        });

        it('retryLater pushes nextAttemptAt: the entry is not due before it, then is claimed again with its attempts counted', async () => {
          const { entries } = await enqueue(notices(1, 'n'));
          const id = entries[0]!.id;
          for (let attempt = 1; attempt <= 3; attempt++) {
            const at = plus(T0, attempt * 10);
            const claimed = await store.outbox.claim('worker-1', plus(at, -9), plus(at, -8), 10);
            expect(claimed.map((e) => [e.id, e.attempts])).toEqual([[id, attempt - 1]]);
            await store.outbox.retryLater(id, 'worker-1', at, `HTTP 429 attempt ${attempt}`);
            expect(await store.outbox.claim('worker-1', plus(at, -1), plus(at, 5), 10)).toEqual([]);
          }
          const [again] = await store.outbox.claim('worker-2', plus(T0, 30), plus(T0, 35), 10);
          expect(again).toMatchObject({ id, attempts: 3, nextAttemptAt: plus(T0, 30), lastError: 'HTTP 429 attempt 3', state: 'pending' });
        });

        it('sent and failed entries are never claimed again', async () => {
          const { entries } = await enqueue(notices(2, 'n'));
          await store.outbox.claim('worker-1', plus(T0, 1), plus(T0, 2), 10);
          await store.outbox.markSent(entries[0]!.id, 'worker-1');
          await store.outbox.markFailed(entries[1]!.id, 'worker-1', 'HTTP 404 ConversationNotFound');
          expect(await store.outbox.claim('worker-1', plus(T0, 60), plus(T0, 61), 10)).toEqual([]);
          expect(await store.outbox.claim('worker-2', plusDays(T0, 30), plusDays(T0, 31), 10)).toEqual([]);
        });

        it('stats counts pending and failed entries and the oldest pending createdAt', async () => {
          expect(await store.outbox.stats()).toEqual({ pending: 0, failed: 0 });
          const a = await enqueue(notices(2, 'a'));
          clock.now = new Date(plus(T0, 10));
          const b = await enqueue(notices(2, 'b'));
          expect(await store.outbox.stats()).toEqual({ pending: 4, failed: 0, oldestPendingAt: T0 });

          // Leased entries are still pending.
          const claimed = await store.outbox.claim('worker-1', plus(T0, 11), plus(T0, 20), 3);
          expect(claimed.map((e) => e.id)).toEqual([...a.entries, b.entries[0]!].map((e) => e.id));
          expect(await store.outbox.stats()).toEqual({ pending: 4, failed: 0, oldestPendingAt: T0 });

          await store.outbox.markSent(a.entries[0]!.id, 'worker-1');
          await store.outbox.markFailed(a.entries[1]!.id, 'worker-1', 'HTTP 403');
          await store.outbox.retryLater(b.entries[0]!.id, 'worker-1', plus(T0, 40), 'HTTP 502');
          expect(await store.outbox.stats()).toEqual({ pending: 2, failed: 1, oldestPendingAt: plus(T0, 10) });
        });

        it('forSubject returns the entries about one subject and no others', async () => {
          const a = await enqueue(notices(2, 'a'));
          const b = await enqueue(notices(1, 'b'));
          expect(sortedKeys(await store.outbox.forSubject(a.offer.id))).toEqual(sortedKeys(a.entries));
          expect(sortedKeys(await store.outbox.forSubject(b.offer.id))).toEqual(sortedKeys(b.entries));
          expect(await store.outbox.forSubject('T-NOPE23')).toEqual([]);
        });

        it('partnerTenantId is stored with the entry and comes back from claim, forSubject and failedFor', async () => {
          const { offer: o, entries } = await enqueue((x) => [
            partnerNotice(x, 'ours'),
            partnerNotice(x, 'theirs', TENANT.northwind),
            notifyIssuer(x, 'nobody\'s'),
          ]);
          expect(entries.map((e) => e.partnerTenantId)).toEqual([TENANT.fabrikam, TENANT.northwind, undefined]);
          expect(entries.map(requested).map(key)).toEqual(
            [partnerNotice(o, 'ours'), partnerNotice(o, 'theirs', TENANT.northwind), notifyIssuer(o, 'nobody\'s')].map(key),
          );

          const lease = { owner: 'worker-1', until: plus(T0, 10) };
          const claimed = await store.outbox.claim('worker-1', plus(T0, 1), lease.until, 10);
          expect(claimed).toEqual(entries.map((e) => ({ ...e, lease })));

          for (const e of entries) await store.outbox.markFailed(e.id, 'worker-1', 'HTTP 403 BotNotInConversationRoster');
          const failed = (e: OutboxEntry) => ({ ...e, state: 'failed', attempts: 1, lastError: 'HTTP 403 BotNotInConversationRoster', lease: undefined });
          expect(await store.outbox.forSubject(o.id)).toEqual(entries.map(failed));
          expect(await store.outbox.failedFor(TENANT.fabrikam, 10)).toEqual([failed(entries[0]!)]);
          expect(await store.outbox.failedFor(TENANT.northwind, 10)).toEqual([failed(entries[1]!)]);
        });

        it('defer gives the lease back, due again at `at`, counting no attempt and keeping lastError; only the lease owner can', async () => {
          const { offer: o, entries } = await enqueue(notices(2, 'n'));
          const [a, b] = entries as [OutboxEntry, OutboxEntry];
          await store.outbox.claim('worker-1', plus(T0, 1), plus(T0, 10), 10);
          // `a` has been tried once already and is leased again; `b` is on its first try.
          await store.outbox.retryLater(a.id, 'worker-1', plus(T0, 3), 'HTTP 503');
          expect((await store.outbox.claim('worker-1', plus(T0, 3), plus(T0, 10), 10)).map((e) => [e.id, e.attempts])).toEqual([[a.id, 1]]);

          const snapshot = async () => sortedKeys(await store.outbox.forSubject(o.id));
          const before = await snapshot();
          await store.outbox.defer(a.id, 'worker-2', plus(T0, 30));
          await store.outbox.defer(b.id, 'worker-2', plus(T0, 20));
          expect(await snapshot()).toEqual(before);

          await store.outbox.defer(a.id, 'worker-1', plus(T0, 30));
          await store.outbox.defer(b.id, 'worker-1', plus(T0, 20));
          const deferredA = { ...a, state: 'pending', attempts: 1, lastError: 'HTTP 503', nextAttemptAt: plus(T0, 30), lease: undefined };
          const deferredB = { ...b, state: 'pending', attempts: 0, nextAttemptAt: plus(T0, 20), lease: undefined };
          const byId = async () => new Map((await store.outbox.forSubject(o.id)).map((e) => [e.id, e]));
          expect((await byId()).get(a.id)).toEqual(deferredA);
          expect((await byId()).get(b.id)).toEqual(deferredB);
          expect((await byId()).get(b.id)!.lastError).toBeUndefined();

          // The lease is gone: the former owner can neither defer nor report the entry now.
          await store.outbox.defer(a.id, 'worker-1', plus(T0, 99));
          await store.outbox.markSent(b.id, 'worker-1');
          expect((await byId()).get(a.id)).toEqual(deferredA);
          expect((await byId()).get(b.id)).toEqual(deferredB);

          // Not due before `at` (the old leases would have expired by now: it is nextAttemptAt that holds them back).
          expect(await store.outbox.claim('worker-2', plus(T0, 15), plus(T0, 40), 10)).toEqual([]);
          expect(await store.outbox.claim('worker-2', plus(T0, 19.5), plus(T0, 40), 10)).toEqual([]);
          const lease = { owner: 'worker-2', until: plus(T0, 40) };
          expect(await store.outbox.claim('worker-2', plus(T0, 20), lease.until, 10)).toEqual([{ ...deferredB, lease }]);
          expect(await store.outbox.claim('worker-2', plus(T0, 30), lease.until, 10)).toEqual([{ ...deferredA, lease }]);
          expect(await store.outbox.stats()).toEqual({ pending: 2, failed: 0, oldestPendingAt: T0 });
        });

        it('failedFor lists one partner\'s failed entries, newest first (then last inserted first), at most limit', async () => {
          const a = await enqueue((x) => [
            partnerNotice(x, 'a1'),
            partnerNotice(x, 'a2'),
            partnerNotice(x, 'a3 retried later'),
            partnerNotice(x, 'a4 northwind', TENANT.northwind),
            notifyIssuer(x, 'a5 no partner'),
          ]);
          clock.now = new Date(plus(T0, 1));
          const b = await enqueue((x) => [partnerNotice(x, 'b1'), partnerNotice(x, 'b2')]);
          clock.now = new Date(plus(T0, 2));
          const c = await enqueue((x) => [partnerNotice(x, 'c1 sent')]);
          const [a1, a2, a3, a4, a5] = a.entries as [OutboxEntry, OutboxEntry, OutboxEntry, OutboxEntry, OutboxEntry];
          const [b1, b2] = b.entries as [OutboxEntry, OutboxEntry];
          const [c1] = c.entries as [OutboxEntry];

          expect(await store.outbox.claim('worker-1', plus(T0, 3), plus(T0, 10), 100)).toHaveLength(8);
          // Failed in an order of their own: the list goes by creation, not by when they failed.
          for (const e of [a2, b1, a4, a1, a5, b2]) await store.outbox.markFailed(e.id, 'worker-1', `HTTP 403 (${e.id})`);
          await store.outbox.retryLater(a3.id, 'worker-1', plus(T0, 20), 'HTTP 503');
          await store.outbox.markSent(c1.id, 'worker-1');
          const failed = (e: OutboxEntry) => ({ ...e, state: 'failed', attempts: 1, lastError: `HTTP 403 (${e.id})`, lease: undefined });

          expect(await store.outbox.failedFor(TENANT.fabrikam, 10)).toEqual([b2, b1, a2, a1].map(failed));
          expect((await store.outbox.failedFor(TENANT.fabrikam, 3)).map((e) => e.id)).toEqual([b2, b1, a2].map((e) => e.id));
          expect((await store.outbox.failedFor(TENANT.fabrikam, 1)).map((e) => e.id)).toEqual([b2.id]);
          expect(await store.outbox.failedFor(TENANT.fabrikam, 0)).toEqual([]);
          expect(await store.outbox.failedFor(TENANT.northwind, 10)).toEqual([failed(a4)]);
          expect(await store.outbox.failedFor(TENANT.litware, 10)).toEqual([]);
          expect(await store.outbox.stats()).toEqual({ pending: 1, failed: 6, oldestPendingAt: T0 });
        });

        it('retryFailed requeues only that partner\'s failed entries among the ids: due at once, attempts from zero, last error kept', async () => {
          const { offer: o, entries } = await enqueue((x) => [
            partnerNotice(x, 'f1'),
            partnerNotice(x, 'f2'),
            partnerNotice(x, 'f3 not asked for'),
            partnerNotice(x, 'n1 northwind', TENANT.northwind),
            partnerNotice(x, 'p pending'),
            partnerNotice(x, 's sent'),
            notifyIssuer(x, 'x no partner'),
          ]);
          const [f1, f2, f3, n1, p, s, x] = entries as [OutboxEntry, OutboxEntry, OutboxEntry, OutboxEntry, OutboxEntry, OutboxEntry, OutboxEntry];
          await store.outbox.claim('worker-1', plus(T0, 1), plus(T0, 10), 10);
          await store.outbox.retryLater(f1.id, 'worker-1', plus(T0, 2), 'HTTP 502');
          await store.outbox.claim('worker-1', plus(T0, 2), plus(T0, 10), 10); // f1's second try
          for (const e of [f1, f2, f3, n1, x]) await store.outbox.markFailed(e.id, 'worker-1', `HTTP 404 ConversationNotFound (${e.id})`);
          await store.outbox.markSent(s.id, 'worker-1');
          // `p` stays leased to worker-1 until T0+10.

          const byId = async () => new Map((await store.outbox.forSubject(o.id)).map((e) => [e.id, e]));
          const before = await byId();
          expect(before.get(f1.id)).toMatchObject({ state: 'failed', attempts: 2 });
          const now = plus(T0, 5);
          const count = await store.outbox.retryFailed(TENANT.fabrikam, [f1.id, n1.id, p.id, s.id, x.id, 'T-NOPE23:unknown', f2.id, f1.id], now);
          expect(count).toBe(2);

          const after = await byId();
          const requeued = (e: OutboxEntry) => ({
            ...e,
            state: 'pending',
            attempts: 0,
            nextAttemptAt: now,
            lastError: `HTTP 404 ConversationNotFound (${e.id})`,
            lease: undefined,
          });
          expect(after.get(f1.id)).toEqual(requeued(f1));
          expect(after.get(f2.id)).toEqual(requeued(f2));
          for (const e of [f3, n1, p, s, x]) expect(key(after.get(e.id))).toBe(key(before.get(e.id)));
          expect(after.get(p.id)).toMatchObject({ state: 'pending', lease: { owner: 'worker-1', until: plus(T0, 10) } });
          expect((await store.outbox.failedFor(TENANT.fabrikam, 10)).map((e) => e.id)).toEqual([f3.id]);
          expect((await store.outbox.failedFor(TENANT.northwind, 10)).map((e) => e.id)).toEqual([n1.id]);
          expect(await store.outbox.stats()).toEqual({ pending: 3, failed: 3, oldestPendingAt: T0 });

          // Nothing left to requeue: again, none, or another partner's id.
          expect(await store.outbox.retryFailed(TENANT.fabrikam, [f1.id, f2.id], now)).toBe(0);
          expect(await store.outbox.retryFailed(TENANT.fabrikam, [], now)).toBe(0);
          expect(await store.outbox.retryFailed(TENANT.northwind, [f3.id], now)).toBe(0);
          expect(await store.outbox.retryFailed(TENANT.litware, [n1.id], now)).toBe(0);
          expect(key(await byId())).toBe(key(after));

          // Due at once (p is still leased); they fail again and are listed again.
          const lease = { owner: 'worker-2', until: plus(T0, 20) };
          expect(await store.outbox.claim('worker-2', now, lease.until, 10)).toEqual([f1, f2].map((e) => ({ ...requeued(e), lease })));
          await store.outbox.markFailed(f1.id, 'worker-2', 'HTTP 403 ConversationBlockedByUser');
          await store.outbox.markSent(f2.id, 'worker-2');
          expect(await store.outbox.failedFor(TENANT.fabrikam, 10)).toEqual([
            after.get(f3.id),
            { ...requeued(f1), state: 'failed', attempts: 1, lastError: 'HTTP 403 ConversationBlockedByUser' },
          ]);
          expect(await store.outbox.retryFailed(TENANT.fabrikam, [f1.id], plus(T0, 30))).toBe(1);
          expect((await byId()).get(f1.id)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: plus(T0, 30) });
        });
      });
    });

    describe('concurrent handles', () => {
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
            const results = await together(plans.map((p, i) => () => handles[i]!.offers.decide(p.next, p.expectedVersion, p.response, p.outbox)));

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
            if (responses.length !== 1 || key(responses[0]) !== key(won.response)) problems.push(`${where}: ${responses.length} stored responses`);
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
            const results = await together(plans.map((p, i) => () => handles[i]!.offers.decide(p.next, p.expectedVersion, p.response, p.outbox)));
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
              candidates.map((c, i) => () => handles[i]!.offers.create(c, [deliverCard(c, 'a:1personal-megan'), notifyIssuer(c, `racer ${i}`)])),
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

      it.each([
        [2, 10],
        [8, 10],
      ])(
        '%i workers claiming at once (x%i rounds) never lease the same entry',
        async (racers, rounds) => {
          handles = await harness.openHandles(racers);
          const perRound = 12;
          const limit = 5;
          const seen = new Map<string, string>();
          const created = new Set<string>();
          const problems: string[] = [];
          for (let round = 0; round < rounds; round++) {
            const o = offer({ createdAt: T0 });
            await handles[0]!.offers.create(o, Array.from({ length: perRound }, (_, i) => notifyIssuer(o, `round ${round} notice ${i}`)));
            for (const e of await handles[0]!.outbox.forSubject(o.id)) created.add(e.id);
            // What earlier rounds left unleased (when the workers could take less than was there) is due too.
            const available = created.size - seen.size;
            // The workers' clocks are real: the entries are due from the moment they were written.
            const now = new Date(Date.now() + 60_000).toISOString();
            const leaseUntil = new Date(Date.now() + 3_600_000).toISOString();
            const results = await together(handles.map((h, i) => () => h.outbox.claim(`worker-${i}`, now, leaseUntil, limit)));
            let count = 0;
            results.forEach((claimed, i) => {
              for (const e of claimed) {
                count++;
                if (seen.has(e.id)) problems.push(`round ${round}: ${e.id} leased to ${seen.get(e.id)} and worker-${i}`);
                seen.set(e.id, `worker-${i}`);
                if (!created.has(e.id)) problems.push(`round ${round}: worker-${i} leased an unknown entry ${e.id}`);
                if (e.lease?.owner !== `worker-${i}`) problems.push(`round ${round}: worker-${i} got ${e.id} with lease ${key(e.lease)}`);
              }
              if (claimed.length > limit) problems.push(`round ${round}: worker-${i} got ${claimed.length} entries, limit ${limit}`);
            });
            const expected = Math.min(available, racers * limit);
            if (count !== expected) problems.push(`round ${round}: ${count} leased, expected ${expected}`);
            for (const e of await handles[0]!.outbox.forSubject(o.id)) {
              if (e.lease && e.lease.owner !== seen.get(e.id)) problems.push(`round ${round}: ${e.id} stored with lease ${key(e.lease)}, returned to ${seen.get(e.id)}`);
            }
          }
          expect(problems).toEqual([]);
          expect(seen.size).toBe(Math.min(created.size, rounds * racers * limit));
        },
        RACE_TIMEOUT_MS,
      );

      it.each([
        [2, 10],
        [8, 5],
      ])(
        '%i handles requeue the same failed entries at once (x%i rounds): each entry is requeued once in all',
        async (racers, rounds) => {
          handles = await harness.openHandles(racers);
          const failing = 6;
          const problems: string[] = [];
          for (let round = 0; round < rounds; round++) {
            const o = offer({ createdAt: T0 });
            await handles[0]!.offers.create(o, [
              ...Array.from({ length: failing }, (_, i) => partnerNotice(o, `round ${round} failing ${i}`)),
              partnerNotice(o, `round ${round} another partner's`, TENANT.northwind),
              partnerNotice(o, `round ${round} sent`),
            ]);
            const entries = await handles[0]!.outbox.forSubject(o.id);
            // The workers' clocks are real: the entries are due from the moment they were written. What earlier rounds
            // requeued is due too, and is delivered here.
            const now = new Date(Date.now() + 60_000).toISOString();
            for (const e of await handles[0]!.outbox.claim('setup', now, new Date(Date.now() + 3_600_000).toISOString(), 1_000)) {
              if (e.subject?.id !== o.id || textOf(e).includes(' sent')) await handles[0]!.outbox.markSent(e.id, 'setup');
              else await handles[0]!.outbox.markFailed(e.id, 'setup', `HTTP 403 round ${round}`);
            }
            const failed = entries.filter((e) => !textOf(e).includes(' sent'));
            const ours = failed.filter((e) => e.partnerTenantId === TENANT.fabrikam);
            if (ours.length !== failing) throw new Error(`setup: ${ours.length} failed entries of the partner`);
            // Every id of the offer, in an order of each handle's own, so the calls meet the rows in different orders.
            const ids = entries.map((e) => e.id);
            const orders = handles.map((_, i) => [...ids.slice(i % ids.length), ...ids.slice(0, i % ids.length)]);
            orders.forEach((list, i) => i % 2 && list.reverse());
            const requeueAt = new Date(Date.now() + 120_000).toISOString();
            const counts = await together(handles.map((h, i) => () => h.outbox.retryFailed(TENANT.fabrikam, orders[i]!, requeueAt)));

            const where = `round ${round}`;
            const sum = counts.reduce((x, y) => x + y, 0);
            if (sum !== failing || counts.some((c) => c < 0)) problems.push(`${where}: counts ${counts.join(' + ')} = ${sum}, expected ${failing}`);
            for (const e of await handles[0]!.outbox.forSubject(o.id)) {
              const mine = ours.some((x) => x.id === e.id);
              const expected = mine
                ? { state: 'pending', attempts: 0, nextAttemptAt: requeueAt, lastError: `HTTP 403 round ${round}`, lease: undefined }
                : { state: e.partnerTenantId === TENANT.northwind ? 'failed' : 'sent', attempts: 1 };
              if (key({ ...e, ...expected }) !== key(e)) problems.push(`${where}: ${textOf(e)} is ${e.state}, ${e.attempts} attempts`);
            }
            const left = await handles[0]!.outbox.failedFor(TENANT.fabrikam, 1_000);
            if (left.length) problems.push(`${where}: ${left.length} still failed`);
          }
          expect(problems).toEqual([]);
          expect((await handles[0]!.outbox.failedFor(TENANT.northwind, 1_000)).length).toBe(rounds);
        },
        RACE_TIMEOUT_MS,
      );

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
          (await Promise.all(Array.from({ length: racers }, (_, i) => handles[0]!.relationships.listByPartner(otherPartner(i).partnerTenantId, 10_000)))).flat();

        it.each([
          ['delegation', 2, 25],
          ['delegation', 8, 10],
          ['por', 2, 25],
          ['por', 8, 10],
        ] as const)(
          '%s: %i approvals at once of different partners\' requests for one customer (x%i customers): one active, the others activeChanged naming it',
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
              if (key(await reader.relationships.activeFor(approver.tenantId, kind)) !== key(won)) problems.push(`${where}: activeFor is not the winner`);
              for (const [i, r] of requests.entries()) {
                const stored = await reader.relationships.get(r.id);
                if (key(stored) !== key(i === w ? won : r)) problems.push(`${where}: racer ${i}'s request stored ${stored?.state} v${stored?.version}`);
                const responses = await reader.responses.forSubject(r.id);
                if (responses.length !== (i === w ? 1 : 0)) problems.push(`${where}: racer ${i} has ${responses.length} responses`);
                const outbox = await reader.outbox.forSubject(r.id);
                if (outbox.length !== (i === w ? 1 : 0)) problems.push(`${where}: racer ${i} has ${outbox.length} outbox entries`);
              }
              const chain = await reader.responses.chain(approver.tenantId);
              if (chain.length !== 1 || key(chain[0]) !== key((results[w] as Recorded).responses[0])) problems.push(`${where}: chain of ${chain.length}`);
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
                approval(r, null, { activityId: `1:racer-${i}`, note: `racer ${i}`, ...(sameId ? {} : { responseId: `${r.id}/delegation#${i}` }) }),
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
              if (responses.length !== 1 || key(responses[0]) !== key(won.responses[0])) problems.push(`${where}: ${responses.length} stored responses`);
              if (key(await reader.relationships.get(r.id)) !== key(plans[w]!.next)) problems.push(`${where}: stored relationship is not the winner's`);
              if (key(await reader.relationships.activeFor(approver.tenantId, 'delegation')) !== key(plans[w]!.next)) problems.push(`${where}: not active`);
              const outbox = (await reader.outbox.forSubject(r.id)).map(requested);
              if (sortedKeys(outbox).join() !== sortedKeys(plans[w]!.outbox).join()) problems.push(`${where}: outbox has ${outbox.length} entries`);
            }
            expect(problems).toEqual([]);
          },
          RACE_TIMEOUT_MS,
        );

        it.each([
          [2, 15],
          [8, 6],
        ])(
          '%i approvals at once, each replacing the customer\'s active delegation (x%i rounds): one replaces it, never two active or none',
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
              if (key(await reader.relationships.get(active.id)) !== key(won.replaces!.ended!.next)) problems.push(`${where}: the old one is not ended as the winner said`);
              if (key(await reader.relationships.activeFor(approver.tenantId, 'delegation')) !== key(won.next)) problems.push(`${where}: activeFor is not the winner`);
              replaced.push(active.id);
              active = won.next;
            }
            expect(problems).toEqual([]);

            const all = await allOf(racers + 1);
            expect(all.filter((r) => r.state === 'active').map((r) => r.id)).toEqual([active.id]);
            expect(all.filter((r) => r.state === 'terminated').map((r) => r.id).sort()).toEqual([...replaced].sort());
            const chain = await handles[0]!.responses.chain(approver.tenantId);
            expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: rounds * 2 }, (_, i) => i + 1));
            expect(chain.map((r) => r.slot)).toEqual(Array.from({ length: rounds }, () => ['delegation', 'termination']).flat());
            expect(verifyChain(chain)).toBe(true);
          },
          RACE_TIMEOUT_MS,
        );
      });

      describe('leads', () => {
        it.each([
          [2, 25],
          [8, 10],
        ])(
          '%i creates at once of a lead by one requester to one partner (x%i rounds): one created, the others get it back, one set of outbox entries',
          async (racers, rounds) => {
            handles = await harness.openHandles(racers);
            const listed = listing();
            const problems: string[] = [];
            const winners: Lead[] = [];
            let who = requester();
            for (let round = 0; round < rounds; round++) {
              const createdAt = plus(T0, round);
              // Even rounds: a new requester, with the 7-day window. Odd rounds: the previous round's requester again,
              // but with `since` after their earlier lead, so that one does not count and exactly one must be recorded.
              if (round % 2 === 0) who = requester();
              const since = round % 2 === 0 ? plusDays(createdAt, -7) : createdAt;
              const candidates = handles.map((_, i) => lead(listed, who, { createdAt, note: `racer ${i}` }));
              const results = await together(
                candidates.map((c, i) => () => handles[i]!.leads.create(c, [leadCard(c, `racer ${i}`), leadConfirmation(c)], since)),
              );

              const where = `round ${round}`;
              const created = results.flatMap((r, i) => (r.created ? [i] : []));
              if (created.length !== 1) {
                problems.push(`${where}: ${created.length} created`);
                continue;
              }
              const w = created[0]!;
              const winner = candidates[w]!;
              winners.push(winner);
              results.forEach((r, i) => {
                if (key(r.lead) !== key(winner)) problems.push(`${where}: racer ${i} got ${r.lead.id} (${r.lead.note}), not ${winner.id}`);
              });
              const reader = handles[0]!;
              for (const [i, c] of candidates.entries()) {
                const stored = await reader.leads.get(c.id);
                if (i === w ? key(stored) !== key(winner) : stored !== null) problems.push(`${where}: racer ${i}'s lead stored: ${!!stored}`);
              }
              // The workers' clocks are real: the entries are due from the moment they were written.
              const now = new Date(Date.now() + 60_000).toISOString();
              const entries = await reader.outbox.claim(`reader-${round}`, now, new Date(Date.now() + 3_600_000).toISOString(), 1_000);
              const expected = [leadCard(winner, `racer ${w}`), leadConfirmation(winner)];
              if (sortedKeys(entries.map(requested)).join() !== sortedKeys(expected).join()) {
                problems.push(`${where}: outbox has ${entries.length} entries: ${entries.map(textOf).join(' | ')}`);
              }
              for (const e of entries) await reader.outbox.markSent(e.id, `reader-${round}`);
            }
            expect(problems).toEqual([]);
            expect(winners).toHaveLength(rounds);
            // Afterwards, one at a time: the newest recorded lead of the last requester comes back.
            const last = winners[winners.length - 1]!;
            const late = lead(listed, last.requester, { createdAt: plus(last.createdAt, 1) });
            expect(await handles[0]!.leads.create(late, [], plusDays(late.createdAt, -7))).toEqual({ created: false, lead: last });
            expect(await handles[0]!.outbox.stats()).toMatchObject({ pending: 0, failed: 0 });
          },
          RACE_TIMEOUT_MS,
        );
      });
    });
  });
}
