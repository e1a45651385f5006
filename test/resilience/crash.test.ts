import { performance } from 'node:perf_hooks';
import { peakRate, type SinkRequest } from '../support/connector-sink';
import { TEAMS_RATE_LIMITS } from '../../src/notifications/rate-limit';
import { overTeamsLimits, until } from '../notifications/support';
import { arrivalsByOffer, entriesOf, seedConversations, seedOffers, startBotProcess, startRig, type Rig, type Seeded } from './support';

/**
 * The real bot (`node dist/src/index.js`) is killed with SIGKILL while hundreds of notifications are pending, then
 * started again on the same SQLite file: every entry is delivered, none fails, and the only duplicates are requests
 * the dead process had in flight. See README.md next to this file.
 */

/** Seeded before the bot starts, and while it runs (from this process, on the same file: WAL allows it). */
const BEFORE = 300;
const WHILE = 100;
const TOTAL = BEFORE + WHILE;
/** Killed once the sink has seen about a third of them. */
const KILL_AT = Math.round(TOTAL / 3);
/** The deliverer's requests in flight at once (its default): the most a crash can leave sent but not marked sent. */
const IN_FLIGHT_MAX = 32;
/**
 * Issue 18's goal is the first send within 10 s of a restart (with the default lease), measured on a quiet machine by
 * `npm run bench:recovery`. Here, where CI load can slow a process start by seconds, the test holds the behaviour: the
 * dead process's leases were taken over in a fraction of what the former 60 s lease kept them locked.
 */
const FIRST_SEND_MS = 20_000;

const peaks = (requests: SinkRequest[]) => ({
  conversation: TEAMS_RATE_LIMITS.conversation.map(
    (w) => `${peakRate(requests, (r) => r.conversationId, w.windowMs).count}/${w.windowMs / 1000}s`,
  ),
  tenant: TEAMS_RATE_LIMITS.tenant.map((w) => `${peakRate(requests, (r) => r.tenantId, w.windowMs).count}/${w.windowMs / 1000}s`),
});

