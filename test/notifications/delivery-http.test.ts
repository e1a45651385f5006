import { performance } from 'node:perf_hooks';
import { createRateLimiter, TEAMS_RATE_LIMITS } from '../../src/notifications/rate-limit';
import { isSend, peakRate } from '../support/connector-sink';
import { enqueue, httpHarness, textEntry, until, type HttpHarness } from './support';

/**
 * The deliverer with the real Bot Connector sender, over HTTP, against a sink that injects Teams' failures. Time is
 * real: the sink's arrival times are what Teams would have counted.
 */

/**
 * No slack for clock skew is needed here: the sink records a request's arrival before it answers, and the deliverer
 * counts each send from when the answer came, so sends planned a window apart always arrive at least that far apart
 * on this one clock, however busy the machine.
 */
const TOLERANCE_MS = 0;

/**
 * Real time over HTTP: several of these take a few seconds by design (a Retry-After, a lease running out), close to
 * jest's 5 s default under load, so every test here gets this much unless it says more.
 */
jest.setTimeout(20_000);

const settled = async (h: HttpHarness, subject: string) => (await h.entries(subject)).every((e) => e.state !== 'pending');

/** Every Teams window, checked against what the sink saw: the windows any key went over (none, we expect). */
function overLimits(h: HttpHarness) {
  const seen = [
    ...TEAMS_RATE_LIMITS.conversation.map((w) => ({ per: 'conversation', ...w, ...h.sink.peakPerConversation(w.windowMs, TOLERANCE_MS) })),
    ...TEAMS_RATE_LIMITS.tenant.map((w) => ({ per: 'tenant', ...w, ...h.sink.peakPerTenant(w.windowMs, TOLERANCE_MS) })),
  ];
  expect(seen[0]!.count).toBeGreaterThan(0);
  return seen.filter((s) => s.count > s.limit);
}

/** The last slot the exact limits allow for `count` sends to one conversation asked for at once. */
const minimumMs = (count: number) => {
  const limiter = createRateLimiter();
  return Math.max(...Array.from({ length: count }, () => limiter.reserve({ conversation: 'c' }, 0).at));
};

