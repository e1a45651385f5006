import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock';
import type { Foreground } from '../edge/foreground';
import type { Logger } from '../log';
import type { RelationshipsStore } from '../delegation/store';
import type { ConversationsStore } from '../directory/store';
import type { OutboxStore } from './store';
import type { OffersStore } from '../offers/store';
import { createHolds } from './delivery-holds';
import { createDeliveryLeases } from './delivery-leases';
import { planAfterSend, planSlot, type SendAnswer } from './delivery-policy';
import { createWakes } from './delivery-wakes';
import { createRateLimiter, type RateLimiter, type Reservation } from './rate-limit';
import { SendTimeoutError, targetKey, type Route, type Router, type SendResult, type Sender } from './sender';
import type { OutboxEntry } from './types';

/** The stores this uses: nothing else of the database is in reach. */
export type DelivererStores = {
  conversations: ConversationsStore;
  offers: OffersStore;
  outbox: OutboxStore;
  relationships: RelationshipsStore;
};

export interface DelivererOptions {
  store: DelivererStores;
  /** A bot sender (which can route) or any function that sends one entry. */
  send: Sender;
  /** The store's clock: due times, leases and retry times are written in it. */
  clock: Clock;
  log: Logger;
  /** How often to look for due entries when nothing kicked us (default 1 s). */
  pollMs?: number;
  /**
   * How long a claimed entry stays ours unless renewed (default 8 s). Leases are renewed every quarter of this while
   * the entry is in hand, so a process that dies gives its entries up within one lease (see delivery-leases.ts).
   */
  leaseMs?: number;
  /**
   * Claimed entries held at most (default 400 ÷ `instances`): more are claimed as these are settled. Each
   * conversation's entries go in order and Teams takes only a few messages a second in one conversation, so what is in
   * hand must span enough conversations to keep the request slots busy: on bench:notify's backlog (10 per conversation)
   * 100 in hand sent about 400 requests a second and took 1.8× the bound Teams' limits allow, 400 about 650 a second
   * and 1.24×, and 1,000 or 2,000 no better. Each of N processes sends within 1/N of the limits, so it needs 1/N of
   * that window, and holding no more leaves the rest of a backlog to the others. Renewing the leases of 400 entries is
   * one short transaction every quarter lease.
   */
  batch?: number;
  /** Claim again only when at least this many entries fit, unless none are in hand (default 25, at most `batch`). */
  minClaim?: number;
  /** Attempts (sends that got an answer or timed out) before an entry fails (default 12). */
  maxAttempts?: number;
  /** Requests in flight at once, across conversations (default 32). */
  concurrency?: number;
  /** Processes sharing Teams' limits: each uses 1/instances of every window (default 1). Ignored with `limiter`. */
  instances?: number;
  /**
   * A request not answered in this long is abandoned and retried (default 30 s). It may outlast the lease as long as
   * renewals succeed; a request whose lease cannot be renewed is abandoned before the lease runs out.
   */
  sendTimeoutMs?: number;
  /** A rate-limit slot at most this far away is waited for; a later one gives the entry back until then (default 2 s). */
  horizonMs?: number;
  /**
   * Requests being answered: before each send the deliverer waits for a moment with none, at most
   * `foregroundWaitMs` (default 50 ms), so the people using the bot are answered first (see foreground.ts).
   */
  foreground?: Pick<Foreground, 'quiet'>;
  foregroundWaitMs?: number;
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

/** How late a send may leave after its reserved slot before the slot is taken again at the real time. */
const LATE_MS = 5;

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

/** What `settle` decided: an outcome, or `again`: the retry is due soon enough to wait for in hand, until `until` (monotonic). */
type Settled = Outcome | { kind: 'again'; until: number; reason: string };

/** Requests made for an entry in hand under this lease before the current one, and why the last of them failed. */
interface InHand {
  tries: number;
  lastError?: string;
}

interface Item {
  entry: OutboxEntry;
  route?: Route;
  routeError?: unknown;
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
  const leaseMs = options.leaseMs ?? 8_000;
  const batch = options.batch ?? Math.ceil(400 / Math.max(1, options.instances ?? 1));
  const maxAttempts = options.maxAttempts ?? 12;
  const horizonMs = options.horizonMs ?? 2000;
  const sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  const foregroundWaitMs = options.foregroundWaitMs ?? 50;
  const mono = options.monotonic ?? (() => performance.now());
  const random = options.random ?? Math.random;
  let notBefore = 0;
  /** The earliest moment a send may be planned for now. */
  const earliest = () => Math.max(mono(), notBefore);
  const limiter = options.limiter ?? createRateLimiter({ instances: options.instances ?? 1, marginMs: options.rateMarginMs ?? 20 });
  const slots = createSlots(options.concurrency ?? 32);
  const route: Router = send.route ?? (async (entry) => ({ ...targetKey(entry.target), send: () => send(entry) }));

