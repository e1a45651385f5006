/** At most `limit` sends in any `windowMs` long stretch of time. */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

export interface RateLimits {
  conversation: readonly RateWindow[];
  tenant: readonly RateWindow[];
}

/**
 * Teams' limits for a bot's proactive messages (sends and updates alike): per conversation and per tenant.
 * https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit
 */
export const TEAMS_RATE_LIMITS: RateLimits = {
  conversation: [
    { limit: 7, windowMs: 1_000 },
    { limit: 8, windowMs: 2_000 },
    { limit: 60, windowMs: 30_000 },
    { limit: 1_800, windowMs: 3_600_000 },
  ],
  tenant: [{ limit: 50, windowMs: 1_000 }],
};

export interface RateKeys {
  conversation: string;
  /** Absent when the tenant is not known: only the conversation's windows apply. */
  tenant?: string;
}

export interface Reservation {
  /** When the send may leave: at or after the `now` it was asked for. */
  readonly at: number;
  /** Takes the send back (it did not happen); calling it twice is harmless. */
  cancel(): void;
  /**
   * The send is over: its answer came at `at`. The send is counted at that time from now on: it reached Teams at
   * some point between leaving and the answer, and counting it at the latest keeps every later send at least a
   * window away from it, however long the request took to get there (a new connection, a slow network).
   */
  done(at: number): void;
}

export interface RateLimiterOptions {
  limits?: RateLimits;
  /**
   * How many processes share the limits: each gets floor(limit / instances) of every window (at least 1). The share is
   * explicit and static: processes do not talk to each other, so N must be the number actually running.
   */
  instances?: number;
  /**
   * Every window is treated as this much longer. Sends leave a few milliseconds after their slot and reach Teams
   * after a network delay that varies; without a margin an early send delayed more than a later one would make the
   * two look closer together to Teams than they were planned.
   */
  marginMs?: number;
  /**
   * Windows longer than this are counted in 60 buckets per window instead of send by send, so a busy conversation
   * keeps at most ~60 numbers for the hour window instead of up to 1,800. Buckets are counted conservatively: a
   * bucket that overlaps a window counts whole, so a send may wait up to one bucket (1 minute for the hour) longer
   * than the exact limit requires, and never less.
   */
  exactUpToMs?: number;
}

export interface RateLimiter {
  /**
   * Finds the earliest time at or after `now` at which one more send stays within every window of both keys, and
   * records the send at that time. All times are in the caller's one clock (the deliverer uses a monotonic one).
   */
  reserve(keys: RateKeys, now: number): Reservation;
  /** After a 429 for this conversation: nothing more is reserved for it before `until`. */
  block(conversation: string, until: number): void;
  /** What is held in memory, for tests and metrics. */
  size(): { keys: number; timestamps: number; buckets: number };
}

interface Bucketed {
  window: RateWindow;
  bucketMs: number;
  /** [start, count], oldest first. */
  buckets: [number, number][];
}

interface KeyState {
  /** Exact send times, sorted; only as far back as the longest exactly counted window. */
  times: number[];
  exact: RateWindow[];
  bucketed: Bucketed[];
  blockedUntil: number;
}

/** Earliest t' >= t such that no `limit` recorded sends share a window with t'. */
function earliestExact(times: number[], { limit, windowMs }: RateWindow, t: number): number {
  // Any window holding `limit` sends holds `limit` consecutive ones, times[i..j]; a new send at t joins them in one
  // window exactly when times[j] - windowMs < t < times[i] + windowMs (and they fit one window: span < windowMs).
  // Both ends grow with i, so one pass in order finds the first gap.
  for (let i = 0, j = limit - 1; j < times.length; i++, j++) {
    const first = times[i]!;
    const last = times[j]!;
    if (last - first < windowMs && t > last - windowMs && t < first + windowMs) t = first + windowMs;
  }
  return t;
}

