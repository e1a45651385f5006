import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createForeground } from '../../src/edge/foreground';
import { createLogger } from '../../src/log';
import { createDeliverer, type DelivererOptions } from '../../src/notifications/deliverer';
import { backoffMs, retryAfterMs } from '../../src/notifications/delivery-policy';
import { PermanentDeliveryError } from '../../src/notifications/messages';
import { SendTimeoutError, type Sender } from '../../src/notifications/sender';
import type { NewOutboxEntry, OutboxEntry } from '../../src/notifications/types';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/types';
import { trialOffer } from '../support/fixtures';
import { capturedLog, enqueue, sleep, tempStore, textEntry, until } from './support';

/** An error shaped like the connector client's RestError (which lifts Teams' error code to `code`). */
const httpError = (statusCode: number, retryAfter?: string, code?: string) =>
  Object.assign(new Error(`HTTP ${statusCode}`), {
    statusCode,
    ...(code ? { code } : {}),
    response: { status: statusCode, headers: { get: (name: string) => (name === 'retry-after' ? retryAfter : undefined) } },
  });

describe('the outbox deliverer', () => {
  let dir: string;
  let store: Store;
  const now = new Date('2026-11-25T09:00:00.000Z');
  const log = createLogger('silent');

  const entry = (conversationId = 'a:megan'): NewOutboxEntry => ({
    target: { kind: 'conversation', conversationId },
    action: { kind: 'send', message: { kind: 'offer.card', args: { offerId: 'T-4K7P2Q' } } },
    onSent: { kind: 'offerCard', offerId: 'T-4K7P2Q' },
    subject: { kind: 'offer', id: 'T-4K7P2Q' },
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deliverer-'));
    store = openSqliteStore(join(dir, 'x.sqlite'), () => now);
    await store.conversations.upsert({
      id: 'a:megan',
      tenantId: 't',
      kind: 'personal',
      reference: {},
      active: true,
      updatedAt: now.toISOString(),
    });
    await store.offers.create(trialOffer(), [entry()]);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deliverWith = (send: Sender, at = now, o: Partial<DelivererOptions> = {}) =>
    createDeliverer({ store, send, clock: () => at, log, ...o }).drain();
  const only = async () => (await store.outbox.forSubject('T-4K7P2Q'))[0]!;
  const toMegan = (text: string) => textEntry({ kind: 'conversation', conversationId: 'a:megan' }, text);
  const textOf = (e: OutboxEntry) => e.action.message.args.text;

  it('sends only once the requests being answered are answered, or after the most it may wait', async () => {
    const fg = createForeground();
    const sentAt: number[] = [];
    const send: Sender = async () => {
      sentAt.push(performance.now());
      return { conversationId: 'a:megan' };
    };
    const leave = fg.enter();
    const drained = deliverWith(send, now, { foreground: fg, foregroundWaitMs: 60_000 });
    await sleep(150);
    expect(sentAt).toHaveLength(0);
    const answered = performance.now();
    leave();
    expect(await drained).toBe(1);
    expect(sentAt[0]).toBeGreaterThanOrEqual(answered);

    // A request that is never answered delays a send by foregroundWaitMs, no more.
    await store.offers.create(trialOffer({ id: 'T-4K7P2R', pendingKey: undefined }), [toMegan('second')]);
    fg.enter();
    const started = performance.now();
    expect(await deliverWith(send, now, { foreground: fg, foregroundWaitMs: 100 })).toBe(1);
    expect(sentAt[1]! - started).toBeGreaterThanOrEqual(90);
  });

  it('marks a delivered entry sent and remembers where the offer card landed', async () => {
    expect(await deliverWith(async () => ({ conversationId: 'a:megan', activityId: 'act-7' }))).toBe(1);
    expect(await only()).toMatchObject({ state: 'sent', attempts: 1 });
    expect((await store.offers.get('T-4K7P2Q'))?.card).toEqual({ conversationId: 'a:megan', activityId: 'act-7' });
  });

  it("waits the connector's Retry-After on 429, then delivers", async () => {
    await deliverWith(async () => {
      throw httpError(429, '7');
    });
    expect(await only()).toMatchObject({
      state: 'pending',
      attempts: 1,
      nextAttemptAt: '2026-11-25T09:00:07.000Z',
      lastError: '429: HTTP 429',
    });
    expect(await deliverWith(async () => ({ conversationId: 'a:megan' }), new Date('2026-11-25T09:00:06.000Z'))).toBe(0);
    expect(await deliverWith(async () => ({ conversationId: 'a:megan' }), new Date('2026-11-25T09:00:07.000Z'))).toBe(1);
    expect(await only()).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs(httpError(429, '2'))).toBe(2000);
    expect(retryAfterMs(httpError(429, '0.5'))).toBe(500);
    expect(retryAfterMs(httpError(429, 'Wed, 25 Nov 2026 09:00:03 GMT'), now.getTime())).toBe(3000);
    expect(retryAfterMs(httpError(429))).toBeUndefined();
    expect(retryAfterMs(httpError(429, 'soon'))).toBeUndefined();
  });

  it('backs off with capped decorrelated jitter: the first in [100, 300) ms, then up to 3× the previous, never over 5 minutes', () => {
    expect(backoffMs(undefined, () => 0)).toBe(100);
    expect(backoffMs(undefined, () => 0.5)).toBe(200);
    expect(backoffMs(undefined, () => 1)).toBe(300);
    expect(backoffMs(1000, () => 0.5)).toBe(1550);
    expect(backoffMs(1000, () => 0)).toBe(100);
    expect(backoffMs(200_000, () => 1)).toBe(300_000);
    expect(backoffMs(300_000, () => 0.99)).toBeLessThanOrEqual(300_000);
    // Whatever the draws, it never falls under the base or overshoots the cap.
    let previous: number | undefined;
    for (let i = 0; i < 200; i++) {
      previous = backoffMs(previous);
      expect(previous).toBeGreaterThanOrEqual(100);
      expect(previous).toBeLessThanOrEqual(300_000);
    }
  });

  it('backs off on 429 without Retry-After', async () => {
    await deliverWith(async () => Promise.reject(httpError(429)), now, { random: () => 0.25 });
    expect(await only()).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: '2026-11-25T09:00:00.150Z' });
  });

  it.each([412, 500, 502, 503, 504])('retries %i later with backoff', async (code) => {
    await deliverWith(async () => Promise.reject(httpError(code)), now, { random: () => 0.5 });
    const e = await only();
    expect(e).toMatchObject({ state: 'pending', attempts: 1, lastError: `${code}: HTTP ${code}` });
    expect(Date.parse(e.nextAttemptAt) - now.getTime()).toBe(200);
  });

  it('retries network errors (no answer at all) with backoff', async () => {
    await deliverWith(async () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), now, {
      random: () => 0.5,
    });
    expect(await only()).toMatchObject({ state: 'pending', attempts: 1, lastError: 'error ECONNRESET: socket hang up' });
  });

  it('gives up on a send that gets no answer in time and retries it, noting it may have arrived', async () => {
    const { log: captured, lines } = capturedLog();
    let calls = 0;
    const hanging: Sender = () => {
      calls++;
      return new Promise(() => undefined);
    };
    const started = Date.now();
    await createDeliverer({ store, send: hanging, clock: () => now, log: captured, sendTimeoutMs: 100, random: () => 0.5 }).drain();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(calls).toBe(1);
    expect(await only()).toMatchObject({ state: 'pending', attempts: 1, lastError: 'timeout: no answer from the connector within 100 ms' });
    expect(lines.find((l) => l.msg === 'outbox entry will be retried')).toMatchObject({ mayHaveArrived: true, retryInMs: 200 });
    expect(new SendTimeoutError(5).message).toBe('no answer from the connector within 5 ms');
  });

  it.each([403, 404])('does not retry %i: the entry fails and the conversation is marked stale', async (code) => {
    await deliverWith(async () => {
      throw httpError(code);
    });
    expect(await only()).toMatchObject({ state: 'failed', lastError: `${code}: HTTP ${code}` });
    expect(await store.conversations.get('a:megan')).toMatchObject({ active: false, inactiveReason: `${code}: HTTP ${code}` });
  });

  it('does not retry other 4xx: the entry fails and the conversation stays', async () => {
    await deliverWith(async () => Promise.reject(httpError(400)));
    expect(await only()).toMatchObject({ state: 'failed', attempts: 1, lastError: '400: HTTP 400' });
    expect((await store.conversations.get('a:megan'))?.active).toBe(true);
  });

  it("treats a 404 on an update as the message gone, unless Teams' code says the conversation is", async () => {
    const update = (activityId: string): NewOutboxEntry => ({
      target: { kind: 'conversation', conversationId: 'a:megan' },
      action: { kind: 'update', activityId, message: { kind: 'offer.card', args: {} } },
    });
    await deliverWith(async () => ({ conversationId: 'a:megan' })); // the offer card from beforeEach
    const subject = await enqueue(store, [update('act-1')]);
    await deliverWith(async () => Promise.reject(httpError(404)));
    expect((await store.outbox.forSubject(subject))[0]).toMatchObject({ state: 'failed', lastError: '404: HTTP 404' });
    expect((await store.conversations.get('a:megan'))?.active).toBe(true);

    const again = await enqueue(store, [update('act-2')]);
    await deliverWith(async () => Promise.reject(httpError(403, undefined, 'BotNotInConversationRoster')));
    expect((await store.outbox.forSubject(again))[0]).toMatchObject({
      state: 'failed',
      lastError: '403 BotNotInConversationRoster: HTTP 403',
    });
    expect(await store.conversations.get('a:megan')).toMatchObject({
      active: false,
      inactiveReason: '403 BotNotInConversationRoster: HTTP 403',
    });
  });

  it('fails at once when the message can never be built, leaving the conversation alone', async () => {
    await deliverWith(async () => {
      throw new PermanentDeliveryError('offer T-4K7P2Q no longer exists');
    });
    expect(await only()).toMatchObject({ state: 'failed', lastError: 'error: offer T-4K7P2Q no longer exists' });
    expect((await store.conversations.get('a:megan'))?.active).toBe(true);
  });

  it('gives up after the last attempt instead of retrying forever', async () => {
    let at = now.getTime();
    const deliverer = createDeliverer({
      store,
      send: async () => Promise.reject(httpError(503)),
      clock: () => new Date(at),
      log,
      maxAttempts: 3,
    });
    for (let i = 0; i < 4; i++) {
      await deliverer.drain();
      at += 10 * 60_000; // past any backoff
    }
    expect(await only()).toMatchObject({ state: 'failed', attempts: 3, lastError: '503: HTTP 503' });
  });

  it("keeps a conversation's order: entries behind one that must be retried wait with it, unsent and uncounted", async () => {
    await deliverWith(async () => ({ conversationId: 'a:megan' })); // the offer card from beforeEach
    const subject = await enqueue(store, ['one', 'two', 'three', 'four'].map(toMegan));
    const sent: string[] = [];
    await deliverWith(
      async (e) => {
        if (textOf(e) === 'two') throw httpError(503);
        sent.push(textOf(e)!);
        return { conversationId: 'a:megan' };
      },
      now,
      { random: () => 0.5 },
    );
    expect(sent).toEqual(['one']);
    const [one, two, three, four] = await store.outbox.forSubject(subject);
    expect(one).toMatchObject({ state: 'sent', attempts: 1 });
    expect(two).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: '2026-11-25T09:00:00.200Z' });
    expect(three).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: '2026-11-25T09:00:00.200Z' });
    expect(four).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: '2026-11-25T09:00:00.200Z' });

    await deliverWith(async (e) => (sent.push(textOf(e)!), { conversationId: 'a:megan' }), new Date('2026-11-25T09:00:00.200Z'));
    expect(sent).toEqual(['one', 'two', 'three', 'four']);
  });

  it("holds only the same subject's messages behind a retry: another offer's message to that chat still goes", async () => {
    await deliverWith(async () => ({ conversationId: 'a:megan' })); // the offer card from beforeEach
    const first = await enqueue(store, ['one', 'two'].map(toMegan));
    const second = await enqueue(store, ['three'].map(toMegan));
    const sent: string[] = [];
    await deliverWith(
      async (e) => {
        if (textOf(e) === 'one') throw httpError(503);
        sent.push(textOf(e)!);
        return { conversationId: 'a:megan' };
      },
      now,
      { random: () => 0.5 },
    );
    expect(sent).toEqual(['three']);
    expect((await store.outbox.forSubject(first)).map((e) => [e.state, e.attempts, e.nextAttemptAt])).toEqual([
      ['pending', 1, '2026-11-25T09:00:00.200Z'],
      ['pending', 0, '2026-11-25T09:00:00.200Z'],
    ]);
    expect((await store.outbox.forSubject(second))[0]).toMatchObject({ state: 'sent' });
  });

  it("backs off a 503 from the entry's failed attempts, not from a 429's Retry-After before it", async () => {
    let at = now.getTime();
    const answers = [httpError(429, '1'), httpError(503), httpError(503)];
    const deliverer = createDeliverer({
      store,
      send: async () => Promise.reject(answers.shift()!),
      clock: () => new Date(at),
      log,
      random: () => 0.5,
    });
    await deliverer.drain();
    expect(await only()).toMatchObject({ attempts: 1, nextAttemptAt: '2026-11-25T09:00:01.000Z' });
    at += 1000;
    await deliverer.drain();
    // The second failed attempt: its floor is 200 ms, and the 429's 1 s wait is not grown from: in [200, 600) ms.
    expect(await only()).toMatchObject({ attempts: 2, nextAttemptAt: '2026-11-25T09:00:01.400Z' });
    at += 400;
    await deliverer.drain();
    // The third grows from the second, over a floor of 400 ms: in [400, 1200) ms.
    expect(await only()).toMatchObject({ attempts: 3, nextAttemptAt: '2026-11-25T09:00:02.200Z' });
  });

  describe('retries due soon, while it runs (not drain)', () => {
    /** Runs a started deliverer with the real clocks until every entry of `subject` is settled. */
    const runUntilSettled = async (subject: string, o: Partial<DelivererOptions> & Pick<DelivererOptions, 'send'>) => {
      const writes: string[] = [];
      const outbox = store.outbox;
      const spied = {
        ...outbox,
        retryLater: (...a: Parameters<typeof outbox.retryLater>) => (writes.push('retryLater'), outbox.retryLater(...a)),
        defer: (...a: Parameters<typeof outbox.defer>) => (writes.push('defer'), outbox.defer(...a)),
      };
      const deliverer = createDeliverer({
        store: { ...store, outbox: spied },
        clock: () => new Date(),
        log,
        pollMs: 50,
        quietStartMs: 0,
        random: () => 0.5,
        ...o,
      });
      deliverer.start();
      deliverer.kick();
      try {
        await until(async () => (await store.outbox.forSubject(subject)).every((e) => e.state !== 'pending'), 5_000, 'all settled');
      } finally {
        await deliverer.stop();
      }
      return writes;
    };

    it('waits for a 429 and a 503 in hand, keeps the conversation in order, and counts every attempt', async () => {
      await deliverWith(async () => ({ conversationId: 'a:megan' })); // the offer card from beforeEach
      const subject = await enqueue(store, ['one', 'two'].map(toMegan));
      const answers = [httpError(429, '0.2'), httpError(503)];
      const sent: [string, number][] = [];
      const started = Date.now();
      const writes = await runUntilSettled(subject, {
        send: async (e) => {
          if (textOf(e) === 'one' && answers.length) throw answers.shift()!;
          sent.push([textOf(e)!, Date.now() - started]);
          return { conversationId: 'a:megan' };
        },
      });
      // Never written back and claimed again: no retryLater, no deferral.
      expect(writes).toEqual([]);
      expect(sent.map(([t]) => t)).toEqual(['one', 'two']);
      // The Retry-After (200 ms) and then the first backoff (200 ms with this draw) were both waited out.
      expect(sent[0]![1]).toBeGreaterThanOrEqual(400);
      expect((await store.outbox.forSubject(subject)).map((e) => [e.state, e.attempts, e.lastError])).toEqual([
        ['sent', 3, '503: HTTP 503'],
        ['sent', 1, undefined],
      ]);
    });

    it('writes a retry back to the store when the wait is past the horizon or the lease would not cover it', async () => {
      await deliverWith(async () => ({ conversationId: 'a:megan' })); // the offer card from beforeEach
      const subject = await enqueue(store, ['one'].map(toMegan));
      let calls = 0;
      const send = async () => {
        if (calls++ === 0) throw httpError(429, '0.3');
        return { conversationId: 'a:megan' };
      };
      expect(await runUntilSettled(subject, { send, horizonMs: 100 })).toEqual(['retryLater']);
      expect((await store.outbox.forSubject(subject))[0]).toMatchObject({ state: 'sent', attempts: 2 });

      const other = await enqueue(store, ['two'].map(toMegan));
      calls = 0;
      // A 0.3 s wait plus a 0.5 s send timeout does not fit in a 0.6 s lease.
      expect(await runUntilSettled(other, { send, leaseMs: 600, sendTimeoutMs: 300 })).toEqual(['retryLater']);
      expect((await store.outbox.forSubject(other))[0]).toMatchObject({ state: 'sent', attempts: 2 });
    });

    it('fails an entry after its last attempt even when the attempts were made in hand', async () => {
      await deliverWith(async () => ({ conversationId: 'a:megan' })); // the offer card from beforeEach
      const subject = await enqueue(store, ['one'].map(toMegan));
      const writes = await runUntilSettled(subject, { send: async () => Promise.reject(httpError(503)), maxAttempts: 3 });
      expect(writes).toEqual([]);
      expect((await store.outbox.forSubject(subject))[0]).toMatchObject({ state: 'failed', attempts: 3, lastError: '503: HTTP 503' });
    });
  });

  it('wakes up for every entry it gave back, not only the earliest, without waiting for the poll', async () => {
    const started = Date.now();
    const at = new Date(started);
    await store.conversations.upsert({
      id: 'a:lee',
      tenantId: 't',
      kind: 'personal',
      reference: {},
      active: true,
      updatedAt: at.toISOString(),
    });
    await enqueue(store, [textEntry({ kind: 'conversation', conversationId: 'a:lee' }, 'to lee')]);
    const retryAfter: Record<string, string | undefined> = { 'a:megan': '0.3', 'a:lee': '0.8' };
    const sentAt = new Map<string, number>();
    const deliverer = createDeliverer({
      store,
      send: async (e) => {
        const id = e.target.kind === 'conversation' ? e.target.conversationId : '';
        const wait = retryAfter[id];
        retryAfter[id] = undefined;
        if (wait) throw httpError(429, wait);
        sentAt.set(id, Date.now() - started);
        return { conversationId: id };
      },
      clock: () => new Date(),
      log,
      pollMs: 60_000,
      quietStartMs: 0,
    });
    deliverer.start();
    deliverer.kick();
    try {
      await until(() => sentAt.size === 2, 5_000, 'both retries to be sent');
    } finally {
      await deliverer.stop();
    }
    // Each goes when its own Retry-After ends (the poll is a minute away).
    expect(sentAt.get('a:megan')).toBeGreaterThanOrEqual(300);
    expect(sentAt.get('a:lee')).toBeGreaterThanOrEqual(800);
    expect(sentAt.get('a:lee')).toBeLessThan(2_000);
  });

  it('fails the rest of a conversation at once when the bot can no longer post there', async () => {
    await deliverWith(async () => ({ conversationId: 'a:megan' }));
    const subject = await enqueue(store, ['one', 'two', 'three'].map(toMegan));
    let calls = 0;
    await deliverWith(async () => {
      calls++;
      throw httpError(403, undefined, 'ConversationBlockedByUser');
    });
    expect(calls).toBe(1);
    const reason = '403 ConversationBlockedByUser: HTTP 403';
    expect((await store.outbox.forSubject(subject)).map((e) => [e.state, e.lastError])).toEqual([
      ['failed', reason],
      ['failed', reason],
      ['failed', reason],
    ]);
    expect(await store.conversations.get('a:megan')).toMatchObject({ active: false, inactiveReason: reason });
  });

  it('gives entries back for the rate limiter when their slot is beyond the horizon, without counting an attempt', async () => {
    await store.conversations.upsert({
      id: 'a:busy',
      tenantId: 't',
      kind: 'channel',
      reference: {},
      active: true,
      updatedAt: now.toISOString(),
    });
    const subject = await enqueue(
      store,
      Array.from({ length: 10 }, (_, i) => textEntry({ kind: 'conversation', conversationId: 'a:busy' }, `m${i}`)),
    );
    const deliverer = createDeliverer({
      store,
      send: async () => ({ conversationId: 'a:busy' }),
      clock: () => now,
      log,
      horizonMs: 0,
      rateMarginMs: 0,
      quietStartMs: 0,
      monotonic: () => 0, // time stands still: the 8th slot is a second away, past the horizon
    });
    deliverer.kick(); // not started: does nothing
    expect((await store.outbox.forSubject(subject)).every((e) => e.state === 'pending' && !e.lease)).toBe(true);
    // Started, it runs passes as the poll or a kick does; drain() would wait for the slots instead.
    deliverer.start();
    deliverer.kick();
    await until(async () =>
      (await store.outbox.forSubject(subject)).every((e) => e.state === 'sent' || (e.state === 'pending' && !e.lease)),
    );
    await deliverer.stop();
    const entries = await store.outbox.forSubject(subject);
    expect(entries.slice(0, 7).map((e) => e.state)).toEqual(Array(7).fill('sent'));
    for (const e of entries.slice(7)) expect(e).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: '2026-11-25T09:00:01.000Z' });
  });

  it('drain() waits for rate-limit slots and delivers everything due before it returns', async () => {
    const { store: live, close } = tempStore();
    try {
      await live.conversations.upsert({
        id: 'a:busy',
        tenantId: 't',
        kind: 'channel',
        reference: {},
        active: true,
        updatedAt: new Date().toISOString(),
      });
      const subject = await enqueue(
        live,
        Array.from({ length: 9 }, (_, i) => textEntry({ kind: 'conversation', conversationId: 'a:busy' }, `m${i}`)),
      );
      const at: number[] = [];
      const started = performance.now();
      // A lease this short cannot cover the wait for the 8th and 9th slots: they are given back and drain() waits
      // until they are due again.
      const handled = await createDeliverer({
        store: live,
        send: async () => (at.push(performance.now() - started), { conversationId: 'a:busy' }),
        clock: () => new Date(),
        log,
        leaseMs: 1000,
        rateMarginMs: 0,
      }).drain();
      expect(handled).toBe(9);
      expect((await live.outbox.forSubject(subject)).map((e) => [e.state, e.attempts])).toEqual(Array(9).fill(['sent', 1]));
      expect(at[6]!).toBeLessThan(300);
      expect(at[7]!).toBeGreaterThanOrEqual(1000 - 5);
      expect(at[8]!).toBeGreaterThanOrEqual(2000 - 5);
    } finally {
      await close();
    }
  });

  it('never has more requests in flight than its concurrency, across conversations', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `a:c${i}`);
    for (const id of ids)
      await store.conversations.upsert({ id, tenantId: 't', kind: 'channel', reference: {}, active: true, updatedAt: now.toISOString() });
    await enqueue(
      store,
      ids.flatMap((id) => [1, 2].map((n) => textEntry({ kind: 'conversation', conversationId: id }, `${id}-${n}`))),
    );
    let inFlight = 0;
    let peak = 0;
    const order = new Map<string, string[]>();
    const handled = await createDeliverer({
      store,
      send: async (e) => {
        peak = Math.max(peak, ++inFlight);
        await sleep(20);
        inFlight--;
        const id = e.target.kind === 'conversation' ? e.target.conversationId : '';
        order.set(id, [...(order.get(id) ?? []), textOf(e)!]);
        return { conversationId: id };
      },
      clock: () => now,
      log,
      concurrency: 5,
    }).drain();
    expect(handled).toBe(41);
    expect(peak).toBe(5);
    for (const id of ids) expect(order.get(id)).toEqual([`${id}-1`, `${id}-2`]);
  });

  it('counts an entry answered but not yet marked sent as in flight: what a crash could send twice stays within concurrency', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `a:c${i}`);
    for (const id of ids)
      await store.conversations.upsert({ id, tenantId: 't', kind: 'channel', reference: {}, active: true, updatedAt: now.toISOString() });
    await enqueue(
      store,
      ids.map((id) => textEntry({ kind: 'conversation', conversationId: id }, id)),
    );
    // Requests sent whose entry is not marked sent yet: in flight, or answered and waiting for the commit.
    const unmarked = new Set<string>();
    let peak = 0;
    const outbox = store.outbox;
    const slowCommit: typeof outbox.markSentMany = async (owner, sent) => {
      await sleep(30);
      const marked = await outbox.markSentMany(owner, sent);
      for (const { id } of sent) unmarked.delete(id);
      return marked;
    };
    await createDeliverer({
      store: { ...store, outbox: { ...outbox, markSentMany: slowCommit } },
      send: async (e) => {
        unmarked.add(e.id);
        peak = Math.max(peak, unmarked.size);
        await sleep(5);
        return { conversationId: e.target.kind === 'conversation' ? e.target.conversationId : '' };
      },
      clock: () => now,
      log,
      concurrency: 4,
    }).drain();
    expect(unmarked.size).toBe(0);
    expect(peak).toBe(4);
  });

  it('logs each outcome with the entry and the reason, never the content', async () => {
    const { log: captured, lines } = capturedLog();
    await enqueue(store, [toMegan('secret comment: please call me')]);
    let n = 0;
    const send: Sender = async () => {
      if (n++ === 0) return { conversationId: 'a:megan', activityId: 'x' };
      throw httpError(503);
    };
    await createDeliverer({ store, send, clock: () => now, log: captured, random: () => 0.5 }).drain();
    const delivered = lines.find((l) => l.msg === 'outbox entry delivered');
    const retried = lines.find((l) => l.msg === 'outbox entry will be retried');
    expect(delivered).toMatchObject({ entryId: expect.any(String), subject: 'T-4K7P2Q', conversation: 'a:megan', attempt: 1 });
    expect(retried).toMatchObject({ entryId: expect.any(String), reason: '503: HTTP 503', retryInMs: 200, attempt: 1 });
    expect(JSON.stringify(lines)).not.toContain('secret comment');
  });

  it('sends nothing in its first seconds after start: a restart must not add to what a crashed process just sent', async () => {
    const subject = await enqueue(store, ['one'].map(toMegan));
    let sent = 0;
    const clockMs = 0;
    const deliverer = createDeliverer({
      store,
      send: async () => (sent++, { conversationId: 'a:megan' }),
      clock: () => now,
      log,
      quietStartMs: 10_000,
      monotonic: () => clockMs,
    });
    deliverer.start();
    deliverer.kick();
    await until(async () => (await store.outbox.forSubject(subject)).every((e) => e.state === 'pending' && !e.lease));
    expect(sent).toBe(0);
    await deliverer.stop();
  });

  it('stop() gives back what it has not sent, at once, for another process to take', async () => {
    const subject = await enqueue(store, ['one', 'two', 'three'].map(toMegan));
    let release!: () => void;
    const first = new Promise<void>((resolve) => (release = resolve));
    const deliverer = createDeliverer({
      store,
      send: async (e) => {
        if (textOf(e) === 'one') await first;
        return { conversationId: 'a:megan' };
      },
      clock: () => now,
      log,
      quietStartMs: 0,
    });
    deliverer.start();
    deliverer.kick();
    await sleep(50);
    const stopping = deliverer.stop();
    release();
    await stopping;
    const entries = await store.outbox.forSubject(subject);
    expect(entries.map((e) => [e.state, e.lease?.owner ?? null])).toEqual([
      ['sent', null],
      ['pending', null],
      ['pending', null],
    ]);
    expect(entries[1]!.nextAttemptAt <= now.toISOString()).toBe(true);
  });
});

