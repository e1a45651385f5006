import { createRateLimiter, TEAMS_RATE_LIMITS, type RateWindow } from '../../src/notifications/rate-limit';

/** Reserves `count` sends for one conversation, each asked for at `now`; returns the times granted. */
const burst = (limiter: ReturnType<typeof createRateLimiter>, count: number, now: number, conversation = 'c1', tenant?: string) =>
  Array.from({ length: count }, () => limiter.reserve({ conversation, tenant }, now).at);

/** Brute force: the most of `times` in any half-open window [s, s + windowMs). */
const peak = (times: number[], windowMs: number) => {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
};

describe("the rate limiter for Teams' limits", () => {
  it('states the limits once', () => {
    expect(TEAMS_RATE_LIMITS).toEqual({
      conversation: [
        { limit: 7, windowMs: 1000 },
        { limit: 8, windowMs: 2000 },
        { limit: 60, windowMs: 30_000 },
        { limit: 1800, windowMs: 3_600_000 },
      ],
      tenant: [{ limit: 50, windowMs: 1000 }],
    });
  });

  it('allows 7 sends in one second and holds the 8th until the first leaves the window', () => {
    const limiter = createRateLimiter();
    expect(burst(limiter, 7, 0)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(limiter.reserve({ conversation: 'c1' }, 0).at).toBe(1000);
  });

  it('slides: 7 sends just before a second boundary still hold the next one for a full second', () => {
    const limiter = createRateLimiter();
    burst(limiter, 7, 999);
    // A fixed one-second bucket would allow this at 1000.
    expect(limiter.reserve({ conversation: 'c1' }, 1000).at).toBe(1999);
  });

  it('allows 8 sends in two seconds and holds the 9th until the first leaves that window', () => {
    const limiter = createRateLimiter();
    const asked = [0, 250, 500, 750, 1000, 1250, 1500, 1750];
    expect(asked.map((t) => limiter.reserve({ conversation: 'c1' }, t).at)).toEqual(asked);
    expect(limiter.reserve({ conversation: 'c1' }, 1800).at).toBe(2000);
    expect(limiter.reserve({ conversation: 'c1' }, 2000).at).toBe(2250);
  });

  it('paces a long burst at 7, 1, 7, 1 … per second, the most 7/1 s and 8/2 s allow together', () => {
    const limiter = createRateLimiter();
    const times = burst(limiter, 30, 0);
    expect(times).toEqual([...Array(7).fill(0), 1000, ...Array(7).fill(2000), 3000, ...Array(7).fill(4000), 5000, ...Array(6).fill(6000)]);
  });

  it('allows 60 sends in 30 seconds and holds the 61st until the first leaves that window', () => {
    const limiter = createRateLimiter();
    for (let i = 0; i < 60; i++) expect(limiter.reserve({ conversation: 'c1' }, i * 500).at).toBe(i * 500);
    expect(limiter.reserve({ conversation: 'c1' }, 29_600).at).toBe(30_000);
  });

  it('allows 1,800 sends in an hour, counting the hour in one-minute buckets that only ever wait longer', () => {
    const bucketed = createRateLimiter();
    const exact = createRateLimiter({ exactUpToMs: Infinity });
    for (let i = 0; i < 1800; i++) {
      expect(bucketed.reserve({ conversation: 'c1' }, i * 500).at).toBe(i * 500);
      expect(exact.reserve({ conversation: 'c1' }, i * 500).at).toBe(i * 500);
    }
    expect(exact.reserve({ conversation: 'c1' }, 900_000).at).toBe(3_600_000);
    const at = bucketed.reserve({ conversation: 'c1' }, 900_000).at;
    expect(at).toBeGreaterThanOrEqual(3_600_000);
    expect(at).toBeLessThanOrEqual(3_600_000 + 60_000);
  });

  it('allows 50 sends per second to one tenant across any number of conversations', () => {
    const limiter = createRateLimiter();
    const times = Array.from({ length: 60 }, (_, i) => limiter.reserve({ conversation: `c${i}`, tenant: 't1' }, 0).at);
    expect(times.filter((t) => t === 0)).toHaveLength(50);
    expect(times.slice(50)).toEqual(Array(10).fill(1000));
    // Another tenant is not held back.
    expect(limiter.reserve({ conversation: 'other', tenant: 't2' }, 0).at).toBe(0);
  });

  it('satisfies both keys at once: a tenant slot is only taken where the conversation also has room', () => {
    const limiter = createRateLimiter();
    burst(limiter, 7, 0, 'c1', 't1');
    for (let i = 0; i < 43; i++) limiter.reserve({ conversation: `x${i}`, tenant: 't1' }, 0);
    // The tenant has room at 0 but c1 does not; at 1000 both do.
    expect(limiter.reserve({ conversation: 'c1', tenant: 't1' }, 0).at).toBe(1000);
    for (let i = 0; i < 50; i++) limiter.reserve({ conversation: `y${i}`, tenant: 't1' }, 1000);
    // Now the tenant is full at 1000 (c1 + 49 others + 1): the next send to c1 goes at 2000 whatever c1 allows.
    expect(limiter.reserve({ conversation: 'y0', tenant: 't1' }, 1000).at).toBe(2000);
  });

  it('gives each of N instances floor(limit / N) of every window, at least one', () => {
    const half = createRateLimiter({ instances: 2 });
    expect(burst(half, 4, 0)).toEqual([0, 0, 0, 1000]);
    const tenantHalf = Array.from({ length: 26 }, (_, i) => half.reserve({ conversation: `c${i}`, tenant: 't' }, 0).at);
    expect(tenantHalf.filter((t) => t === 0)).toHaveLength(25);

    // 7/10 and 8/10 round down to 0: one send per second and one per two seconds remain.
    const many = createRateLimiter({ instances: 10 });
    expect(burst(many, 3, 0)).toEqual([0, 2000, 4000]);
    expect(() => createRateLimiter({ instances: 0 })).toThrow(/instances/);
  });

  it('reserves nothing for a conversation blocked after a 429 before the block ends, and nothing else is held', () => {
    const limiter = createRateLimiter();
    limiter.block('c1', 5000);
    expect(limiter.reserve({ conversation: 'c1', tenant: 't' }, 0).at).toBe(5000);
    expect(limiter.reserve({ conversation: 'c2', tenant: 't' }, 0).at).toBe(0);
    // A shorter block later does not shorten it.
    limiter.block('c1', 1000);
    expect(limiter.reserve({ conversation: 'c1' }, 100).at).toBe(5000);
  });

  it('takes a cancelled reservation back, once', () => {
    const limiter = createRateLimiter();
    const reservations = Array.from({ length: 7 }, () => limiter.reserve({ conversation: 'c1', tenant: 't' }, 0));
    const late = limiter.reserve({ conversation: 'c1', tenant: 't' }, 0);
    expect(late.at).toBe(1000);
    late.cancel();
    reservations[0]!.cancel();
    reservations[0]!.cancel();
    expect(limiter.reserve({ conversation: 'c1', tenant: 't' }, 0).at).toBe(0);
    expect(limiter.reserve({ conversation: 'c1', tenant: 't' }, 0).at).toBe(1000);
    expect(limiter.size().timestamps).toBe(16); // 8 for the conversation, 8 for the tenant
  });

  it('counts a send from when its answer came, so a slow request keeps the next ones a full window after it', () => {
    const limiter = createRateLimiter();
    const sends = Array.from({ length: 7 }, () => limiter.reserve({ conversation: 'c1', tenant: 't' }, 0));
    // The first one took 300 ms (a new connection): it may have reached Teams only then; the others 20 ms.
    sends[0]!.done(300);
    for (const s of sends.slice(1)) s.done(20);
    expect(limiter.reserve({ conversation: 'c1', tenant: 't' }, 0).at).toBe(1020);
    // The 8 sends in 2 s now run from 20 to 1020: the 9th waits until 20 + 2000, not 2000.
    expect(limiter.reserve({ conversation: 'c1', tenant: 't' }, 0).at).toBe(2020);
    // An answer can only move a send later; done after cancel is ignored.
    sends[2]!.done(-5);
    sends[3]!.cancel();
    sends[3]!.done(900);
    expect(limiter.size().timestamps).toBe(16);
  });

  it('widens every window by the margin', () => {
    const limiter = createRateLimiter({ marginMs: 50 });
    burst(limiter, 7, 0);
    expect(limiter.reserve({ conversation: 'c1' }, 0).at).toBe(1050);
  });

  it('keeps memory bounded: old timestamps are dropped, the hour is bucketed, idle keys are forgotten', () => {
    const limiter = createRateLimiter();
    // One conversation as busy as an hour allows, 1,800 sends: only the last 30 s are kept send by send.
    for (let i = 0; i < 1800; i++) expect(limiter.reserve({ conversation: 'busy', tenant: 't' }, i * 2000).at).toBe(i * 2000);
    const busy = limiter.size();
    expect(busy.keys).toBe(2);
    expect(busy.timestamps).toBeLessThanOrEqual(16 + 1); // 15-16 in the last 30 s, 1 in the tenant's last second
    expect(busy.buckets).toBeLessThanOrEqual(61);

    // A thousand conversations each send once, then fall silent.
    for (let i = 0; i < 1000; i++) limiter.reserve({ conversation: `idle${i}`, tenant: `t${i % 20}` }, 3_600_000);
    // busy, 1,000 idle ones and their 20 tenants; tenant t, quiet for over a second, is already gone.
    expect(limiter.size().keys).toBe(1021);
    limiter.block('blocked', 3_600_000 + 10 * 3_600_000);
    // Once their longest window has passed, the next reservation sweeps them away; a block is kept while it lasts.
    limiter.reserve({ conversation: 'new', tenant: 't' }, 3_600_000 + 3_700_000);
    expect(limiter.size()).toEqual({ keys: 3, timestamps: 2, buckets: 1 });
  });

  it('never lets any window overflow, whatever the order of keys and times asked (random check)', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const limiter = createRateLimiter({ exactUpToMs: Infinity });
    const sent: { conversation: string; tenant: string; at: number }[] = [];
    let now = 0;
    for (let i = 0; i < 3000; i++) {
      now += rand() * 40;
      const conversation = `c${Math.floor(rand() * 12)}`;
      const tenant = `t${conversation.length % 2}`;
      const r = limiter.reserve({ conversation, tenant }, now);
      expect(r.at).toBeGreaterThanOrEqual(now);
      if (rand() < 0.1) r.cancel();
      else sent.push({ conversation, tenant, at: r.at });
    }
    const check = (key: 'conversation' | 'tenant', windows: readonly RateWindow[]) => {
      const groups = new Map<string, number[]>();
      for (const s of sent) groups.set(s[key], [...(groups.get(s[key]) ?? []), s.at]);
      for (const times of groups.values()) for (const w of windows) expect(peak(times, w.windowMs)).toBeLessThanOrEqual(w.limit);
    };
    check('conversation', TEAMS_RATE_LIMITS.conversation);
    check('tenant', TEAMS_RATE_LIMITS.tenant);
  });
});
