import { performance } from 'node:perf_hooks';
import type { SinkRequest } from '../support/connector-sink';
import { overTeamsLimits, until } from '../notifications/support';
import { arrivalsByOffer, entriesOf, seedAcceptedOffers, seedPartnerChannels, startBotProcess, startRig, type Rig } from './support';

/**
 * Issue 18's crash: the real bot killed with SIGKILL while some fifty partner-channel notifications are pending, every
 * one of them leased by the process that died, then started again on the same SQLite file with the DEFAULT lease (no
 * OUTBOX_LEASE_SECONDS). With leases renewed while the deliverer works, the dead process's entries free up within one
 * short lease: the new process sends again within seconds, not after a minute. See README.md next to this file.
 */

const PARTNERS = 3;
const PER_PARTNER = 20;
const TOTAL = PARTNERS * PER_PARTNER;
/** Killed once the sink has seen this many: the rest (some fifty) are pending, all claimed by the first process. */
const KILL_AT = 8;
/**
 * Issue 18's goal is the first send within 10 s of a restart, measured on a quiet machine by `npm run bench:recovery`
 * (this scenario, with figures). Here, where CI load can slow a process start by seconds, the test holds the
 * behaviour: the dead process's leases were taken over in a fraction of what the former 60 s lease kept them locked.
 */
const FIRST_SEND_MS = 20_000;

describe('crash: kill -9 while some fifty partner-channel notifications are pending, default lease', () => {
  let rig: Rig | undefined;

  afterEach(() => rig?.close());

  it('sends again within seconds of the restart, delivers every entry, and duplicates only requests in flight at the kill', async () => {
    rig = await startRig();
    const { sink, store, dataDir, bots } = rig;
    const channels = await seedPartnerChannels(store, sink, PARTNERS);
    const seeded = await seedAcceptedOffers(store, channels, TOTAL);
    const ids = new Set(seeded.map((s) => s.offerId));

    const wallAt = new WeakMap<SinkRequest, number>();
    let killed = false;
    sink.onRequest((r) => {
      wallAt.set(r, Date.now());
      if (!killed && bots[0] && sink.requests.length >= KILL_AT) {
        bots[0].crash();
        killed = true;
      }
      return undefined;
    });

    // No OUTBOX_LEASE_SECONDS: the default lease, as production runs.
    const first = await startBotProcess('first', dataDir);
    bots.push(first);
    await first.ready;
    await until(
      () => killed,
      30_000,
      () => `${KILL_AT} sends (the sink has ${sink.requests.length})`,
    );
    expect((await first.exited).signal).toBe('SIGKILL');
    const killedAtWall = Date.now();

    const atKill = await entriesOf(store, seeded);
    const pendingAtKill = [...atKill.values()].filter((e) => e.state === 'pending');
    const leasedAtKill = pendingAtKill.filter((e) => e.lease && Date.parse(e.lease.until) > killedAtWall);
    const arrivedBeforeRestart = arrivalsByOffer(sink.requests, ids);
    const inFlightAtKill = new Set(pendingAtKill.map((e) => e.subject!.id).filter((id) => arrivedBeforeRestart.has(id)));
    const requestsBeforeRestart = sink.requests.length;

    const restartAt = performance.now();
    const second = await startBotProcess('second', dataDir);
    bots.push(second);
    await second.ready;
    await until(
      async () => (await store.outbox.stats()).pending === 0,
      40_000,
      async () =>
        `an empty outbox after the restart (${(await store.outbox.stats()).pending} pending; the sink has seen ${sink.requests.length} requests)\n${second.text()}`,
    );
    await second.stop();

    const final = await entriesOf(store, seeded);
    const arrivals = arrivalsByOffer(sink.requests, ids);
    const duplicated = [...arrivals].filter(([, a]) => a.length > 1).map(([id]) => id);
    const before = sink.requests.slice(0, requestsBeforeRestart);
    const after = sink.requests.slice(requestsBeforeRestart);
    const firstSendMs = (after[0]?.at ?? NaN) - restartAt;
    const settledMs = (after.at(-1)?.at ?? NaN) - restartAt;
    console.log(
      [
        `crash test (partner channels, default lease): ${TOTAL} channel notices to ${PARTNERS} partners' channels, killed after ${requestsBeforeRestart} sends reached the sink`,
        `  at the kill: ${pendingAtKill.length} pending (${leasedAtKill.length} leased by the dead process), ${inFlightAtKill.size} sent but not marked (in flight)`,
        `  after the restart: first send ${(firstSendMs / 1000).toFixed(1)} s after the spawn, last ${(settledMs / 1000).toFixed(1)} s; ${arrivals.size}/${TOTAL} delivered, ${duplicated.length} duplicated (${duplicated.join(', ') || 'none'})`,
      ].join('\n'),
    );

    // Issue 18's shape: some fifty pending, every one leased by the process that died (nothing free to send at once).
    expect(pendingAtKill.length).toBeGreaterThanOrEqual(40);
    expect(pendingAtKill.length).toBeLessThanOrEqual(TOTAL - KILL_AT + PARTNERS);
    expect(leasedAtKill.length).toBe(pendingAtKill.length);

    // Sent again within seconds of the restart (printed above): the dead process's leases ran out within one short lease.
    expect(firstSendMs).toBeLessThan(FIRST_SEND_MS);
    // ...and not before: the new process never took an entry whose lease still held.
    for (const e of leasedAtKill) {
      const again = arrivals.get(e.subject!.id)!.filter((r) => sink.requests.indexOf(r) >= requestsBeforeRestart);
      expect(again.length).toBeGreaterThan(0);
      for (const r of again) expect(wallAt.get(r)!).toBeGreaterThanOrEqual(Date.parse(e.lease!.until));
    }

    // Nothing lost, none failed, each to its partner's channel, nothing else sent.
    expect([...final.values()].filter((e) => e.state !== 'sent').map((e) => [e.subject?.id, e.state, e.lastError])).toEqual([]);
    expect(seeded.filter((s) => !arrivals.has(s.offerId)).map((s) => s.offerId)).toEqual([]);
    for (const s of seeded) for (const r of arrivals.get(s.offerId)!) expect(r.conversationId).toBe(s.conversationId);
    expect(sink.requests.every((r) => r.method === 'POST' && r.accepted)).toBe(true);
    expect(sink.requests).toHaveLength([...arrivals.values()].reduce((n, a) => n + a.length, 0));

    // Duplicates: only requests in flight at the kill (one conversation's entries go one at a time, so at most one per
    // channel), each sent at most twice.
    expect(duplicated.filter((id) => !inFlightAtKill.has(id))).toEqual([]);
    expect(Math.max(...[...arrivals.values()].map((a) => a.length))).toBeLessThanOrEqual(2);
    expect(inFlightAtKill.size).toBeLessThanOrEqual(PARTNERS);

    // Teams' limits, within each process's life and across the two, with no tolerance.
    expect(overTeamsLimits(before)).toEqual([]);
    expect(overTeamsLimits(after)).toEqual([]);
    expect(overTeamsLimits(sink.requests)).toEqual([]);
  }, 90_000);
});
