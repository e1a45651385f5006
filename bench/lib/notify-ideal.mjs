// The fastest delivery Teams' limits allow for a given set of entries and their planned outcomes, for
// `npm run bench:notify`: an ideal sender simulated in continuous time, with no CPU cost, no network latency and every
// entry available at time 0.
//
// Windows are counted as the deliverer's limiter and the bench's measurement count them: at most `limit` requests in
// any half-open stretch [x, x + windowMs), so requests at t and t + windowMs never share a window. Every request
// counts, whatever its answer (Teams counts what reaches it).
//
// The ideal sender sends each request at the earliest instant at which the windows of its conversation and its tenant
// allow one more, choosing among the requests that are ready by a priority rule; several rules are tried and the
// best result kept. A 429 makes the entry wait its Retry-After before its next try; a 503 may be retried at once
// (unless `waits` says otherwise). The result is an achievable schedule, so it is an upper bound on the true optimum;
// `lowerBound` gives a bound below the optimum (each constraint alone), so the optimum lies between the two.

/**
 * @typedef {{ key: string, conversation: string, tenant: string, order: number, chain: ('429'|'503'|'ok')[],
 *   waits?: number[] }} IdealEntry  waits[a]: ms between failed attempt a and the next (overrides the defaults)
 * @typedef {{ limit: number, windowMs: number }} Window
 */

/** True when one more request at time t keeps every window of this key within its limit. */
function fits(times, windows, t) {
  for (const { limit, windowMs } of windows) {
    let n = 0;
    for (let i = times.length - 1; i >= 0 && times[i] + windowMs > t; i--) n++;
    if (n >= limit) return false;
  }
  return true;
}

/** The earliest time after t at which one of this key's requests leaves one of its windows. */
function nextExpiry(times, windows, t) {
  let next = Infinity;
  for (const { windowMs } of windows) {
    // The oldest request still inside the window ending at t leaves it at s + windowMs.
    for (let i = 0; i < times.length; i++) {
      if (times[i] + windowMs > t) {
        next = Math.min(next, times[i] + windowMs);
        break;
      }
    }
  }
  return next;
}

const PRIORITIES = {
  /** The order the entries were queued in (what a FIFO store hands out). */
  order: (a, b) => a.order - b.order,
  /** Longest remaining work first: the conversation with the most requests still to send, then the longest retry chain. */
  conversation: (a, b) => b.conv.remaining - a.conv.remaining || b.waitLeft - a.waitLeft || a.order - b.order,
  /** The entry with the most forced waiting ahead of it first (its remaining 429s), then its conversation's backlog. */
  chain: (a, b) => b.waitLeft - a.waitLeft || b.conv.remaining - a.conv.remaining || a.order - b.order,
};

/**
 * One greedy schedule.
 * @param {object} o
 * @param {IdealEntry[]} o.entries
 * @param {{ conversation: Window[], tenant: Window[] }} o.limits
 * @param {boolean} [o.fifo] only the oldest undelivered entry of a conversation may be sent (the deliverer's order),
 *   so a retry holds the conversation until it is due
 * @param {boolean} [o.blockOn429] a 429 holds its whole conversation for Retry-After (as the deliverer's limiter does:
 *   Teams throttles the conversation), not only the entry that got it
 * @param {number} [o.marginMs] added to every window (the deliverer's limiter adds 20 ms)
 * @param {number} [o.serviceMs] the sender handles one request at a time, each taking this long (a CPU cost per
 *   request on one event loop); 0 for the ideal
 * @param {number} [o.retryAfterMs] the wait after a 429 (default 1000)
 * @param {keyof PRIORITIES} [o.priority]
 */