describe('delivery over HTTP within Teams limits', () => {
  let h: HttpHarness;
  afterEach(() => h?.close());

  it('sends a burst of 30 to one conversation in order, once each, never above any window, close to the minimum time', async () => {
    h = await httpHarness({ conversations: [{ id: 'c:burst', tenantId: 't1' }], deliverer: { pollMs: 60_000 } });
    const subject = await h.queue(Array(30).fill('c:burst'));
    // Started as in production (one-minute poll). Each next slot is at most a second or so away, within the horizon:
    // the deliverer waits for it.
    h.deliverer.start();
    h.deliverer.kick();
    await until(() => settled(h, subject), 20_000, 'the burst to be delivered');

    expect(h.delivered()).toEqual(Array.from({ length: 30 }, (_, i) => `n-${i}`));
    expect(h.sink.requests).toHaveLength(30);
    expect((await h.entries(subject)).map((e) => [e.state, e.attempts])).toEqual(Array(30).fill(['sent', 1]));
    expect(overLimits(h)).toEqual([]);

    const times = h.sink.requests.map((r) => r.at);
    const elapsed = Math.max(...times) - Math.min(...times);
    const minimum = minimumMs(30);
    console.log(
      `30 entries to one conversation: ${(elapsed / 1000).toFixed(2)} s (minimum the limits allow: ${(minimum / 1000).toFixed(2)} s)`,
    );
    expect(minimum).toBe(6000);
    expect(elapsed).toBeGreaterThanOrEqual(minimum - TOLERANCE_MS);
    expect(elapsed).toBeLessThan(minimum * 1.15);
  }, 30_000);

  it('gives back entries whose slot is past the horizon and wakes up for them exactly when due', async () => {
    h = await httpHarness({ conversations: [{ id: 'c:burst', tenantId: 't1' }], deliverer: { pollMs: 60_000, horizonMs: 300 } });
    const subject = await h.queue(Array(12).fill('c:burst'));
    h.deliverer.start();
    h.deliverer.kick();
    await until(() => settled(h, subject), 10_000, 'the burst to be delivered');

    expect(h.delivered()).toEqual(Array.from({ length: 12 }, (_, i) => `n-${i}`));
    expect((await h.entries(subject)).map((e) => [e.state, e.attempts])).toEqual(Array(12).fill(['sent', 1]));
    expect(overLimits(h)).toEqual([]);
    const givenBack = h.lines.filter((l) => l.msg === 'outbox entry given back unsent');
    expect(givenBack.filter((l) => l.why === 'rate limit').length).toBeGreaterThanOrEqual(2); // the 8th, then the 9th
    // No poll ran (it is a minute away): the timer brought each back a few ms after its slot (7 at 0, 1 after 1 s,
    // 4 after 2 s, each plus the 20 ms margin and the time the answers took).
    const times = h.sink.requests.map((r) => r.at - h.sink.requests[0]!.at);
    expect(times[7]!).toBeGreaterThanOrEqual(1020);
    expect(times[7]!).toBeLessThan(1500);
    expect(times[11]!).toBeGreaterThanOrEqual(2020);
    expect(times[11]!).toBeLessThan(3000);
  });

  it('sends 120 to one tenant across 24 conversations at 50 per second, and another tenant is not held back', async () => {
    const conversations = Array.from({ length: 24 }, (_, i) => ({ id: `c:t2-${i}`, tenantId: 't2' }));
    h = await httpHarness({ conversations: [...conversations, { id: 'c:t3', tenantId: 't3' }] });
    const subject = await h.queue(conversations.flatMap((c) => Array(5).fill(c.id)));
    const other = await h.queue(Array(5).fill('c:t3'), 'other');
    const handled = await h.deliverer.drain();

    expect(handled).toBe(125);
    expect(await settled(h, subject)).toBe(true);
    expect(await settled(h, other)).toBe(true);
    const delivered = h.delivered();
    expect(delivered).toHaveLength(125);
    expect(new Set(delivered).size).toBe(125);
    expect(overLimits(h)).toEqual([]);
    const t2 = h.sink.requests.filter((r) => r.tenantId === 't2');
    expect(t2).toHaveLength(120);
    expect(peakRate(t2, (r) => r.tenantId, 1000, TOLERANCE_MS).count).toBe(50);

    const times = t2.map((r) => r.at);
    const elapsed = Math.max(...times) - Math.min(...times);
    console.log(`120 entries to one tenant in 24 conversations: ${(elapsed / 1000).toFixed(2)} s (minimum the limits allow: 2.00 s)`);
    expect(elapsed).toBeGreaterThanOrEqual(2000 - TOLERANCE_MS);
    expect(elapsed).toBeLessThan(2000 * 1.25);
    // The other tenant's five went out with the first wave.
    const firstT2 = Math.min(...times);
    for (const r of h.sink.requests.filter((x) => x.tenantId === 't3')) expect(r.at - firstT2).toBeLessThan(500);
  }, 30_000);

  it('keeps at most `concurrency` requests in flight when the connector is slow', async () => {
    const conversations = Array.from({ length: 40 }, (_, i) => ({ id: `c:slow-${i}`, tenantId: `t-slow-${i % 4}` }));
    h = await httpHarness({ conversations, deliverer: { concurrency: 8 } });
    h.sink.onRequest(() => ({ delayMs: 100 }));
    const subject = await h.queue(conversations.map((c) => c.id));
    const started = performance.now();
    await h.deliverer.drain();
    const elapsed = performance.now() - started;
    expect(await settled(h, subject)).toBe(true);
    expect(h.sink.peakInFlight()).toBe(8);
    // 40 requests of 100 ms, 8 at a time: five rounds.
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(1500);
  });
});