function earliestBucketed({ window, bucketMs, buckets }: Bucketed, t: number): number {
  for (;;) {
    // Every bucket that overlaps some window containing t counts whole: an overcount, never an undercount.
    let count = 0;
    let oldest: number | undefined;
    for (const [start, n] of buckets) {
      if (start + bucketMs <= t - window.windowMs || start >= t + window.windowMs) continue;
      count += n;
      oldest ??= start;
    }
    if (count < window.limit || oldest === undefined) return t;
    t = oldest + bucketMs + window.windowMs;
  }
}

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const { limits = TEAMS_RATE_LIMITS, instances = 1, marginMs = 0, exactUpToMs = 60_000 } = options;
  if (!Number.isInteger(instances) || instances < 1) throw new Error(`instances must be a whole number >= 1, not ${instances}`);
  const share = (windows: readonly RateWindow[]) =>
    windows.map((w) => ({ limit: Math.max(1, Math.floor(w.limit / instances)), windowMs: w.windowMs + marginMs }));
  const conversationWindows = share(limits.conversation);
  const tenantWindows = share(limits.tenant);
  const longest = Math.max(...conversationWindows.map((w) => w.windowMs), ...tenantWindows.map((w) => w.windowMs));

  const conversations = new Map<string, KeyState>();
  const tenants = new Map<string, KeyState>();
  let lastSweep = -Infinity;

  const newState = (windows: RateWindow[]): KeyState => ({
    times: [],
    exact: windows.filter((w) => w.windowMs <= exactUpToMs),
    bucketed: windows
      .filter((w) => w.windowMs > exactUpToMs)
      .map((window) => ({ window, bucketMs: Math.ceil(window.windowMs / 60), buckets: [] })),
    blockedUntil: -Infinity,
  });
  const stateOf = (map: Map<string, KeyState>, key: string, windows: RateWindow[]) => {
    let s = map.get(key);
    if (!s) map.set(key, (s = newState(windows)));
    return s;
  };

  /** Drops what no send at or after `now` can share a window with; true when nothing is left. */
  const prune = (s: KeyState, now: number): boolean => {
    const exactLongest = Math.max(0, ...s.exact.map((w) => w.windowMs));
    let drop = 0;
    while (drop < s.times.length && s.times[drop]! <= now - exactLongest) drop++;
    if (drop) s.times.splice(0, drop);
    for (const b of s.bucketed) {
      while (b.buckets.length && b.buckets[0]![0] + b.bucketMs <= now - b.window.windowMs) b.buckets.shift();
    }
    return s.times.length === 0 && s.bucketed.every((b) => b.buckets.length === 0) && s.blockedUntil <= now;
  };

  // Idle keys are forgotten by a sweep at most once per longest window, so memory follows the keys in recent use.
  const sweep = (now: number) => {
    if (now - lastSweep < longest) return;
    lastSweep = now;
    for (const map of [conversations, tenants]) for (const [key, s] of map) if (prune(s, now)) map.delete(key);
  };

  const earliest = (s: KeyState, t: number) => {
    t = Math.max(t, s.blockedUntil);
    for (const w of s.exact) t = earliestExact(s.times, w, t);
    for (const b of s.bucketed) t = earliestBucketed(b, t);
    return t;
  };

  const record = (s: KeyState, t: number) => {
    let i = s.times.length;
    while (i > 0 && s.times[i - 1]! > t) i--;
    s.times.splice(i, 0, t);
    for (const b of s.bucketed) {
      const start = Math.floor(t / b.bucketMs) * b.bucketMs;
      let k = b.buckets.length;
      while (k > 0 && b.buckets[k - 1]![0] > start) k--;
      if (k > 0 && b.buckets[k - 1]![0] === start) b.buckets[k - 1]![1]++;
      else b.buckets.splice(k, 0, [start, 1]);
    }
  };

  const unrecord = (s: KeyState, t: number) => {
    const i = s.times.indexOf(t);
    if (i >= 0) s.times.splice(i, 1);
    for (const b of s.bucketed) {
      const start = Math.floor(t / b.bucketMs) * b.bucketMs;
      const k = b.buckets.findIndex(([s0]) => s0 === start);
      if (k >= 0 && --b.buckets[k]![1] === 0) b.buckets.splice(k, 1);
    }
  };

  return {
    reserve(keys, now) {
      sweep(now);
      const states = [stateOf(conversations, keys.conversation, conversationWindows)];
      if (keys.tenant !== undefined) states.push(stateOf(tenants, keys.tenant, tenantWindows));
      for (const s of states) prune(s, now);
      // Moving later for one key can only create conflicts further on for the other, so repeat until both agree.
      let at = now;
      for (let moved = true; moved;) {
        moved = false;
        for (const s of states) {
          const next = earliest(s, at);
          if (next !== at) {
            at = next;
            moved = true;
          }
        }
      }
      for (const s of states) record(s, at);
      let recorded: number | undefined = at;
      return {
        at,
        cancel() {
          if (recorded === undefined) return;
          for (const s of states) unrecord(s, recorded);
          recorded = undefined;
        },
        done(answeredAt) {
          if (recorded === undefined || answeredAt <= recorded) return;
          for (const s of states) unrecord(s, recorded);
          for (const s of states) record(s, answeredAt);
          recorded = answeredAt;
        },
      };
    },
    block(conversation, until) {
      const s = stateOf(conversations, conversation, conversationWindows);
      s.blockedUntil = Math.max(s.blockedUntil, until);
    },
    size() {
      let keys = 0;
      let timestamps = 0;
      let buckets = 0;
      for (const map of [conversations, tenants]) {
        for (const s of map.values()) {
          keys++;
          timestamps += s.times.length;
          for (const b of s.bucketed) buckets += b.buckets.length;
        }
      }
      return { keys, timestamps, buckets };
    },
  };
}
