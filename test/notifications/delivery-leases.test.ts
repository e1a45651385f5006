import { createLogger } from '../../src/log';
import { createDeliverer } from '../../src/notifications/deliverer';
import type { OutboxStore } from '../../src/notifications/store';
import type { OutboxEntry } from '../../src/notifications/types';
import type { Store } from '../../src/store/types';
import { capturedLog, enqueue, sleep, tempStore, textEntry } from './support';

/**
 * Short leases renewed while the deliverer works (issue 18): a dead process's entries free up within one lease, and
 * an entry is still only ever sent under a lease its sender holds. Real time, short leases, a real SQLite store; the
 * assertions are about who sent what under which lease, not about how fast.
 */
describe('the outbox deliverer: leases renewed while it works', () => {
  const log = createLogger('silent');
  let live: Store;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ store: live, close } = tempStore());
    await live.conversations.upsert({
      id: 'a:slow',
      tenantId: 't',
      kind: 'channel',
      reference: {},
      active: true,
      updatedAt: new Date().toISOString(),
    });
  });
  afterEach(() => close());

  /** The store with some outbox methods replaced (a store that fails, or another process acting in between). */
  const withOutbox = (outbox: Partial<OutboxStore>): Store => ({ ...live, outbox: { ...live.outbox, ...outbox } });
  const queue = (n: number, from = 0) =>
    enqueue(
      live,
      Array.from({ length: n }, (_, i) => textEntry({ kind: 'conversation', conversationId: 'a:slow' }, `m${from + i}`)),
    );
  const textOf = (e: OutboxEntry) => e.action.message.args.text;

  it('keeps an entry whose send outlasts several leases, renewed all along: no other process can claim it, and it is sent once', async () => {
    const subject = await queue(1);
    const leaseMs = 400;
    const sends: string[] = [];
    const seenLeases = new Set<string>();
    const claimedByOthers: OutboxEntry[] = [];
    const drained = createDeliverer({
      store: live,
      send: async (e) => {
        sends.push(textOf(e)!);
        // Three leases long; another process polls all the while, as a second bot would.
        for (let t = 0; t < 1200; t += 50) {
          await sleep(50);
          const now = new Date();
          claimedByOthers.push(...(await live.outbox.claim('other', now.toISOString(), new Date(now.getTime() + 5000).toISOString(), 10)));
          const [held] = await live.outbox.forSubject(subject);
          if (held?.lease) seenLeases.add(held.lease.until);
        }
        return { conversationId: 'a:slow' };
      },
      clock: () => new Date(),
      log,
      leaseMs,
      quietStartMs: 0,
    }).drain();
    expect(await drained).toBe(1);
    expect(claimedByOthers).toEqual([]);
    expect(sends).toEqual(['m0']);
    expect(await live.outbox.forSubject(subject)).toEqual([expect.objectContaining({ state: 'sent', attempts: 1, lease: undefined })]);
    // Renewed: the lease it held moved on several times while the request was out.
    expect(seenLeases.size).toBeGreaterThanOrEqual(3);
  });

  it('a process that cannot renew abandons its request before the lease runs out, so no other process can take it mid-send', async () => {
    const subject = await queue(1);
    let leaseUntil = Infinity;
    let gaveUpAt = Infinity;
    const sends: string[] = [];
    const { log: captured, lines } = capturedLog('warn');
    const store = withOutbox({
      renew: async () => Promise.reject(new Error('store unreachable')),
      claim: async (...args) => {
        const claimed = await live.outbox.claim(...args);
        leaseUntil = Math.min(leaseUntil, ...claimed.map((e) => Date.parse(e.lease!.until)));
        return claimed;
      },
      retryLater: async (...args) => {
        gaveUpAt = Math.min(gaveUpAt, Date.now());
        return live.outbox.retryLater(...args);
      },
    });
    await createDeliverer({
      store,
      send: (e) => {
        sends.push(textOf(e)!);
        return new Promise(() => undefined); // never answered
      },
      clock: () => new Date(),
      log: captured,
      leaseMs: 800,
      quietStartMs: 0,
      random: () => 0.5,
    }).drain();
    // Given up on while the lease still held, and counted as a timeout that may have arrived (the default timeout,
    // 30 s, was never reached).
    expect(gaveUpAt).toBeLessThan(leaseUntil);
    expect(sends).toEqual(['m0']);
    const [entry] = await live.outbox.forSubject(subject);
    expect(entry).toMatchObject({ state: 'pending', attempts: 1, lease: undefined });
    expect(entry!.lastError).toMatch(/^timeout: no answer from the connector within \d+ ms$/);
    expect(lines.some((l) => l.msg === 'outbox leases could not be renewed')).toBe(true);
  });

  it('a process that cannot renew sends nothing on a lease running out: the entry is given back and sent under a fresh one', async () => {
    const first = await queue(1);
    const second = await queue(1, 1);
    const claims: { ids: string[]; until: string }[] = [];
    const sentUnder = new Map<string, string>();
    const store = withOutbox({
      renew: async () => Promise.reject(new Error('store unreachable')),
      claim: async (...args) => {
        const claimed = await live.outbox.claim(...args);
        if (claimed.length) claims.push({ ids: claimed.map((e) => e.id), until: args[2] });
        return claimed;
      },
    });
    await createDeliverer({
      store,
      send: async (e) => {
        const [held] = await live.outbox.forSubject(e.subject!.id);
        sentUnder.set(textOf(e)!, held!.lease!.until);
        // The first answer comes late, when most of the unrenewed lease is gone.
        if (e.subject!.id === first) await sleep(500);
        return { conversationId: 'a:slow' };
      },
      clock: () => new Date(),
      log,
      leaseMs: 800,
      quietStartMs: 0,
    }).drain();
    const [a] = await live.outbox.forSubject(first);
    const [b] = await live.outbox.forSubject(second);
    expect([a, b].map((e) => [e!.state, e!.attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
    ]);
    // Both came in the first claim; the second went out only under a later one.
    expect(claims[0]!.ids).toEqual([a!.id, b!.id]);
    expect(sentUnder.get('m0')).toBe(claims[0]!.until);
    expect(Date.parse(sentUnder.get('m1')!)).toBeGreaterThan(Date.parse(claims[0]!.until));
  });

  it('after its event loop stalled for longer than a lease, it sends nothing on a lease that ran out meanwhile', async () => {
    const first = await queue(1);
    const second = await queue(1, 1);
    const sends: { text: string; leaseLeftMs: number }[] = [];
    await createDeliverer({
      store: live,
      send: async (e) => {
        const [held] = await live.outbox.forSubject(e.subject!.id);
        sends.push({ text: textOf(e)!, leaseLeftMs: Date.parse(held!.lease!.until) - Date.now() });
        // The first send blocks the event loop for longer than the lease: no heartbeat can run meanwhile.
        if (e.subject!.id === first) for (const end = Date.now() + 1000; Date.now() < end;);
        return { conversationId: 'a:slow' };
      },
      clock: () => new Date(),
      log,
      leaseMs: 600,
      quietStartMs: 0,
    }).drain();
    expect((await Promise.all([first, second].map((id) => live.outbox.forSubject(id)))).flat().map((e) => [e.state, e.attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
    ]);
    // Each left under a lease that still held when it left (the second was renewed or claimed again after the stall).
    expect(sends.map((x) => x.text)).toEqual(['m0', 'm1']);
    for (const x of sends) expect(x.leaseLeftMs).toBeGreaterThan(0);
  });

  it('entries a renewal finds taken over are left to their new owner: the request out is abandoned, the rest not sent', async () => {
    const subject = await queue(3);
    const sends: string[] = [];
    let takenOver = false;
    const store = withOutbox({
      // Another process takes every entry over just before the heartbeat, as it would after this one stalled.
      renew: async (...args) => {
        if (!takenOver) {
          takenOver = true;
          const later = new Date(Date.now() + 60_000).toISOString();
          await live.outbox.claim('other', later, new Date(Date.now() + 120_000).toISOString(), 10);
        }
        return live.outbox.renew(...args);
      },
    });
    const drained = createDeliverer({
      store,
      send: (e) => {
        sends.push(textOf(e)!);
        return new Promise(() => undefined); // never answered: drain() returns only if the request is abandoned
      },
      clock: () => new Date(),
      log,
      leaseMs: 400,
      quietStartMs: 0,
    }).drain();
    await drained;
    expect(takenOver).toBe(true);
    expect(sends).toEqual(['m0']);
    // Nothing this process did afterwards changed them: still the other owner's, no attempt counted.
    expect((await live.outbox.forSubject(subject)).map((e) => [textOf(e), e.state, e.attempts, e.lease?.owner])).toEqual([
      ['m0', 'pending', 0, 'other'],
      ['m1', 'pending', 0, 'other'],
      ['m2', 'pending', 0, 'other'],
    ]);
  });
});