describe('delivery over HTTP when Teams answers with an error', () => {
  let h: HttpHarness;
  afterEach(() => h?.close());

  const start = async (o: Parameters<typeof httpHarness>[0]['deliverer'] = {}) => {
    h = await httpHarness({
      conversations: [
        { id: 'c:a', tenantId: 't1' },
        { id: 'c:b', tenantId: 't1' },
      ],
      deliverer: { pollMs: 60_000, ...o },
    });
    return h;
  };
  const run = async (subject: string) => {
    h.deliverer.start();
    h.deliverer.kick();
    await until(() => settled(h, subject), 15_000, 'every entry to be settled');
  };

  it('honours Retry-After on 429: nothing more goes to that conversation before it, then everything is sent once', async () => {
    await start();
    h.sink.inject({ status: 429, retryAfter: 1 }, { conversationId: 'c:a' });
    const subject = await h.queue(['c:a', 'c:a', 'c:a', 'c:b']);
    await run(subject);

    const toA = h.sink.requests.filter((r) => r.conversationId === 'c:a');
    expect(toA.map((r) => [r.body.text, r.status])).toEqual([
      ['n-0', 429],
      ['n-0', 200],
      ['n-1', 200],
      ['n-2', 200],
    ]);
    expect(toA[1]!.at - toA[0]!.at).toBeGreaterThanOrEqual(1000);
    // Another conversation of the tenant was not held back.
    expect(h.arrivalsOf('n-3')[0]!.at - toA[0]!.at).toBeLessThan(500);
    expect((await h.entries(subject)).map((e) => [e.state, e.attempts])).toEqual([
      ['sent', 2],
      ['sent', 1],
      ['sent', 1],
      ['sent', 1],
    ]);
    expect(h.lines.find((l) => l.msg === 'outbox entry will be retried')).toMatchObject({
      reason: expect.stringMatching(/^429/),
      retryInMs: 1000,
    });
  });

  it('backs off on 429 without Retry-After, and the conversation waits as long', async () => {
    await start({ random: () => 0.4 });
    h.sink.inject({ status: 429 }, { conversationId: 'c:a' });
    const subject = await h.queue(['c:a', 'c:a']);
    await run(subject);
    const toA = h.sink.requests.filter((r) => r.conversationId === 'c:a');
    expect(toA.map((r) => [r.body.text, r.status])).toEqual([
      ['n-0', 429],
      ['n-0', 200],
      ['n-1', 200],
    ]);
    // The first backoff with this draw: 100 + 0.4 × 200 ms.
    expect(toA[1]!.at - toA[0]!.at).toBeGreaterThanOrEqual(180);
  });

  it.each([500, 502, 503, 504, 412])('retries %i with backoff and sends the entry once', async (status) => {
    await start({ random: () => 0.3 });
    h.sink.inject({ status }, { conversationId: 'c:a' });
    const subject = await h.queue(['c:a', 'c:a', 'c:b']);
    await run(subject);
    expect(h.arrivalsOf('n-0').map((r) => r.status)).toEqual([status, 200]);
    // The first backoff with this draw: 100 + 0.3 × 200 ms.
    expect(h.arrivalsOf('n-0')[1]!.at - h.arrivalsOf('n-0')[0]!.at).toBeGreaterThanOrEqual(160);
    expect(h.delivered().sort()).toEqual(['n-0', 'n-1', 'n-2']);
    expect(h.sink.requests).toHaveLength(4);
    const entries = await h.entries(subject);
    expect(entries.map((e) => [e.state, e.attempts])).toEqual([
      ['sent', 2],
      ['sent', 1],
      ['sent', 1],
    ]);
    expect(entries[0]!.lastError).toMatch(new RegExp(`^${status}`));
  });

  it.each([
    [403, 'BotNotInConversationRoster'],
    [403, 'ConversationBlockedByUser'],
    [404, 'ConversationNotFound'],
  ])('does not retry %i %s: the reference is marked stale and its entries fail with the reason', async (status, code) => {
    await start();
    h.sink.inject({ status, code, message: 'nope' }, { conversationId: 'c:a' });
    const subject = await h.queue(['c:a', 'c:a', 'c:b']);
    await h.deliverer.drain();
    const reason = `${status} ${code}: nope`;
    expect((await h.entries(subject)).map((e) => [e.state, e.lastError ?? null])).toEqual([
      ['failed', reason],
      ['failed', reason],
      ['sent', null],
    ]);
    // One request: the second entry to the stale conversation was not tried.
    expect(h.sink.requests.filter((r) => r.conversationId === 'c:a')).toHaveLength(1);
    expect(await h.store.conversations.get('c:a')).toMatchObject({ active: false, inactiveReason: reason });
    expect(await h.store.conversations.get('c:b')).toMatchObject({ active: true });

    // Later entries are refused without a request, with the reason the partner can act on.
    const later = await h.queue(['c:a'], 'later');
    await h.deliverer.drain();
    expect((await h.entries(later))[0]).toMatchObject({ state: 'failed', lastError: `error: conversation inactive (${reason})` });
    expect(h.sink.requests.filter((r) => r.conversationId === 'c:a')).toHaveLength(1);
  });

  it('does not retry other 4xx: that entry fails, the conversation stays and gets the rest', async () => {
    await start();
    h.sink.inject({ status: 400, code: 'BadArgument', message: 'bad card' }, { conversationId: 'c:a' });
    const subject = await h.queue(['c:a', 'c:a']);
    await h.deliverer.drain();
    expect((await h.entries(subject)).map((e) => [e.state, e.lastError ?? null])).toEqual([
      ['failed', '400 BadArgument: bad card'],
      ['sent', null],
    ]);
    expect(await h.store.conversations.get('c:a')).toMatchObject({ active: true });
    expect(h.sink.requests).toHaveLength(2);
  });

  it.each([
    ['answers too late', { delayMs: 1500 }],
    ['never answers', { hang: true as const }],
  ])('abandons a request the connector %s and retries it: the one documented duplicate', async (_what, fault) => {
    await start({ sendTimeoutMs: 300, random: () => 0.2 });
    h.sink.inject(fault, { conversationId: 'c:a' });
    const subject = await h.queue(['c:a', 'c:a', 'c:b']);
    const began = performance.now();
    await run(subject);
    // The first request reached the sink, so the message was posted; the retry posts it again.
    const first = h.arrivalsOf('n-0');
    expect(first).toHaveLength(2);
    expect(first.every((r) => r.accepted)).toBe(true);
    // The retry waited out the timeout (300 ms from when the first request left, which is after `began`) and the
    // backoff (100 + 0.2 × 200 ms). Measured from `began`, not from the first arrival: a loaded machine can deliver the first
    // request to the sink late, which shortens the gap between arrivals without the deliverer retrying early.
    expect(first[1]!.at - began).toBeGreaterThanOrEqual(300 + 140);
    expect(h.arrivalsOf('n-1')).toHaveLength(1);
    expect(h.arrivalsOf('n-2')).toHaveLength(1);
    const entries = await h.entries(subject);
    expect(entries.map((e) => [e.state, e.attempts])).toEqual([
      ['sent', 2],
      ['sent', 1],
      ['sent', 1],
    ]);
    expect(entries[0]!.lastError).toBe('timeout: no answer from the connector within 300 ms');
    expect(h.lines.find((l) => l.msg === 'outbox entry will be retried')).toMatchObject({ mayHaveArrived: true });
  });

  it('retries a dropped connection (network error) and sends the entry once', async () => {
    await start({ random: () => 0.1 });
    h.sink.inject({ reset: true }, { conversationId: 'c:a' });
    const subject = await h.queue(['c:a']);
    await run(subject);
    expect(h.arrivalsOf('n-0').map((r) => r.accepted)).toEqual([false, true]);
    expect((await h.entries(subject))[0]).toMatchObject({ state: 'sent', attempts: 2 });
  });
});

