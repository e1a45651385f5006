import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { RelationshipsStore } from '../delegation/store';
import type { ConversationsStore } from '../directory/store';
import type { OutboxStore } from './store';
import type { OffersStore } from '../offers/store';
import { PermanentDeliveryError } from './messages';
import { createRateLimiter, type RateLimiter, type Reservation } from './rate-limit';
import { ConversationGoneError, SendTimeoutError, targetKey, type Route, type Router, type SendResult, type Sender } from './sender';
import type { OutboxEntry } from './types';

/** The stores this uses: nothing else of the database is in reach. */
export type DelivererStores = { conversations: ConversationsStore; offers: OffersStore; outbox: OutboxStore; relationships: RelationshipsStore };

export interface DelivererOptions {
  store: DelivererStores;
  /** A bot sender (which can route) or any function that sends one entry. */
  send: Sender;
  /** The store's clock: due times, leases and retry times are written in it. */
  clock: Clock;
  log: Logger;
  /** How often to look for due entries when nothing kicked us (default 1 s). */
  pollMs?: number;
  /** How long a claimed entry stays ours; a process that dies mid-send gives it up when this runs out (default 60 s). */
  leaseMs?: number;
  /** Claimed entries held at most (default 100): more are claimed as these are settled. */
  batch?: number;
  /** Claim again only when at least this many entries fit, unless none are in hand (default 25, at most `batch`). */
  minClaim?: number;
  /** Attempts (sends that got an answer or timed out) before an entry fails (default 12). */
  maxAttempts?: number;
  /** Requests in flight at once, across conversations (default 32). */
  concurrency?: number;
  /** Processes sharing Teams' limits: each uses 1/instances of every window (default 1). Ignored with `limiter`. */
  instances?: number;
  /** A request not answered in this long is abandoned and retried (default 30 s; at most half the lease). */
  sendTimeoutMs?: number;
  /** A rate-limit slot at most this far away is waited for; a later one gives the entry back until then (default 2 s). */
  horizonMs?: number;
  /**
   * Extra length of every rate window (default 20 ms). Sends are counted from when their answer came, so the next one
   * leaves a full window after the previous could have arrived; the margin is for where exactly Teams counts.
   * Ignored with `limiter`.
   */
  rateMarginMs?: number;
  /**
   * After start, nothing is sent for this long (default 2 s plus the margin): the limiter's memory starts empty, and a
   * process restarted right after a crash must not add to what the dead one sent in Teams' 1 s and 2 s windows.
   */
  quietStartMs?: number;
  limiter?: RateLimiter;
  /** Monotonic milliseconds for rate windows and timers (default performance.now); the store clock may stand still in tests. */
  monotonic?: () => number;
  /** For backoff jitter (default Math.random). */
  random?: () => number;
}

export interface Deliverer {
  start(): void;
  /** Look for due entries now (after a write that queued something). */
  kick(): void;
  /**
   * Delivers everything due and returns how many entries it handled (sent, failed or rescheduled after an attempt);
   * for tests. It waits for rate-limit slots instead of giving entries back (as long as their leases allow), and
   * when it did have to give some back, waits until they are due and delivers them too. Retries after an error are
   * not waited for: they are left pending with their due time.
   */
  drain(): Promise<number>;
  /** Stops taking work; entries not yet sent are given back at once. Waits for requests in flight. */
  stop(): Promise<void>;
}

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 300_000;
/** Teams' error codes that mean the bot can no longer post in that conversation, whatever the request was. */
const GONE_CODES = new Set(['BotNotInConversationRoster', 'ConversationBlockedByUser', 'ConversationNotFound']);
/** How late a send may leave after its reserved slot before the slot is taken again at the real time. */
const LATE_MS = 5;

/** Exponential backoff with full jitter: uniform in [0, min(cap, 1 s · 2^attempt)], so the first retry is ~0.5 s. */
export const backoffMs = (attempt: number, random: () => number = Math.random): number =>
  random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);