export function simulate({
  entries,
  limits,
  fifo = false,
  blockOn429 = false,
  marginMs = 0,
  serviceMs = 0,
  retryAfterMs = 1000,
  priority = 'order',
}) {
  const convWindows = limits.conversation.map((w) => ({ limit: w.limit, windowMs: w.windowMs + marginMs }));
  const tenantWindows = limits.tenant.map((w) => ({ limit: w.limit, windowMs: w.windowMs + marginMs }));
  const waitAfter = (e, a) => e.src.waits?.[a] ?? (e.src.chain[a] === '429' ? retryAfterMs : 0);
  const convs = new Map();
  const tenants = new Map();
  const items = entries.map((src) => {
    let conv = convs.get(src.conversation);
    if (!conv) convs.set(src.conversation, (conv = { times: [], queue: [], remaining: 0, blockedUntil: 0 }));
    let tenant = tenants.get(src.tenant);
    if (!tenant) tenants.set(src.tenant, (tenant = { times: [] }));
    const e = { src, order: src.order, conv, tenant, attempt: 0, readyAt: 0, done: false, doneAt: undefined, waitLeft: 0 };
    for (let a = 0; a < src.chain.length - 1; a++) e.waitLeft += waitAfter(e, a);
    conv.remaining += src.chain.length;
    conv.queue.push(e);
    return e;
  });
  for (const conv of convs.values()) conv.queue.sort((a, b) => a.order - b.order);
  const compare = PRIORITIES[priority];
  const sends = [];
  let left = items.length;
  let t = 0;
  let pending = items.slice();
  let freeAt = 0;
  while (left > 0) {
    for (let sent = true; sent && freeAt <= t;) {
      sent = false;
      const ready = pending.filter((e) => e.readyAt <= t && e.conv.blockedUntil <= t && (!fifo || e.conv.queue[0] === e)).sort(compare);
      for (const e of ready) {
        if (freeAt > t) break;
        if (e.conv.blockedUntil > t || !fits(e.conv.times, convWindows, t) || !fits(e.tenant.times, tenantWindows, t)) continue;
        const outcome = e.src.chain[e.attempt];
        e.conv.times.push(t);
        e.tenant.times.push(t);
        e.conv.remaining--;
        freeAt = t + serviceMs;
        sends.push({ key: e.src.key, conversation: e.src.conversation, tenant: e.src.tenant, at: t, attempt: e.attempt, outcome });
        if (outcome === 'ok') {
          e.done = true;
          e.doneAt = t;
          left--;
          if (fifo) e.conv.queue.shift();
        } else {
          const wait = waitAfter(e, e.attempt);
          e.waitLeft -= wait;
          e.readyAt = t + wait;
          if (blockOn429 && outcome === '429') e.conv.blockedUntil = Math.max(e.conv.blockedUntil, t + wait);
          e.attempt++;
        }
        sent = true;
      }
      if (sent) pending = pending.filter((e) => !e.done);
    }
    if (left === 0) break;
    let next = freeAt > t ? freeAt : Infinity;
    for (const e of pending) if (e.readyAt > t) next = Math.min(next, e.readyAt);
    for (const c of convs.values()) if (c.blockedUntil > t) next = Math.min(next, c.blockedUntil);
    for (const c of convs.values()) next = Math.min(next, nextExpiry(c.times, convWindows, t));
    for (const c of tenants.values()) next = Math.min(next, nextExpiry(c.times, tenantWindows, t));
    if (!Number.isFinite(next)) throw new Error('ideal schedule stuck');
    t = next;
  }
  const makespanMs = Math.max(...items.map((e) => e.doneAt));
  return { makespanMs, priority, sends, doneAt: items.map((e) => e.doneAt) };
}

/** The best of the greedy schedules over every priority rule. */
export function bestSchedule(options) {
  let best;
  const tried = {};
  for (const priority of Object.keys(PRIORITIES)) {
    const s = simulate({ ...options, priority });
    tried[priority] = s.makespanMs;
    if (!best || s.makespanMs < best.makespanMs) best = s;
  }
  return { ...best, tried };
}

/** When the n-th of n requests can go at the earliest under these windows alone, all ready at 0 (greedy is optimal). */
function packing(n, windows) {
  const times = [];
  let t = 0;
  while (times.length < n) {
    if (fits(times, windows, t)) times.push(t);
    else t = nextExpiry(times, windows, t);
  }
  return t;
}

/**
 * A bound no sender can beat: the largest of (a) an entry's forced waits (its 429s' Retry-After), (b) the busiest
 * conversation's requests packed as tightly as its windows allow, (c) the busiest tenant's requests packed as tightly
 * as the tenant window allows. Each ignores the other constraints, so the optimum may be higher.
 */
export function lowerBound({ entries, limits, retryAfterMs = 1000 }) {
  const perConv = new Map();
  const perTenant = new Map();
  let chain = 0;
  for (const e of entries) {
    perConv.set(e.conversation, (perConv.get(e.conversation) ?? 0) + e.chain.length);
    perTenant.set(e.tenant, (perTenant.get(e.tenant) ?? 0) + e.chain.length);
    chain = Math.max(chain, e.chain.filter((o) => o === '429').length * retryAfterMs);
  }
  const conversation = packing(Math.max(...perConv.values()), limits.conversation);
  const tenant = packing(Math.max(...perTenant.values()), limits.tenant);
  return {
    ms: Math.max(chain, conversation, tenant),
    chain,
    conversation,
    tenant,
    busiestConversation: Math.max(...perConv.values()),
    busiestTenant: Math.max(...perTenant.values()),
  };
}
