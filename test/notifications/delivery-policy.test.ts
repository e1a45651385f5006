import { planAfterSend, planSlot, type SendFacts } from '../../src/notifications/delivery-policy';
import { PermanentDeliveryError } from '../../src/notifications/messages';
import { ConversationGoneError, SendTimeoutError } from '../../src/notifications/sender';
import type { OutboxEntry } from '../../src/notifications/types';

/** The connector's error for an answer with this status; `code` as the connector client lifts it from the body. */
const answered = (status: number, o: { retryAfter?: string; code?: string } = {}) =>
  Object.assign(new Error(`HTTP ${status}`), {
    statusCode: status,
    code: o.code,
    response: { status, headers: { 'retry-after': o.retryAfter } },
  });

const toMegan: SendFacts['entry'] = {
  attempts: 0,
  target: { kind: 'conversation', conversationId: 'a:megan' },
  action: { kind: 'send', message: { kind: 'offer.card', args: { offerId: 'T-4K7P2Q' } } },
};
const update: OutboxEntry['action'] = { kind: 'update', activityId: 'act-1', message: { kind: 'offer.card', args: {} } };
const now = Date.parse('2026-11-25T09:00:00.000Z');

const plan = (error: unknown, facts: Partial<SendFacts> = {}) =>
  planAfterSend({ kind: 'error', error }, { entry: toMegan, maxAttempts: 12, nowMs: now, random: () => 0.5, ...facts });

describe('the delivery policy: what an answer from Teams means for the entry', () => {
  it('marks a delivered entry sent', () => {
    expect(
      planAfterSend(
        { kind: 'sent', result: { conversationId: 'a:megan' } },
        { entry: toMegan, maxAttempts: 12, nowMs: now, random: Math.random },
      ),
    ).toEqual({
      kind: 'markSent',
    });
  });

  it('keeps retrying a Teams outage of a few minutes: the 12 attempts of an entry answered 503 every time span at least 3.4 minutes', () => {
    let waited = 0;
    let lastBackoffMs: number | undefined;
    for (let attempts = 0; attempts < 11; attempts++) {
      // The unluckiest draws (the floor every time), and a restart after every failure (no previous wait remembered).
      const p = plan(answered(503), {
        entry: { ...toMegan, attempts },
        random: () => 0,
        lastBackoffMs: attempts % 2 ? undefined : lastBackoffMs,
      });
      expect(p.kind).toBe('retry');
      if (p.kind !== 'retry') return;
      waited += p.inMs;
      lastBackoffMs = p.backoffMs;
    }
    expect(waited).toBeGreaterThanOrEqual(204_000);
    expect(plan(answered(503), { entry: { ...toMegan, attempts: 11 } }).kind).toBe('fail');
    // The first retries stay quick: a 503 is usually over in well under a second.
    expect(plan(answered(503), { random: () => 1 })).toMatchObject({ inMs: 300 });
  });

  it('waits exactly the Retry-After of a 429 (1 s: 1000 ms), holding back the whole conversation, with no backoff counted', () => {
    expect(plan(answered(429, { retryAfter: '1' }), { lastBackoffMs: 2000 })).toEqual({
      kind: 'retry',
      reason: '429: HTTP 429',
      inMs: 1000,
      blockConversation: true,
      mayHaveArrived: false,
    });
    expect(plan(answered(429, { retryAfter: 'Wed, 25 Nov 2026 09:00:03 GMT' }))).toMatchObject({ kind: 'retry', inMs: 3000 });
  });

  it("backs off a 429 without Retry-After from the first retry's window, whatever server failures came before", () => {
    expect(plan(answered(429), { lastBackoffMs: 2000, random: () => 0.25 })).toEqual({
      kind: 'retry',
      reason: '429: HTTP 429',
      inMs: 150,
      blockConversation: true,
      mayHaveArrived: false,
    });
  });

  it.each([408, 412, 500, 503])('retries %i with a backoff that grows from the previous one (decorrelated jitter)', (status) => {
    // The first: in [100, 300) ms.
    expect(plan(answered(status))).toEqual({
      kind: 'retry',
      reason: `${status}: HTTP ${status}`,
      inMs: 200,
      backoffMs: 200,
      blockConversation: false,
      mayHaveArrived: false,
    });
    // After a wait of 1 s: in [100 ms, 3 s).
    expect(plan(answered(status), { lastBackoffMs: 1000 })).toMatchObject({ inMs: 1550, backoffMs: 1550 });
  });

  it('retries a send that got no answer in time, noting it may have arrived', () => {
    expect(plan(new SendTimeoutError(100))).toEqual({
      kind: 'retry',
      reason: 'timeout: no answer from the connector within 100 ms',
      inMs: 200,
      backoffMs: 200,
      blockConversation: false,
      mayHaveArrived: true,
    });
  });

  it('retries a network error (no answer at all), naming its code', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(plan(reset)).toMatchObject({
      kind: 'retry',
      reason: 'error ECONNRESET: socket hang up',
      backoffMs: 200,
      mayHaveArrived: false,
    });
  });

  it('fails an entry whose conversation is not found and marks that conversation inactive with the reason', () => {
    const reason = '404 ConversationNotFound: HTTP 404';
    expect(plan(answered(404, { code: 'ConversationNotFound' }))).toEqual({ kind: 'fail', reason, gone: true, deactivate: 'a:megan' });
    expect(plan(answered(403))).toEqual({ kind: 'fail', reason: '403: HTTP 403', gone: true, deactivate: 'a:megan' });
  });

  it("marks the conversation the sender wrote to inactive: a user's 1:1 chat it resolved", () => {
    const toUser: SendFacts['entry'] = {
      ...toMegan,
      target: { kind: 'user', tenantId: 't', aadObjectId: 'aad-alex', userId: '29:alex', serviceUrl: 'https://smba' },
    };
    const fromChat = Object.assign(answered(404), { conversationId: 'a:alex' });
    expect(plan(fromChat, { entry: toUser })).toMatchObject({ kind: 'fail', gone: true, deactivate: 'a:alex' });
    expect(plan(answered(404), { entry: toUser })).toEqual({ kind: 'fail', reason: '404: HTTP 404', gone: true });
  });

  it('leaves the conversation to the sender when the sender already found it gone', () => {
    expect(plan(new ConversationGoneError('no conversation stored for that user', 'a:alex'))).toEqual({
      kind: 'fail',
      reason: 'error: no conversation stored for that user',
      gone: true,
    });
  });

  it("fails a 404 on an update without touching the conversation, unless Teams' code says the conversation is gone", () => {
    const onUpdate = { entry: { ...toMegan, action: update } };
    expect(plan(answered(404), onUpdate)).toEqual({ kind: 'fail', reason: '404: HTTP 404', gone: false });
    expect(plan(answered(403, { code: 'BotNotInConversationRoster' }), onUpdate)).toEqual({
      kind: 'fail',
      reason: '403 BotNotInConversationRoster: HTTP 403',
      gone: true,
      deactivate: 'a:megan',
    });
  });

  it('fails other 4xx and messages that can never be built, leaving the conversation alone', () => {
    expect(plan(answered(400))).toEqual({ kind: 'fail', reason: '400: HTTP 400', gone: false });
    expect(plan(new PermanentDeliveryError('offer T-4K7P2Q no longer exists'))).toEqual({
      kind: 'fail',
      reason: 'error: offer T-4K7P2Q no longer exists',
      gone: false,
    });
  });

  it('gives up after the last attempt, whatever the answer, and still marks a gone conversation', () => {
    const last = { entry: { ...toMegan, attempts: 11 }, maxAttempts: 12 };
    expect(plan(answered(503), last)).toEqual({ kind: 'fail', reason: '503: HTTP 503', gone: false });
    expect(plan(answered(429, { retryAfter: '1' }), last)).toEqual({ kind: 'fail', reason: '429: HTTP 429', gone: false });
    expect(plan(answered(404), last)).toMatchObject({ kind: 'fail', gone: true, deactivate: 'a:megan' });
    expect(plan(answered(503), { entry: { ...toMegan, attempts: 10 }, maxAttempts: 12 })).toMatchObject({ kind: 'retry' });
  });

  it('keeps reasons short', () => {
    expect((plan(new Error('x'.repeat(1000))) as { reason: string }).reason).toHaveLength(300);
  });
});