  const owner = randomUUID();
  const leases = createDeliveryLeases({ owner, store: store.outbox, clock, monotonic: mono, log, leaseMs });
  const conversations = new Map<string, Conversation>();
  const holds = createHolds();
  const wakes = createWakes({ pollMs, monotonic: mono, wake: () => void run() });
  /**
   * The last server-failure backoff per entry in hand, for the policy's next one. In memory: after a restart an entry
   * starts again from the first retry's window.
   */
  const lastBackoff = new Map<string, number>();
  /**
   * Entries answered 2xx wait here for one commit with every other entry answered in the same turn of the event loop
   * (`markSentMany`), instead of a commit each. Each caller still waits for its own entry's commit.
   */
  let sentQueue: { id: string; attempts: number; lastError?: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  /** Claim only when this many fit (or nothing is in hand): one claim transaction per entry would cost more than it sends. */
  const minClaim = Math.min(options.minClaim ?? 25, batch);
  let inHand = 0;
  let wantClaim = false;
  let poke: (() => void) | undefined;
  let poked = false;
  let running: Promise<Run> | undefined;
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

  /** `hand`: requests already made for it in hand under this lease, counted now, and why the last failed. */
  async function defer(entry: OutboxEntry, dueAt: string, why: string, key?: string, hand?: InHand): Promise<void> {
    await store.outbox.defer(entry.id, owner, dueAt, hand?.tries ?? 0, hand?.lastError);
    log.debug({ ...metaOf(entry, key), dueAt, why }, 'outbox entry given back unsent');
  }

  async function flushSent(): Promise<void> {
    const batch = sentQueue;
    sentQueue = [];
    try {
      await store.outbox.markSentMany(
        owner,
        batch.map(({ id, attempts, lastError }) => ({ id, attempts, ...(lastError === undefined ? {} : { lastError }) })),
      );
      for (const b of batch) b.resolve();
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }

  /** Resolves once the entry is marked sent, in one commit with the others answered in the same turn. */
  const markSent = (id: string, attempts: number, lastError: string | undefined) =>
    new Promise<void>((resolve, reject) => {
      if (sentQueue.length === 0) setImmediate(() => void flushSent());
      sentQueue.push({ id, attempts, lastError, resolve, reject });
    });

  /**
   * Asks the policy what the answer means and carries that out. `hand`: the entry was sent under its lease by this
   * loop, `tries` requests before this one, so a retry due within the horizon (a 429's Retry-After of a second, a
   * 503's backoff of a few hundred ms) is waited for in hand rather than written back and claimed again behind every
   * entry due earlier, as long as the lease (renewed while the entry is in hand) covers the wait and the start of the
   * send after it.
   */
  async function settle(entry: OutboxEntry, key: string | undefined, answer: SendAnswer, hand?: InHand): Promise<Settled> {
    const meta = metaOf(entry, key);
    const attempts = (hand?.tries ?? 0) + 1;
    const plan = planAfterSend(answer, {
      entry,
      maxAttempts,
      lastBackoffMs: lastBackoff.get(entry.id),
      nowMs: Date.now(),
      random,
    });
    if (plan.kind === 'markSent') {
      if (answer.kind === 'sent') await recordCard(entry, answer.result);
      await markSent(entry.id, attempts, hand?.lastError);
      log.info(meta, 'outbox entry delivered');
      return { kind: 'sent' };
    }
    const { reason } = plan;
    if (plan.kind === 'fail') {
      if (plan.deactivate) await store.conversations.deactivate(plan.deactivate, reason, clock().toISOString());
      await store.outbox.markFailed(entry.id, owner, reason, attempts);
      log.warn({ ...meta, reason }, plan.gone ? 'outbox entry failed: the bot can no longer post there' : 'outbox entry failed');
      return plan.gone ? { kind: 'gone', reason } : { kind: 'failed' };
    }
    if (plan.backoffMs !== undefined) {
      // Entries another process finished are never settled here: forget them all now and then (it only resets backoffs).
      if (lastBackoff.size > 10_000) lastBackoff.clear();
      lastBackoff.set(entry.id, plan.backoffMs);
    }
    const until = mono() + plan.inMs;
    if (plan.blockConversation && key) limiter.block(key, until);
    const retried = { ...meta, reason, retryInMs: Math.round(plan.inMs), ...(plan.mayHaveArrived ? { mayHaveArrived: true } : {}) };
    // drain() leaves retries pending with their due time (see Deliverer.drain); stopping gives everything back.
    const inHand =
      hand && draining === 0 && !closing.signal.aborted && plan.inMs <= horizonMs && until + leases.startMs <= leases.endsAt(entry.id);
    if (inHand) {
      log.info({ ...retried, inHand: true }, 'outbox entry will be retried');
      return { kind: 'again', until, reason };
    }
    const dueAt = storeTimeIn(plan.inMs);
    await store.outbox.retryLater(entry.id, owner, dueAt, reason, attempts);
    log.info(retried, 'outbox entry will be retried');
    return { kind: 'later', why: 'retry', until, dueAt };
  }

  /** Remembers where an offer's or a relationship's card landed, so it can be updated later. */
  async function recordCard(entry: OutboxEntry, result: SendResult): Promise<void> {
    if (!result.activityId) return;
    const card = { conversationId: result.conversationId, activityId: result.activityId };
    if (entry.onSent?.kind === 'offerCard') await store.offers.setCard(entry.onSent.offerId, card);
    else if (entry.onSent?.kind === 'relationshipCard') await store.relationships.setCard(entry.onSent.relationshipId, card);
  }

  /**
   * Sends under the timeout, and only while the entry's lease holds: the bot sender aborts its request; any other
   * sender is at least no longer waited for.
   */
  async function sendNow(route: Route, id: string): Promise<SendResult> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let unwatch: (() => void) | undefined;
    const started = mono();
    /** How long it waited for an answer: the timeout, or less when the lease could not be renewed. */
    let waitedMs = sendTimeoutMs;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new SendTimeoutError(waitedMs));
      }, sendTimeoutMs);
      unwatch = leases.watch(id, () => {
        waitedMs = Math.round(mono() - started);
        controller.abort();
        reject(new SendTimeoutError(waitedMs));
      });
    });
    try {
      return await Promise.race([route.send(controller.signal), timedOut]);
    } catch (err) {
      throw controller.signal.aborted ? new SendTimeoutError(waitedMs) : err;
    } finally {
      clearTimeout(timer);
      unwatch?.();
    }
  }

  async function attempt(entry: OutboxEntry, route: Route, hand: InHand): Promise<Settled> {
    const keys = { conversation: route.conversationKey, tenant: route.tenantId };
    // drain() waits for any slot the lease allows rather than give entries back: it must not return before they go.
    const horizon = draining > 0 ? Infinity : horizonMs;
    let slot: Reservation = limiter.reserve(keys, earliest());
    for (;;) {
      const now = mono();
      const plan = planSlot({
        slotAt: slot.at,
        now,
        horizonMs: horizon,
        leaseNeededMs: leases.startMs,
        leaseEnds: leases.endsAt(entry.id),
        stopping: closing.signal.aborted,
      });
      if (plan.kind === 'defer') {
        slot.cancel();
        const dueAt = storeTimeIn(plan.inMs);
        await defer(entry, dueAt, plan.why === 'rate' ? 'rate limit' : 'stopping', route.conversationKey, hand);
        return { kind: 'later', why: plan.why, until: now + plan.inMs, dueAt };
      }
      if (plan.kind === 'wait') {
        await sleep(plan.ms, closing.signal);
        // Sends answered meanwhile may have moved later (see Reservation.done): ask again for this moment.
        slot.cancel();
        slot = limiter.reserve(keys, earliest());
        continue;
      }
      // Before taking a request slot: the time given way to requests is then covered by the lateness check below.
      if (options.foreground) await options.foreground.quiet(foregroundWaitMs);
      const release = await slots.acquire();
      if (closing.signal.aborted || mono() + leases.startMs > leases.endsAt(entry.id)) {
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
      let answer: SendAnswer;
      try {
        answer = { kind: 'sent', result: await sendNow(route, entry.id) };
      } catch (error) {
        answer = { kind: 'error', error };
      }
      slot.done(mono());
      // The request slot is held until the answer is recorded: an entry answered but not yet marked sent (its commit
      // waits for the others answered in the same turn) would be sent again after a crash, so it counts as in flight,
      // and duplicates stay within `concurrency`.
      try {
        return await settle(entry, route.conversationKey, answer, hand);
      } finally {
        release();
      }
    }
  }

  async function deliver(conversation: Conversation, item: Item, run: Run): Promise<void> {
    const { entry } = item;
    const key = conversation.key;
    // A renewal found it settled or taken over by another process: it is that process's to send now.
    if (leases.lost(entry.id)) return log.debug(metaOf(entry, key), 'outbox entry left to the new holder of its lease');
    if (closing.signal.aborted) return defer(entry, storeTimeIn(0), 'stopping', key);
    if (conversation.gone !== undefined) {
      await store.outbox.markFailed(entry.id, owner, conversation.gone);
      log.warn({ ...metaOf(entry, key), reason: conversation.gone }, 'outbox entry failed: the bot can no longer post there');
      run.handled++;
      return;
    }
    const hold = holds.until(key, entry.subject?.id, clock().toISOString());
    if (hold) return defer(entry, hold, 'keeps its place behind an earlier entry', key);
    let outcome: Settled;
    // A retry waited for in hand keeps its place: the conversation's loop waits with it, so nothing behind it overtakes.
    const hand: InHand = { tries: 0 };
    for (;;) {
      const current = hand.tries ? { ...entry, attempts: entry.attempts + hand.tries } : entry;
      outcome = item.route
        ? await attempt(current, item.route, hand)
        : await settle(current, key, { kind: 'error', error: item.routeError });
      if (outcome.kind !== 'again') break;
      hand.tries++;
      hand.lastError = outcome.reason;
      await sleep(outcome.until - mono(), closing.signal);
    }
    if (outcome.kind === 'gone') conversation.gone = outcome.reason;
    if (outcome.kind !== 'later') lastBackoff.delete(entry.id);
    if (outcome.kind !== 'later') {
      run.handled++;
      return;
    }
    if (outcome.why === 'stopping') return;
    if (outcome.why === 'retry') holds.holdSubject(key, entry.subject?.id, outcome.dueAt);
    else holds.holdConversation(key, outcome.dueAt);
    wakes.at(outcome.until);
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
        leases.release(item.entry.id);
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
    leases.hold(
      entries.map((e) => e.id),
      leaseEnds,
    );
    inHand += entries.length;
    const items = await Promise.all(
      entries.map(async (entry): Promise<Item> => {
        try {
          return { entry, route: await route(entry) };
        } catch (routeError) {
          return { entry, routeError };
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
    holds.prune(clock().toISOString());
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

  return {
    start() {
      if (wakes.started()) return;
      notBefore = mono() + (options.quietStartMs ?? 2000 + (options.rateMarginMs ?? 20));
      log.info({ owner }, 'deliverer started');
      if (closing.signal.aborted) closing = stopSignal();
      wakes.start();
    },
    kick() {
      if (wakes.started()) void run();
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
      wakes.stop();
      closing.abort();
      nudge();
      await running;
      leases.stop();
    },
  };
}