const statusOf = (err: unknown): number | undefined => {
  const e = err as { statusCode?: number; status?: number; response?: { status?: number } };
  return e?.statusCode ?? e?.response?.status ?? e?.status;
};

/** Teams' error code from the answer's body (the connector client lifts it to `code`), or a network error code. */
const codeOf = (err: unknown): string | undefined => {
  const e = err as { code?: unknown; body?: { error?: { code?: unknown } } };
  const code = e?.body?.error?.code ?? e?.code;
  return typeof code === 'string' && code ? code : undefined;
};

export const retryAfterMs = (err: unknown, nowMs = Date.now()): number | undefined => {
  const headers = (err as { response?: { headers?: { get?(n: string): string | undefined } & Record<string, unknown> } })?.response?.headers;
  const raw = headers?.get?.('retry-after') ?? (headers?.['retry-after'] as string | undefined);
  if (raw === undefined || raw === null || String(raw).trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(raw));
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
};

const reasonOf = (err: unknown): string => {
  const status = statusOf(err);
  const code = codeOf(err);
  const head = err instanceof SendTimeoutError ? 'timeout' : `${status ?? 'error'}${code ? ` ${code}` : ''}`;
  return `${head}: ${(err as Error)?.message ?? String(err)}`.slice(0, 300);
};

type Verdict = 'gone' | 'throttled' | 'retry' | 'fail';

function verdictOf(err: unknown, entry: OutboxEntry): Verdict {
  if (err instanceof ConversationGoneError) return 'gone';
  if (err instanceof SendTimeoutError) return 'retry';
  if (err instanceof PermanentDeliveryError) return 'fail';
  const status = statusOf(err);
  if (status === 429) return 'throttled';
  const code = codeOf(err);
  // A 404 on an update can mean the message is gone while the conversation is fine: only Teams' code says more.
  if ((status === 403 || status === 404) && (entry.action.kind === 'send' || (code && GONE_CODES.has(code)))) return 'gone';
  // No status: reset, refused, DNS; the request may or may not have arrived, and trying again is how to find out.
  if (status === undefined || status >= 500 || status === 408 || status === 412) return 'retry';
  return 'fail';
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

function createSlots(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    async acquire(): Promise<() => void> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },
  };
}

/**
 * What became of one entry. `later`: it is pending again, due at `dueAt` (store time; entries held behind it get the
 * very same value, so the store hands them out in the same order) and `until` (monotonic).
 */
type Outcome =
  | { kind: 'sent' }
  | { kind: 'failed' }
  | { kind: 'gone'; reason: string }
  | { kind: 'later'; why: 'retry' | 'rate' | 'stopping'; until: number; dueAt: string };

interface Item {
  entry: OutboxEntry;
  route?: Route;
  routeError?: unknown;
  /** Monotonic time the lease on the entry runs out. */
  leaseEnds: number;
}

/** One conversation's queue, worked by one loop at a time so its entries go out in order. */
interface Conversation {
  key: string;
  queue: Item[];
  /** Set after a 403/404: the rest of the queue fails without being tried. */
  gone?: string;
}

interface Run {
  handled: number;
  /** The earliest time an entry given back for the rate limits becomes due (monotonic). */
  rateAt?: number;
}

const min = (a: number | undefined, b: number) => (a === undefined ? b : Math.min(a, b));

/**
 * Sends outbox entries at least once, leased so several processes can share one store, within Teams' rate limits.
 *
 * It keeps up to `batch` claimed entries in hand, claiming more as they settle, so one busy conversation or tenant
 * never holds back the others. Each claimed entry is routed to the conversation it will land in; conversations are
 * worked concurrently (at most `concurrency` requests in flight), each conversation's entries in order (a retry holds
 * back only the entries about the same subject). Before each send it reserves a slot with the rate limiter: a slot
 * within `horizonMs` is waited for, a later one gives the entry back to the store until then (no attempt counted).
 * Whatever this process reschedules, it wakes up for exactly when it is due, besides polling.
 */
