import type { Lead } from '../../../src/marketplace/types';
import type { Store } from '../../../src/store/types';
import { T0, TENANT, lead, leadCard, leadConfirmation, listing, plus, plusDays, requester, unstorableLeadEntry } from '../support/fixtures';
import type { ContractContext } from './context';
import { RACE_TIMEOUT_MS, key, requested, sortedKeys, textOf } from './helpers';

/** `one handle` > `leads`: requests to a listed partner, one per requester and partner within a window. */
export function leadsContract(ctx: ContractContext): void {
  const { clock, nowIso } = ctx;
  let store: Store;
  beforeEach(() => (store = ctx.store()));

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
      expect(await store.leads.create(second, [leadCard(second, 'second')], plus(first.createdAt, 1))).toEqual({
        created: true,
        lead: second,
      });
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

    it('setStage records where the lead stands (the latest wins) and returns it; an unknown lead is null', async () => {
      const ld = lead(listed, requester());
      await store.leads.create(ld, [], windowFrom(T0));
      const by = { aadObjectId: 'a-1', name: 'Alex Wilber' };
      expect(await store.leads.setStage('C-NQPE23', { value: 'won', at: T0, by })).toBeNull();
      const contacted = { value: 'contacted' as const, at: T0, by };
      expect(await store.leads.setStage(ld.id, contacted)).toEqual({ ...ld, stage: contacted });
      const lost = { value: 'lost' as const, at: plus(T0, 60), by };
      expect(await store.leads.setStage(ld.id, lost)).toEqual({ ...ld, stage: lost });
      expect(await store.leads.get(ld.id)).toEqual({ ...ld, stage: lost });
    });

    it("listByPartner returns a partner's leads newest first, at most limit, and no other partner's", async () => {
      const leads: Lead[] = [];
      for (let i = 0; i < 4; i++) {
        clock.now = new Date(plus(T0, i));
        const ld = lead(listed, requester({ aadObjectId: `req-${i}` }), { createdAt: nowIso() });
        await store.leads.create(ld, [], windowFrom(nowIso()));
        leads.push(ld);
      }
      const elsewhere = lead(listing(), requester({ aadObjectId: 'req-x' }), { createdAt: nowIso() });
      await store.leads.create(elsewhere, [], windowFrom(nowIso()));
      expect(await store.leads.listByPartner(listed.partnerTenantId, 10)).toEqual([...leads].reverse());
      expect(await store.leads.listByPartner(listed.partnerTenantId, 2)).toEqual([leads[3], leads[2]]);
      expect(await store.leads.listByPartner('00000000-0000-0000-0000-00000000dead', 10)).toEqual([]);
    });
  });
}

/** `concurrent handles` > `leads`. */
export function leadsConcurrent(ctx: ContractContext): void {
  const { harness, together } = ctx;
  let handles: Store[];

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
}