describe('the deliverer with the real Bot Connector sender', () => {
  it("marks a partner user's 1:1 chat stale when the connector answers 404 for it", async () => {
    const { createServer } = await import('node:http');
    const { ConfigurationBotFrameworkAuthentication } = await import('botbuilder');
    const { createBotSender } = await import('../../src/notifications/sender');
    const { createMessageRegistry } = await import('../../src/notifications/messages');
    const connector = createServer((req, res) => {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'ConversationNotFound', message: 'Conversation not found.' } }));
    });
    await new Promise<void>((resolve) => connector.listen(0, '127.0.0.1', resolve));
    const serviceUrl = `http://127.0.0.1:${(connector.address() as { port: number }).port}/`;
    const dir = mkdtempSync(join(tmpdir(), 'deliverer-'));
    const now = new Date('2026-11-25T09:00:00.000Z');
    const store = openSqliteStore(join(dir, 'x.sqlite'), () => now);
    try {
      const offer = trialOffer();
      await store.conversations.upsert({
        id: 'a:alex',
        tenantId: offer.issuedBy.tenantId,
        kind: 'personal',
        user: { aadObjectId: offer.issuedBy.aadObjectId, userId: offer.issuedBy.userId, name: 'Alex Wilber' },
        reference: {
          channelId: 'msteams',
          serviceUrl,
          conversation: { id: 'a:alex', isGroup: false, conversationType: 'personal', name: '' },
          bot: { id: 'b', name: 'b' },
          user: { id: offer.issuedBy.userId, name: 'Alex' },
        },
        active: true,
        updatedAt: now.toISOString(),
      });
      const toIssuer: NewOutboxEntry = {
        target: {
          kind: 'user',
          tenantId: offer.issuedBy.tenantId,
          aadObjectId: offer.issuedBy.aadObjectId,
          userId: offer.issuedBy.userId,
          serviceUrl,
        },
        action: { kind: 'send', message: { kind: 'text', args: { text: 'hello' } } },
        subject: { kind: 'offer', id: offer.id },
      };
      await store.offers.create(offer, [toIssuer]);
      const messages = createMessageRegistry();
      messages.register('text', async ({ text }) => ({ type: 'message', text }));
      const send = createBotSender(new ConfigurationBotFrameworkAuthentication({}), '', store, messages);
      await createDeliverer({ store, send, clock: () => now, log: createLogger('silent') }).drain();
      expect((await store.outbox.forSubject(offer.id))[0]).toMatchObject({ state: 'failed', lastError: expect.stringMatching(/^404/) });
      expect(await store.conversations.get('a:alex')).toMatchObject({ active: false, inactiveReason: expect.stringMatching(/^404/) });
    } finally {
      await store.close();
      connector.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
