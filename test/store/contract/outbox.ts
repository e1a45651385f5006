import type { NewOutboxEntry, OutboxEntry } from '../../../src/notifications/types';
import type { Offer } from '../../../src/offers/types';
import type { Store } from '../../../src/store/types';
import { T0, TENANT, notifyIssuer, offer, partnerNotice, plus, plusDays } from '../support/fixtures';
import type { ContractContext } from './context';
import { RACE_TIMEOUT_MS, key, requested, sortedKeys, textOf } from './helpers';

/** `one handle` > `outbox`: leases, reports, retries and the failed list. */
export function outboxContract(ctx: ContractContext): void {
  const { clock, nowIso } = ctx;
  let store: Store;
  beforeEach(() => (store = ctx.store()));

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

    it('claim with no limit (-1) leases every due entry once, in due order, even with a lease that ends by `at`', async () => {
      const later = await enqueue(notices(3, 'later'));
      clock.now = new Date(plus(T0, -1));
      const sooner = await enqueue(notices(2, 'sooner')); // inserted last, due first
      const at = plus(T0, 5);
      const all = await store.outbox.claim('worker-1', at, at, -1);
      expect(all.map(textOf)).toEqual([...sooner.entries, ...later.entries].map(textOf));
      expect(all.map((e) => e.lease)).toEqual(Array(5).fill({ owner: 'worker-1', until: at }));
      // A lease that ends by `at` is over at `at`: the next claim then takes them again, in the same order.
      expect((await store.outbox.claim('worker-2', at, plus(T0, 6), 10)).map(textOf)).toEqual(all.map(textOf));
      expect(await store.outbox.claim('worker-1', at, plus(T0, 6), 0)).toEqual([]);
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
      expect((await store.outbox.forSubject(e!.subject!.id))[0]).toMatchObject({
        state: 'pending',
        attempts: 0,
        lease: { owner: 'worker-2' },
      });
      await store.outbox.markSent(e!.id, 'worker-2');
      const [sent] = await store.outbox.forSubject(e!.subject!.id);
      expect(sent).toMatchObject({ state: 'sent', attempts: 1 });
      expect(sent!.lease).toBeUndefined();
    });

    it('renew extends the lease of the entries still leased to the owner and returns their ids; a non-owner changes nothing', async () => {
      const { offer: o, entries } = await enqueue(notices(3, 'n'));
      const [a, b, c] = entries.map((e) => e.id) as [string, string, string];
      await store.outbox.claim('worker-1', plus(T0, 1), plus(T0, 2), 10);
      const leases = async () => (await store.outbox.forSubject(o.id)).map((e) => [e.id, e.state, e.lease]);
      const before = await leases();

      // Another owner's renewal is refused, every id, and nothing is stored.
      expect(await store.outbox.renew('worker-2', [a, b, c], plus(T0, 9))).toEqual([]);
      expect(await leases()).toEqual(before);

      // The owner's: the lease now ends later, so the entry is not claimable when the old lease would have run out.
      await store.outbox.markSent(c, 'worker-1');
      expect(await store.outbox.renew('worker-1', [a, b, c, 'no-such-id'], plus(T0, 4))).toEqual([a, b]);
      expect(await leases()).toEqual([
        [a, 'pending', { owner: 'worker-1', until: plus(T0, 4) }],
        [b, 'pending', { owner: 'worker-1', until: plus(T0, 4) }],
        [c, 'sent', undefined],
      ]);
      expect(await store.outbox.claim('worker-2', plus(T0, 3), plus(T0, 9), 10)).toEqual([]);
      expect(await store.outbox.renew('worker-1', [], plus(T0, 5))).toEqual([]);

      // A lease that ran out with nobody taking the entry over is still the owner's to renew (its compare-and-set is
      // on the owner); one given back is not.
      await store.outbox.defer(b, 'worker-1', plus(T0, 4));
      expect(await store.outbox.renew('worker-1', [a, b], plus(T0, 8))).toEqual([a]);
      expect((await store.outbox.forSubject(o.id)).map((e) => e.lease)).toEqual([
        { owner: 'worker-1', until: plus(T0, 8) },
        undefined,
        undefined,
      ]);
    });

    it('an expired lease taken over by another owner cannot be renewed by the old one', async () => {
      const { entries } = await enqueue(notices(2, 'n'));
      const [a, b] = entries.map((e) => e.id) as [string, string];
      await store.outbox.claim('worker-1', plus(T0, 1), plus(T0, 2), 10);
      const taken = await store.outbox.claim('worker-2', plus(T0, 3), plus(T0, 5), 1);
      expect(taken.map((e) => e.id)).toEqual([a]);

      expect(await store.outbox.renew('worker-1', [a, b], plus(T0, 10))).toEqual([b]);
      const byId = new Map((await store.outbox.forSubject(entries[0]!.subject!.id)).map((e) => [e.id, e.lease]));
      expect(byId.get(a)).toEqual({ owner: 'worker-2', until: plus(T0, 5) });
      expect(byId.get(b)).toEqual({ owner: 'worker-1', until: plus(T0, 10) });
      // The new owner's renewal works; its report is the one that counts, the old owner's changes nothing.
      expect(await store.outbox.renew('worker-2', [a], plus(T0, 6))).toEqual([a]);
      await store.outbox.markSent(a, 'worker-1');
      expect((await store.outbox.forSubject(entries[0]!.subject!.id)).find((e) => e.id === a)).toMatchObject({
        state: 'pending',
        lease: { owner: 'worker-2', until: plus(T0, 6) },
      });
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
      expect(byId.get(r)).toEqual({
        ...entries[1],
        state: 'pending',
        attempts: 1,
        nextAttemptAt: plus(T0, 30),
        lastError: 'HTTP 503',
        lease: undefined,
      });
      expect(byId.get(f)).toEqual({
        ...entries[2],
        state: 'failed',
        attempts: 1,
        lastError: 'HTTP 403 BotNotInConversationRoster',
        lease: undefined,
      });

      // Once reported, the entry is free: the owner cannot report it a second time.
      await store.outbox.markFailed(s, 'worker-1', 'late');
      expect((await store.outbox.forSubject(o.id)).find((e) => e.id === s)).toMatchObject({ state: 'sent', attempts: 1 });
    });

    it('markSentMany marks every entry the owner still holds, in one call, counting the attempts each lease made', async () => {
      const { offer: o, entries } = await enqueue(notices(4, 'n'));
      const [a, b, c, d] = entries.map((e) => e.id) as [string, string, string, string];
      await store.outbox.claim('worker-1', plus(T0, 1), plus(T0, 2), 3); // a, b, c
      await store.outbox.claim('worker-2', plus(T0, 1), plus(T0, 10), 10); // d
      // worker-1's leases ran out and worker-2 took a, b and c: worker-1's report must change nothing.
      await store.outbox.claim('worker-2', plus(T0, 3), plus(T0, 10), 10);
      expect(await store.outbox.markSentMany('worker-1', [{ id: a }, { id: b, attempts: 3 }, { id: c }, { id: d }])).toBe(0);
      expect(await store.outbox.markSentMany('worker-2', [])).toBe(0);
      expect(await store.outbox.markSentMany('worker-2', [{ id: a }, { id: b, attempts: 3, lastError: 'HTTP 429' }, { id: c }])).toBe(3);
      const byId = new Map((await store.outbox.forSubject(o.id)).map((e) => [e.id, e]));
      // The last error of the attempts retried in hand is kept; none is written for an entry sent at its first try.
      expect(byId.get(b)?.lastError).toBe('HTTP 429');
      expect(byId.get(a)).not.toHaveProperty('lastError');
      expect([a, b, c, d].map((id) => [byId.get(id)?.state, byId.get(id)?.attempts, byId.get(id)?.lease?.owner])).toEqual([
        ['sent', 1, undefined],
        ['sent', 3, undefined],
        ['sent', 1, undefined],
        ['pending', 0, 'worker-2'],
      ]);
      // Once sent, an entry is not marked again.
      expect(await store.outbox.markSentMany('worker-2', [{ id: a }])).toBe(0);
    });

    it('retryLater, markFailed and defer count the attempts a lease made in hand (defer with its last error); defer alone counts none', async () => {
      const { offer: o, entries } = await enqueue(notices(4, 'n'));
      const [r, f, d, z] = entries.map((e) => e.id) as [string, string, string, string];
      await store.outbox.claim('worker-1', plus(T0, 1), plus(T0, 10), 10);
      await store.outbox.retryLater(r, 'worker-1', plus(T0, 30), 'HTTP 503', 2);
      await store.outbox.markFailed(f, 'worker-1', 'HTTP 503', 3);
      await store.outbox.defer(d, 'worker-1', plus(T0, 5), 2, 'HTTP 503');
      await store.outbox.defer(z, 'worker-1', plus(T0, 5));
      const byId = new Map((await store.outbox.forSubject(o.id)).map((e) => [e.id, e]));
      expect([r, f, d, z].map((id) => [byId.get(id)?.state, byId.get(id)?.attempts, byId.get(id)?.lease])).toEqual([
        ['pending', 2, undefined],
        ['failed', 3, undefined],
        ['pending', 2, undefined],
        ['pending', 0, undefined],
      ]);
      expect(byId.get(d)).toMatchObject({ nextAttemptAt: plus(T0, 5), lastError: 'HTTP 503' });
      expect(byId.get(z)).not.toHaveProperty('lastError');
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

    it('pruneSent deletes sent entries by when they were marked sent (not created), oldest first, at most limit; pending and failed stay', async () => {
      const { offer: o, entries } = await enqueue(notices(5, 'n'));
      await store.outbox.claim('worker-1', plus(T0, 1), plusDays(T0, 1), 4);
      // Sent in the order 2, 0, 1 (a minute apart), 3 failed, 4 still pending.
      for (const [i, minute] of [
        [2, 2],
        [0, 3],
        [1, 4],
      ] as const) {
        clock.now = new Date(plus(T0, minute));
        await store.outbox.markSent(entries[i]!.id, 'worker-1');
      }
      await store.outbox.markFailed(entries[3]!.id, 'worker-1', 'HTTP 403');
      const left = async () => (await store.outbox.forSubject(o.id)).map(textOf).sort();
      const keysOf = (...i: number[]) => i.map((n) => textOf(entries[n]!)).sort();

      expect(await store.outbox.pruneSent(plus(T0, 2), 10)).toBe(0); // strictly before
      expect(await store.outbox.pruneSent(plus(T0, 10), 0)).toBe(0);
      expect(await store.outbox.pruneSent(plus(T0, 3.5), 10)).toBe(2); // the ones sent at minutes 2 and 3
      expect(await left()).toEqual(keysOf(1, 3, 4));
      expect(await store.outbox.pruneSent(plusDays(T0, 30), 1)).toBe(1);
      expect(await left()).toEqual(keysOf(3, 4));
      expect(await store.outbox.pruneSent(plusDays(T0, 30), 10)).toBe(0);
      expect(await store.outbox.stats()).toEqual({ pending: 1, failed: 1, oldestPendingAt: T0 });
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
        notifyIssuer(x, "nobody's"),
      ]);
      expect(entries.map((e) => e.partnerTenantId)).toEqual([TENANT.fabrikam, TENANT.northwind, undefined]);
      expect(entries.map(requested).map(key)).toEqual(
        [partnerNotice(o, 'ours'), partnerNotice(o, 'theirs', TENANT.northwind), notifyIssuer(o, "nobody's")].map(key),
      );

      const lease = { owner: 'worker-1', until: plus(T0, 10) };
      const claimed = await store.outbox.claim('worker-1', plus(T0, 1), lease.until, 10);
      expect(claimed).toEqual(entries.map((e) => ({ ...e, lease })));

      for (const e of entries) await store.outbox.markFailed(e.id, 'worker-1', 'HTTP 403 BotNotInConversationRoster');
      const failed = (e: OutboxEntry) => ({
        ...e,
        state: 'failed',
        attempts: 1,
        lastError: 'HTTP 403 BotNotInConversationRoster',
        lease: undefined,
      });
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

    it("failedFor lists one partner's failed entries, newest first (then last inserted first), at most limit", async () => {
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

    it("retryFailed requeues only that partner's failed entries among the ids: due at once, attempts from zero, last error kept", async () => {
      const { offer: o, entries } = await enqueue((x) => [
        partnerNotice(x, 'f1'),
        partnerNotice(x, 'f2'),
        partnerNotice(x, 'f3 not asked for'),
        partnerNotice(x, 'n1 northwind', TENANT.northwind),
        partnerNotice(x, 'p pending'),
        partnerNotice(x, 's sent'),
        notifyIssuer(x, 'x no partner'),
      ]);
      const [f1, f2, f3, n1, p, s, x] = entries as [
        OutboxEntry,
        OutboxEntry,
        OutboxEntry,
        OutboxEntry,
        OutboxEntry,
        OutboxEntry,
        OutboxEntry,
      ];
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
      const count = await store.outbox.retryFailed(
        TENANT.fabrikam,
        [f1.id, n1.id, p.id, s.id, x.id, 'T-NOPE23:unknown', f2.id, f1.id],
        now,
      );
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

    describe('coalescing entries', () => {
      /** A partner notice that may join one queued under `key`: its event is the label the test follows. */
      const joining = (o: Offer, label: string, key = 'chat-1', max = 3): NewOutboxEntry => ({
        ...partnerNotice(o, label),
        coalesce: { key, max },
      });
      /** Queues one such notice with a new offer (as a decision would); returns the offer. */
      const queue = async (label: string, key?: string, max?: number) => {
        const o = offer({ createdAt: nowIso() });
        await store.offers.create(o, [joining(o, label, key, max)]);
        return o;
      };
      /** The labels of the items of each entry about these offers, in the order the offers were created. */
      const itemsOf = async (offers: Offer[]) =>
        (await Promise.all(offers.map((o) => store.outbox.forSubject(o.id)))).flat().map((e) => ({
          subject: e.subject!.id,
          labels: (e.action.message.items ?? []).map((i) => i.event),
        }));

      it('an entry joins the newest pending entry of its key while that holds fewer than max items, then another starts', async () => {
        const a = await queue('a');
        const b = await queue('b');
        const other = await queue('x', 'chat-2');
        const d = await queue('d');
        const e = await queue('e');
        const plain = offer({ createdAt: nowIso() });
        await store.offers.create(plain, [partnerNotice(plain, 'plain')]);
        const g = await queue('g');

        expect(await itemsOf([a, b, other, d, e, plain, g])).toEqual([
          { subject: a.id, labels: ['a', 'b', 'd'] },
          { subject: other.id, labels: ['x'] },
          { subject: e.id, labels: ['e', 'g'] },
          // An entry without a coalesce key neither joins nor is joined, and carries no items.
          { subject: plain.id, labels: [] },
        ]);
        const [first] = await store.outbox.forSubject(a.id);
        // The first message stays the entry's own (a single item renders as it always did); the items carry the rest.
        expect(first!.action.message.args).toMatchObject({ offerId: a.id, event: 'a' });
        expect(first!.action.message.items!.map((i) => i.offerId)).toEqual([a.id, b.id, d.id]);
        expect(first).toMatchObject({ state: 'pending', attempts: 0, coalesce: { key: 'chat-1', max: 3 } });
      });

      it("an entry in a deliverer's hands is never joined: what it claimed is what it sends; given back, it is joined again", async () => {
        const a = await queue('a', 'chat-1', 25);
        const [claimed] = await store.outbox.claim('worker-1', nowIso(), plus(T0, 60), 10);
        expect(claimed!.action.message.items!.map((i) => i.event)).toEqual(['a']);
        const b = await queue('b', 'chat-1', 25);
        const c = await queue('c', 'chat-1', 25);
        expect(await itemsOf([a, b, c])).toEqual([
          { subject: a.id, labels: ['a'] },
          { subject: b.id, labels: ['b', 'c'] },
        ]);

        // The rate limiter's "not yet" gives b's entry back: it waits in the queue again and is joined.
        const [second] = await store.outbox.claim('worker-1', nowIso(), plus(T0, 60), 10);
        expect(second!.subject!.id).toBe(b.id);
        await store.outbox.defer(second!.id, 'worker-1', plus(T0, 2));
        const d = await queue('d', 'chat-1', 25);
        const [again] = await store.outbox.claim('worker-2', plus(T0, 3), plus(T0, 60), 10);
        expect(again!.action.message.items!.map((i) => i.event)).toEqual(['b', 'c', 'd']);

        // Sent entries are never joined either.
        await store.outbox.markSent(claimed!.id, 'worker-1');
        await store.outbox.markSent(again!.id, 'worker-2');
        const e = await queue('e', 'chat-1', 25);
        expect(await itemsOf([a, b, d, e])).toEqual([
          { subject: a.id, labels: ['a'] },
          { subject: b.id, labels: ['b', 'c', 'd'] },
          { subject: e.id, labels: ['e'] },
        ]);
      });

      it("an entry already tried is never joined: its retry time and attempts are its own offer's", async () => {
        const a = await queue('a', 'chat-1', 25);
        const [claimed] = await store.outbox.claim('worker-1', nowIso(), plus(T0, 60), 10);
        await store.outbox.retryLater(claimed!.id, 'worker-1', plus(T0, 30), '503: Service Unavailable');
        const b = await queue('b', 'chat-1', 25);
        const c = await queue('c', 'chat-1', 25);
        expect(await itemsOf([a, b, c])).toEqual([
          { subject: a.id, labels: ['a'] },
          { subject: b.id, labels: ['b', 'c'] },
        ]);
        // b's entry is due now, not when a's retry is.
        const [fresh] = await store.outbox.claim('worker-2', nowIso(), plus(T0, 60), 10);
        expect(fresh).toMatchObject({ subject: { id: b.id }, attempts: 0 });
      });
    });
  });
}

/** Races on the outbox, declared straight under `concurrent handles` (their names have no describe of their own). */
export function outboxConcurrent(ctx: ContractContext): void {
  const { harness, together } = ctx;
  let handles: Store[];

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
        await handles[0]!.offers.create(
          o,
          Array.from({ length: perRound }, (_, i) => notifyIssuer(o, `round ${round} notice ${i}`)),
        );
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
          if (e.lease && e.lease.owner !== seen.get(e.id))
            problems.push(`round ${round}: ${e.id} stored with lease ${key(e.lease)}, returned to ${seen.get(e.id)}`);
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
    '%i handles, one renewing its expired leases while the others claim them (x%i rounds): each entry ends with one owner, the one whose call says so',
    async (racers, rounds) => {
      handles = await harness.openHandles(racers);
      const problems: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const o = offer({ createdAt: T0 });
        await handles[0]!.offers.create(
          o,
          Array.from({ length: 8 }, (_, i) => notifyIssuer(o, `round ${round} notice ${i}`)),
        );
        // worker-0 holds them on a lease that has run out by `now`: claimable by anyone, renewable by worker-0 only
        // while nobody took them. The workers' clocks are real, so earlier rounds' entries are claimable too; each
        // round looks at its own.
        const now = new Date(Date.now() + 60_000).toISOString();
        const until = new Date(Date.now() + 3_600_000 * (round + 2)).toISOString();
        const held = (await handles[0]!.outbox.claim('worker-0', now, now, 1_000)).filter((e) => e.subject?.id === o.id).map((e) => e.id);
        if (held.length !== 8) throw new Error(`setup: worker-0 holds ${held.length} of 8`);
        const results = await together<string[] | OutboxEntry[]>(
          handles.map(
            (h, i) => () => (i === 0 ? h.outbox.renew('worker-0', held, until) : h.outbox.claim(`worker-${i}`, now, until, 1_000)),
          ),
        );
        const owners = new Map<string, string[]>();
        const say = (id: string, who: string) => owners.set(id, [...(owners.get(id) ?? []), who]);
        for (const id of results[0] as string[]) say(id, 'worker-0');
        results.slice(1).forEach((claimed, i) => {
          for (const e of claimed as OutboxEntry[]) if (e.subject?.id === o.id) say(e.id, `worker-${i + 1}`);
        });
        for (const e of await handles[0]!.outbox.forSubject(o.id)) {
          const said = owners.get(e.id) ?? [];
          if (said.length !== 1) problems.push(`round ${round}: ${e.id} reported as held by ${said.join(' and ') || 'nobody'}`);
          else if (e.lease?.owner !== said[0] || e.lease?.until !== until)
            problems.push(`round ${round}: ${e.id} stored with lease ${key(e.lease)}, reported held by ${said[0]}`);
        }
      }
      expect(problems).toEqual([]);
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
        if (sum !== failing || counts.some((c) => c < 0))
          problems.push(`${where}: counts ${counts.join(' + ')} = ${sum}, expected ${failing}`);
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

  it.each([
    [3, 20],
    [6, 8],
  ])(
    "%i decisions at once race the deliverer's claim (x%i rounds): every coalesced notice is in exactly one claimed entry",
    async (deciders, rounds) => {
      handles = await harness.openHandles(deciders + 1);
      const deliverer = handles[deciders]!;
      const queued: string[] = [];
      const delivered = new Map<string, number>();
      const problems: string[] = [];
      const far = () => new Date(Date.now() + 3_600_000).toISOString();
      const at = () => new Date(Date.now() + 60_000).toISOString();
      /** What the deliverer sends: the items of what it claimed, as they were at the claim; then it marks them sent. */
      const send = async (claimed: OutboxEntry[]) => {
        for (const e of claimed) {
          for (const item of e.action.message.items ?? []) delivered.set(item.offerId!, (delivered.get(item.offerId!) ?? 0) + 1);
          await deliverer.outbox.markSent(e.id, 'deliverer');
        }
        return claimed.length;
      };
      for (let round = 0; round < rounds; round++) {
        const offers = Array.from({ length: deciders }, () => offer({ state: 'sent', createdAt: T0 }));
        for (const o of offers) await handles[0]!.offers.create(o, []);
        const decisions = offers.map((o, i) => {
          const d = ctx.decision(o, 'accepted', { activityId: `1:round-${round}-${i}` });
          // The partner notice coalesces, as the offers service queues it.
          return { ...d, outbox: [{ ...notifyIssuer(d.next, 'accepted'), coalesce: { key: 'partner-chat', max: 4 } }] };
        });
        const results = await together<unknown>([
          ...decisions.map((d, i) => () => handles[i]!.offers.decide(d.next, d.expectedVersion, d.response, d.outbox)),
          () => deliverer.outbox.claim('deliverer', at(), far(), -1),
        ]);
        results.slice(0, deciders).forEach((r, i) => {
          if ((r as { status: string }).status !== 'recorded') problems.push(`round ${round}: decision ${i} ${JSON.stringify(r)}`);
          else queued.push(offers[i]!.id);
        });
        await send(results[deciders] as OutboxEntry[]);
      }
      while (await send(await deliverer.outbox.claim('deliverer', at(), far(), -1)));
      const twice = [...delivered].filter(([, n]) => n > 1).map(([id]) => id);
      const missing = queued.filter((id) => !delivered.has(id));
      expect(problems).toEqual([]);
      expect({ twice, missing }).toEqual({ twice: [], missing: [] });
      expect(delivered.size).toBe(deciders * rounds);
    },
    RACE_TIMEOUT_MS,
  );
}