describe('crash: kill -9 while hundreds of notifications are pending', () => {
  let rig: Rig | undefined;

  afterEach(() => rig?.close());

  it('delivers every entry after a restart, none failed, duplicates only from the in-flight window, within Teams limits', async () => {
    rig = await startRig();
    const { sink, store, dataDir, bots } = rig;
    // 4 tenants × 10 channels, 10 entries each: the per-tenant 50/s and per-channel 7/s, 8/2 s windows spread the
    // 400 over a few seconds.
    const conversations = await seedConversations(store, sink, 4, 10);
    const seeded: Seeded[] = await seedOffers(store, conversations, BEFORE);
    // No OUTBOX_LEASE_SECONDS: the default lease, renewed while the deliverer works, as production runs.
    const env = {};

    const wallAt = new WeakMap<SinkRequest, number>();
    let seedingWhileRunning: Promise<void> | undefined;
    let killedAt: number | undefined;
    sink.onRequest((r) => {
      wallAt.set(r, Date.now());
      seedingWhileRunning ??= seedOffers(store, conversations, WHILE, BEFORE).then((more) => void seeded.push(...more));
      // bots[0] is the first process (the hook is set before it is spawned, and it sends only once it is).
      if (killedAt === undefined && bots[0] && sink.requests.length >= KILL_AT) {
        bots[0].crash();
        killedAt = performance.now();
      }
      return undefined;
    });

    const first = await startBotProcess('first', dataDir, env);
    bots.push(first);
    await first.ready;
    await until(
      () => killedAt !== undefined,
      30_000,
      () => `${KILL_AT} sends (the sink has ${sink.requests.length})`,
    );
    const ended = await first.exited;
    expect(ended.signal).toBe('SIGKILL');
    await seedingWhileRunning;
    expect(seeded).toHaveLength(TOTAL);
    const ids = new Set(seeded.map((s) => s.offerId));

    // The moment after the kill, as the store has it: the dead process can no longer change anything.
    const atKill = await entriesOf(store, seeded);
    const pendingAtKill = [...atKill.values()].filter((e) => e.state === 'pending');
    const leasedAtKill = pendingAtKill.filter((e) => e.lease && Date.parse(e.lease.until) > Date.now());
    const arrivedBeforeRestart = arrivalsByOffer(sink.requests, ids);
    const sentBeforeKill = [...atKill.values()].filter((e) => e.state === 'sent').length;
    // Sent (the sink took it) but not marked sent: the at-least-once window a crash leaves.
    const inFlightAtKill = new Set(pendingAtKill.map((e) => e.subject!.id).filter((id) => arrivedBeforeRestart.has(id)));
    const requestsBeforeRestart = sink.requests.length;
    expect((await store.outbox.stats()).pending).toBe(pendingAtKill.length);

    const restartAt = performance.now();
    const second = await startBotProcess('second', dataDir, env);
    bots.push(second);
    await second.ready;
    await until(
      async () => (await store.outbox.stats()).pending === 0,
      40_000,
      async () =>
        `an empty outbox after the restart (${(await store.outbox.stats()).pending} pending; the sink has seen ${sink.requests.length} requests)\n${second.text()}`,
    );
    await second.stop();
    const doneAt = performance.now();

    const final = await entriesOf(store, seeded);
    const states = [...final.values()].map((e) => e.state);
    const arrivals = arrivalsByOffer(sink.requests, ids);
    const duplicated = [...arrivals].filter(([, a]) => a.length > 1).map(([id]) => id);
    const duplicates = [...arrivals.values()].reduce((n, a) => n + a.length - 1, 0);
    const before = sink.requests.slice(0, requestsBeforeRestart);
    const after = sink.requests.slice(requestsBeforeRestart);
    const across = overTeamsLimits(sink.requests);
    const gapMs = (after[0]?.at ?? NaN) - (before.at(-1)?.at ?? NaN);
    const startupMs = (after[0]?.at ?? NaN) - restartAt;
    console.log(
      [
        `crash test: seeded ${TOTAL} (${BEFORE} before start, ${WHILE} while running), killed after ${requestsBeforeRestart} sends reached the sink`,
        `  at the kill: ${sentBeforeKill} marked sent, ${pendingAtKill.length} pending (${leasedAtKill.length} leased by the dead process), ${inFlightAtKill.size} sent but not marked (in flight)`,
        `  after the restart: ${arrivals.size}/${TOTAL} delivered, ${states.filter((s) => s === 'failed').length} failed, ${duplicates} duplicates (${duplicated.join(', ') || 'none'})`,
        `  restart to empty outbox ${((doneAt - restartAt) / 1000).toFixed(1)} s (first send ${startupMs.toFixed(0)} ms after the spawn, ${gapMs.toFixed(0)} ms after the last send before the kill)`,
        `  across the kill: ${across.length ? JSON.stringify(across) : 'within every limit'}; peaks ${JSON.stringify(peaks(sink.requests))}`,
      ].join('\n'),
    );

    // Every entry reached the sink and is sent; none failed.
    expect(states.filter((s) => s !== 'sent')).toEqual([]);
    expect((await store.outbox.stats()).failed).toBe(0);
    expect(seeded.filter((s) => !arrivals.has(s.offerId)).map((s) => s.offerId)).toEqual([]);
    // Each in the channel it was meant for, and nothing else was sent.
    for (const s of seeded) for (const r of arrivals.get(s.offerId)!) expect(r.conversationId).toBe(s.conversationId);
    expect(sink.requests.every((r) => r.method === 'POST' && r.accepted)).toBe(true);
    expect(sink.requests).toHaveLength([...arrivals.values()].reduce((n, a) => n + a.length, 0));

    // Duplicates: only entries the dead process had in flight, each at most once more, and no more of them than
    // the deliverer has requests in flight. (A resend for another reason, e.g. a send timeout, would show here with
    // its attempts and last error.)
    expect(duplicated.filter((id) => !inFlightAtKill.has(id)).map((id) => [id, final.get(id)?.attempts, final.get(id)?.lastError])).toEqual(
      [],
    );
    expect(Math.max(...[...arrivals.values()].map((a) => a.length))).toBeLessThanOrEqual(2);
    expect(inFlightAtKill.size).toBeLessThanOrEqual(IN_FLIGHT_MAX);
    expect(duplicates).toBeLessThanOrEqual(IN_FLIGHT_MAX);

    // The kill left hundreds pending, some of them leased by the dead process; the new one sent again within seconds
    // of its start (its figure is printed above), and waited for those leases.
    expect(pendingAtKill.length).toBeGreaterThanOrEqual(TOTAL / 2);
    expect(leasedAtKill.length).toBeGreaterThan(0);
    expect(startupMs).toBeLessThan(FIRST_SEND_MS);
    for (const e of leasedAtKill) {
      const again = arrivals.get(e.subject!.id)!.filter((r) => sink.requests.indexOf(r) >= requestsBeforeRestart);
      expect(again.length).toBeGreaterThan(0);
      for (const r of again) expect(wallAt.get(r)!).toBeGreaterThanOrEqual(Date.parse(e.lease!.until));
    }

    // Teams' limits, as the sink saw the arrivals, with no tolerance: within each process's life, and across the two.
    expect(overTeamsLimits(before)).toEqual([]);
    expect(overTeamsLimits(after)).toEqual([]);
    // Across the kill, this holds because the restart takes longer (about 2.5-3.5 s to the first send here) than the
    // 2 s of Teams' longest short window, and no channel gets anywhere near 60 in 30 s: the new process's limiter
    // starts empty (it lives in memory). Had it sent within ~1 s of the last send before the kill, the same arrivals
    // would exceed 8/2 s per channel, and within ~0.5 s also 7/1 s and 50/1 s per tenant: see README.md.
    expect(across).toEqual([]);
  }, 60_000);
});