export function createDeliverer(options: DelivererOptions): Deliverer {
  const { store, send, clock, log } = options;
  const pollMs = options.pollMs ?? 1000;
  const leaseMs = options.leaseMs ?? 60_000;
  const batch = options.batch ?? 100;
  const maxAttempts = options.maxAttempts ?? 12;
  const horizonMs = options.horizonMs ?? 2000;
  // A send must end (or be abandoned) well inside the lease, or another process could take the entry mid-send.
  const sendTimeoutMs = Math.min(options.sendTimeoutMs ?? 30_000, leaseMs / 2);
  const mono = options.monotonic ?? (() => performance.now());
  const random = options.random ?? Math.random;
  let notBefore = 0;
  /** The earliest moment a send may be planned for now. */
  const earliest = () => Math.max(mono(), notBefore);
  const limiter = options.limiter ?? createRateLimiter({ instances: options.instances ?? 1, marginMs: options.rateMarginMs ?? 20 });
  const slots = createSlots(options.concurrency ?? 32);
  const route: Router =
    send.route ??
    (async (entry) => ({ ...targetKey(entry.target), send: () => send(entry) }));

  const owner = randomUUID();
  const conversations = new Map<string, Conversation>();
  /**
   * Entries that must not go before an earlier one that was rescheduled: they are given back with the very same due
   * time, so the store hands them out again behind it, in order. A rate-limit deferral holds the whole conversation
   * (nothing there may go sooner anyway); a retry holds only the messages about the same subject, so one offer's
   * failing card update does not stall every other message to that chat. Keyed by `holdKey`; in the store's time.
   */
  const holds = new Map<string, string>();
  const holdKey = (conversationKey: string, subjectId?: string) => (subjectId ? `${conversationKey}\u0000${subjectId}` : conversationKey);
  /**
   * Consecutive server-side failures (5xx, timeouts, network) per entry in hand, for the backoff's exponent: a 429 is
   * waited out by its own Retry-After and must not make the next 5xx wait longer. In memory: after a restart an entry
   * starts again from the first retry's window.
   */
  const serverFailures = new Map<string, number>();
  /** Claim only when this many fit (or nothing is in hand): one claim transaction per entry would cost more than it sends. */
  const minClaim = Math.min(options.minClaim ?? 25, batch);
  let inHand = 0;
  let wantClaim = false;
  let poke: (() => void) | undefined;
  let poked = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let wakeTimer: NodeJS.Timeout | undefined;
  let wakeTimerAt = Infinity;
  let running: Promise<Run> | undefined;
  let stopped = true;
  let draining = 0;
  /** Every send waiting for its slot listens on this signal; dozens at once is expected, not a leak. */
  const stopSignal = () => {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  };
  let closing = stopSignal();

  /** Something changed (an entry settled, something was kicked): the claim loop looks again. */
  const nudge = () => {
    poked = true;
    poke?.();
  };
  const nextNudge = () =>
    poked
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          poke = resolve;
        });

  /** The store time `ms` from now; rounded up so the entry is never due before the wake-up for it. */
  const storeTimeIn = (ms: number) => new Date(Math.ceil(clock().getTime() + Math.max(0, ms))).toISOString();

  const metaOf = (entry: OutboxEntry, key?: string) => ({
    entryId: entry.id,
    subject: entry.subject?.id,
    action: entry.action.kind,
    conversation: key,
    attempt: entry.attempts + 1,
  });

  async function defer(entry: OutboxEntry, dueAt: string, why: string, key?: string): Promise<void> {
    await store.outbox.defer(entry.id, owner, dueAt);
    log.debug({ ...metaOf(entry, key), dueAt, why }, 'outbox entry given back unsent');
  }

  async function settle(entry: OutboxEntry, key: string | undefined, err: unknown): Promise<Outcome> {
    const meta = metaOf(entry, key);
    const reason = reasonOf(err);
    const verdict = verdictOf(err, entry);
    if (verdict === 'gone') {
      // The sender names the conversation it wrote to, which for a user target is their resolved 1:1 chat.
      const conversationId =
        (err as { conversationId?: string }).conversationId ?? (entry.target.kind === 'conversation' ? entry.target.conversationId : undefined);
      if (conversationId && !(err instanceof ConversationGoneError)) await store.conversations.deactivate(conversationId, reason, clock().toISOString());
      await store.outbox.markFailed(entry.id, owner, reason);
      log.warn({ ...meta, reason }, 'outbox entry failed: the bot can no longer post there');
      return { kind: 'gone', reason };
    }
    if (verdict === 'fail' || entry.attempts + 1 >= maxAttempts) {
      await store.outbox.markFailed(entry.id, owner, reason);
      log.warn({ ...meta, reason }, 'outbox entry failed');
      return { kind: 'failed' };
    }
    const failures = verdict === 'throttled' ? 0 : (serverFailures.get(entry.id) ?? 0);
    if (verdict !== 'throttled') {
      // Entries another process finished are never settled here: forget them all now and then (it only resets backoffs).
      if (serverFailures.size > 10_000) serverFailures.clear();
      serverFailures.set(entry.id, failures + 1);
    }
    const wait = (verdict === 'throttled' ? retryAfterMs(err) : undefined) ?? backoffMs(failures, random);
    const until = mono() + wait;
    const dueAt = storeTimeIn(wait);
    // Teams throttles the conversation, not the entry: nothing else goes there before it said.
    if (verdict === 'throttled' && key) limiter.block(key, until);
    await store.outbox.retryLater(entry.id, owner, dueAt, reason);
    log.info(
      { ...meta, reason, retryInMs: Math.round(wait), ...(err instanceof SendTimeoutError ? { mayHaveArrived: true } : {}) },
      'outbox entry will be retried',
    );
    return { kind: 'later', why: 'retry', until, dueAt };
  }

  /** Sends under the timeout: the bot sender aborts its request; any other sender is at least no longer waited for. */
  async function sendNow(route: Route): Promise<SendResult> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new SendTimeoutError(sendTimeoutMs));
      }, sendTimeoutMs);
    });
    try {
      return await Promise.race([route.send(controller.signal), timedOut]);
    } catch (err) {
      throw controller.signal.aborted ? new SendTimeoutError(sendTimeoutMs) : err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function attempt(entry: OutboxEntry, route: Route, leaseEnds: number): Promise<Outcome> {
    const keys = { conversation: route.conversationKey, tenant: route.tenantId };
    // drain() waits for any slot the lease allows rather than give entries back: it must not return before they go.
    const horizon = draining > 0 ? Infinity : horizonMs;
    let slot: Reservation = limiter.reserve(keys, earliest());
    for (;;) {
      const wait = slot.at - mono();
      // Give the entry back rather than hold it past the point where its lease could run out mid-send.
      if (closing.signal.aborted || wait > horizon || Math.max(slot.at, mono()) + sendTimeoutMs > leaseEnds) {
        slot.cancel();
        const why = closing.signal.aborted ? 'stopping' : 'rate';
        const until = why === 'stopping' ? mono() : Math.max(slot.at, mono());
        const dueAt = storeTimeIn(until - mono());
        await defer(entry, dueAt, why === 'rate' ? 'rate limit' : 'stopping', route.conversationKey);
        return { kind: 'later', why, until, dueAt };
      }
      if (wait > 0) {
        await sleep(wait, closing.signal);
        // Sends answered meanwhile may have moved later (see Reservation.done): ask again for this moment.
        slot.cancel();
        slot = limiter.reserve(keys, earliest());
        continue;
      }
      const release = await slots.acquire();
      if (closing.signal.aborted || mono() + sendTimeoutMs > leaseEnds) {
        release();
        continue;
      }
      // Waiting for a free request slot can make the send leave after its reserved time; the limiter must hold the
      // time it really leaves, or later sends planned around it could come too close.
      if (mono() - slot.at > LATE_MS) {
        slot.cancel();
        slot = limiter.reserve(keys, earliest());
        if (slot.at > mono()) {
          release();
          continue;
        }
      }
      let result: SendResult;
      try {
        result = await sendNow(route);
      } catch (err) {
        slot.done(mono());
        release();
        return settle(entry, route.conversationKey, err);
      }
      slot.done(mono());
      release();
      if (entry.onSent?.kind === 'offerCard' && result.activityId) {
        await store.offers.setCard(entry.onSent.offerId, { conversationId: result.conversationId, activityId: result.activityId });
      } else if (entry.onSent?.kind === 'relationshipCard' && result.activityId) {
        await store.relationships.setCard(entry.onSent.relationshipId, { conversationId: result.conversationId, activityId: result.activityId });
      }
      await store.outbox.markSent(entry.id, owner);
      log.info(metaOf(entry, route.conversationKey), 'outbox entry delivered');
      return { kind: 'sent' };
    }
  }

  async function deliver(conversation: Conversation, item: Item, run: Run): Promise<void> {
    const { entry } = item;
    const key = conversation.key;
    if (closing.signal.aborted) return defer(entry, storeTimeIn(0), 'stopping', key);
    if (conversation.gone !== undefined) {
      await store.outbox.markFailed(entry.id, owner, conversation.gone);
      log.warn({ ...metaOf(entry, key), reason: conversation.gone }, 'outbox entry failed: the bot can no longer post there');
      run.handled++;
      return;
    }
    const nowIso = clock().toISOString();
    const hold = [holds.get(key), holds.get(holdKey(key, entry.subject?.id))].find((h) => h !== undefined && h > nowIso);
    if (hold) return defer(entry, hold, 'keeps its place behind an earlier entry', key);
    const outcome = item.route ? await attempt(entry, item.route, item.leaseEnds) : await settle(entry, key, item.routeError);
    if (outcome.kind === 'gone') conversation.gone = outcome.reason;
    if (outcome.kind !== 'later') serverFailures.delete(entry.id);
    if (outcome.kind !== 'later') {
      run.handled++;
      return;
    }
    if (outcome.why === 'stopping') return;
    holds.set(outcome.why === 'retry' ? holdKey(key, entry.subject?.id) : key, outcome.dueAt);
    armWake(outcome.until);
    if (outcome.why === 'retry') run.handled++;
    else run.rateAt = min(run.rateAt, outcome.until);
  }

  async function work(conversation: Conversation, run: Run): Promise<void> {
    for (let item = conversation.queue.shift(); item; item = conversation.queue.shift()) {
      try {
        await deliver(conversation, item, run);
      } catch (err) {
        // The store failed us: the lease runs out and the entry is claimed again, so nothing is lost.
        log.error({ err, ...metaOf(item.entry, conversation.key) }, 'outbox entry could not be settled');
      } finally {
        inHand--;
        nudge();
      }
    }
    conversations.delete(conversation.key);
  }

  async function claimMore(room: number, run: Run): Promise<number> {
    const now = clock();
    const leaseEnds = mono() + leaseMs;
    const entries = await store.outbox.claim(owner, now.toISOString(), new Date(now.getTime() + leaseMs).toISOString(), room);
    inHand += entries.length;
    const items = await Promise.all(
      entries.map(async (entry): Promise<Item> => {
        try {
          return { entry, route: await route(entry), leaseEnds };
        } catch (routeError) {
          return { entry, routeError, leaseEnds };
        }
      }),
    );
    for (const item of items) {
      const key = item.route?.conversationKey ?? targetKey(item.entry.target).conversationKey;
      const existing = conversations.get(key);
      if (existing) {
        existing.queue.push(item);
        continue;
      }
      const conversation: Conversation = { key, queue: [item] };
      conversations.set(key, conversation);
      void work(conversation, run);
    }
    return entries.length;
  }

  /** Claims while there is room and something is due; returns once nothing is in hand and nothing more is due. */
  async function pump(run: Run): Promise<void> {
    wantClaim = true;
    for (;;) {
      poked = false;
      const room = batch - inHand;
      if (wantClaim && room > 0 && (inHand === 0 || room >= minClaim) && !closing.signal.aborted) {
        wantClaim = false;
        try {
          // A full claim means more may be due: look again as soon as there is room.
          if ((await claimMore(room, run)) === room) wantClaim = true;
        } catch (err) {
          log.error({ err }, 'outbox claim failed');
        }
        continue;
      }
      if (inHand === 0 && (!wantClaim || closing.signal.aborted)) break;
      await nextNudge();
    }
    const now = clock().toISOString();
    for (const [key, hold] of holds) if (hold <= now) holds.delete(key);
  }

  /**
   * Every moment something this process gave back falls due (ascending, monotonic ms). One timer runs for the
   * earliest; when it fires it re-arms for the next, so no retry waits for the poll because an earlier one was armed.
   */
  const wakeAts: number[] = [];

  function armWake(at: number) {
    if (stopped) return;
    // Wake-ups within a few ms of one another are one run.
    if (wakeAts.some((t) => Math.abs(t - at) <= 5)) return;
    const i = wakeAts.findIndex((t) => t > at);
    wakeAts.splice(i < 0 ? wakeAts.length : i, 0, at);
    armNext();
  }

  function armNext() {
    const next = wakeAts[0];
    if (stopped || next === undefined || next >= wakeTimerAt) return;
    if (wakeTimer) clearTimeout(wakeTimer);
    wakeTimerAt = next;
    // A few ms late, so the store's clock (wall time, ms precision) agrees the entry is due.
    wakeTimer = setTimeout(
      () => {
        wakeTimer = undefined;
        wakeTimerAt = Infinity;
        const now = mono();
        while (wakeAts.length && (wakeAts[0] ?? Infinity) <= now) wakeAts.shift();
        void run();
        armNext();
      },
      Math.max(0, next - mono()) + 5,
    );
    wakeTimer.unref();
  }

  function run(): Promise<Run> {
    if (running) {
      wantClaim = true;
      nudge();
      return running;
    }
    const thisRun: Run = { handled: 0 };
    running = pump(thisRun)
      .catch((err: unknown) => log.error({ err }, 'outbox delivery failed'))
      .then(() => thisRun)
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  // The poll also reaches a run in progress: it may be waiting on slow sends while others' leases run out.
  function schedule() {
    if (stopped) return;
    pollTimer = setTimeout(() => {
      void run();
      schedule();
    }, pollMs);
    pollTimer.unref();
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      notBefore = mono() + (options.quietStartMs ?? 2000 + (options.rateMarginMs ?? 20));
      log.info({ owner }, 'deliverer started');
      if (closing.signal.aborted) closing = stopSignal();
      schedule();
    },
    kick() {
      if (!stopped) void run();
    },
    async drain() {
      draining++;
      try {
        let handled = 0;
        for (;;) {
          const done = await run();
          handled += done.handled;
          if (done.rateAt === undefined || closing.signal.aborted) return handled;
          await sleep(done.rateAt - mono() + 5, closing.signal);
        }
      } finally {
        draining--;
      }
    },
    async stop() {
      stopped = true;
      closing.abort();
      nudge();
      if (pollTimer) clearTimeout(pollTimer);
      if (wakeTimer) clearTimeout(wakeTimer);
      wakeTimer = undefined;
      wakeTimerAt = Infinity;
      wakeAts.length = 0;
      await running;
    },
  };
}