describe('the delivery policy: when the rate limiter says "not yet"', () => {
  const slot = { now: 10_000, horizonMs: 2000, leaseNeededMs: 30_000, leaseEnds: 70_000, stopping: false };

  it('sends when the slot has come', () => {
    expect(planSlot({ ...slot, slotAt: 10_000 })).toEqual({ kind: 'send' });
    expect(planSlot({ ...slot, slotAt: 9_000 })).toEqual({ kind: 'send' });
  });

  it('waits for a slot within the horizon', () => {
    expect(planSlot({ ...slot, slotAt: 11_500 })).toEqual({ kind: 'wait', ms: 1500 });
  });

  it('gives the entry back until its slot when the slot is beyond the horizon, without counting an attempt', () => {
    expect(planSlot({ ...slot, slotAt: 15_000 })).toEqual({ kind: 'defer', why: 'rate', inMs: 5000 });
  });

  it('gives the entry back rather than send it on a lease with too little left, or one lost to another process', () => {
    expect(planSlot({ ...slot, slotAt: 11_000, leaseEnds: 40_000 })).toEqual({ kind: 'defer', why: 'rate', inMs: 1000 });
    expect(planSlot({ ...slot, slotAt: 9_000, leaseEnds: 39_999 })).toEqual({ kind: 'defer', why: 'rate', inMs: 0 });
    expect(planSlot({ ...slot, slotAt: 9_000, leaseEnds: 40_000 })).toEqual({ kind: 'send' });
    expect(planSlot({ ...slot, slotAt: 9_000, leaseEnds: -Infinity })).toEqual({ kind: 'defer', why: 'rate', inMs: 0 });
  });

  it('gives everything back at once when stopping', () => {
    expect(planSlot({ ...slot, slotAt: 10_000, stopping: true })).toEqual({ kind: 'defer', why: 'stopping', inMs: 0 });
  });
});
