import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log';
import { createDeliverer } from '../../src/notifications/deliverer';
import { PermanentDeliveryError } from '../../src/notifications/messages';
import type { Sender } from '../../src/notifications/sender';
import type { NewOutboxEntry } from '../../src/notifications/types';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/types';
import { trialOffer } from '../support/fixtures';

/** An error shaped like the connector client's RestError. */
const httpError = (statusCode: number, retryAfter?: string) =>
  Object.assign(new Error(`HTTP ${statusCode}`), {
    statusCode,
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
    await store.conversations.upsert({ id: 'a:megan', tenantId: 't', kind: 'personal', reference: {}, active: true, updatedAt: now.toISOString() });
    await store.offers.create(trialOffer(), [entry()]);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deliverWith = (send: Sender, at = now) => createDeliverer({ store, send, clock: () => at, log }).drain();
  const only = async () => (await store.outbox.forSubject('T-4K7P2Q'))[0]!;

  it('marks a delivered entry sent and remembers where the offer card landed', async () => {
    expect(await deliverWith(async () => ({ conversationId: 'a:megan', activityId: 'act-7' }))).toBe(1);
    expect(await only()).toMatchObject({ state: 'sent', attempts: 1 });
    expect((await store.offers.get('T-4K7P2Q'))?.card).toEqual({ conversationId: 'a:megan', activityId: 'act-7' });
  });

  it("waits the connector's Retry-After on 429, then delivers", async () => {
    await deliverWith(async () => {
      throw httpError(429, '7');
    });
    expect(await only()).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: '2026-11-25T09:00:07.000Z', lastError: '429: HTTP 429' });
    expect(await deliverWith(async () => ({ conversationId: 'a:megan' }), new Date('2026-11-25T09:00:06.000Z'))).toBe(0);
    expect(await deliverWith(async () => ({ conversationId: 'a:megan' }), new Date('2026-11-25T09:00:07.000Z'))).toBe(1);
    expect(await only()).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it.each([412, 502, 503, 504])('retries %i later with backoff', async (code) => {
    await deliverWith(async () => {
      throw httpError(code);
    });
    const e = await only();
    expect(e).toMatchObject({ state: 'pending', attempts: 1 });
    const waitMs = Date.parse(e.nextAttemptAt) - now.getTime();
    expect(waitMs).toBeGreaterThanOrEqual(500);
    expect(waitMs).toBeLessThanOrEqual(1000);
  });

  it.each([403, 404])('does not retry %i: the entry fails and the conversation is marked stale', async (code) => {
    await deliverWith(async () => {
      throw httpError(code);
    });
    expect(await only()).toMatchObject({ state: 'failed', lastError: `${code}: HTTP ${code}` });
    expect(await store.conversations.get('a:megan')).toMatchObject({ active: false, inactiveReason: `${code}: HTTP ${code}` });
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
    const deliverer = createDeliverer({ store, send: async () => Promise.reject(httpError(503)), clock: () => new Date(at), log, maxAttempts: 3 });
    for (let i = 0; i < 4; i++) {
      await deliverer.drain();
      at += 10 * 60_000; // past any backoff
    }
    expect(await only()).toMatchObject({ state: 'failed', attempts: 3, lastError: '503: HTTP 503' });
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
        reference: { channelId: 'msteams', serviceUrl, conversation: { id: 'a:alex', isGroup: false, conversationType: 'personal', name: '' }, bot: { id: 'b', name: 'b' }, user: { id: offer.issuedBy.userId, name: 'Alex' } },
        active: true,
        updatedAt: now.toISOString(),
      });
      const toIssuer: NewOutboxEntry = {
        target: { kind: 'user', tenantId: offer.issuedBy.tenantId, aadObjectId: offer.issuedBy.aadObjectId, userId: offer.issuedBy.userId, serviceUrl },
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