describe('delivery over HTTP: routing, leases and scale-out', () => {
  let h: HttpHarness;
  afterEach(() => h?.close());

  it("opens a 1:1 chat for a user with none stored, rate-limited as that user's chat, naming the tenant", async () => {
    h = await httpHarness({ conversations: [] });
    const target = { kind: 'user' as const, tenantId: 't9', aadObjectId: 'aad-1', userId: '29:u1', serviceUrl: h.sink.url };
    const subject = await enqueue(h.store, [textEntry(target, 'hello')]);
    await h.deliverer.drain();
    expect(h.sink.requests.map((r) => [r.method, r.tenantId])).toEqual([
      ['CREATE', 't9'],
      ['POST', 't9'],
    ]);
    expect(h.lines.find((l) => l.msg === 'outbox entry delivered')).toMatchObject({ conversation: 'user:t9:aad-1' });
    expect((await h.entries(subject))[0]).toMatchObject({ state: 'sent' });
  });

  it('loses nothing when a process dies holding entries: another takes them once the lease runs out', async () => {
    h = await httpHarness({ conversations: [{ id: 'c:a', tenantId: 't1' }], deliverer: { pollMs: 100 } });
    const subject = await h.queue(['c:a', 'c:a', 'c:a']);
    const now = new Date();
    // A process claimed them and died without a word.
    expect(await h.store.outbox.claim('dead-process', now.toISOString(), new Date(now.getTime() + 700).toISOString(), 10)).toHaveLength(3);
    h.deliverer.start();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.sink.requests).toHaveLength(0);
    await until(() => settled(h, subject), 5000);
    expect(h.delivered()).toEqual(['n-0', 'n-1', 'n-2']);
  });

  it('two processes with an explicit half share each: every entry once, and together within the limits', async () => {
    h = await httpHarness({ conversations: [{ id: 'c:a', tenantId: 't1' }], deliverer: { instances: 2, pollMs: 50, batch: 4 } });
    const second = h.another({ instances: 2, pollMs: 50, batch: 4 });
    const subject = await h.queue(Array(16).fill('c:a'));
    h.deliverer.start();
    second.start();
    await until(() => settled(h, subject), 20_000);
    const delivered = h.delivered();
    expect(delivered).toHaveLength(16);
    expect(new Set(delivered).size).toBe(16);
    expect(overLimits(h)).toEqual([]);
    expect(peakRate(h.sink.requests.filter(isSend), (r) => r.conversationId, 1000, TOLERANCE_MS).count).toBeLessThanOrEqual(6);
  }, 30_000);
});
