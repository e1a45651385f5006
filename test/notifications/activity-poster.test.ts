import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationBotFrameworkAuthentication, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import { ConnectorClient, TokenCredentials } from 'botframework-connector';
import { createCardRenderer } from '../../src/cards/render';
import { activityPoster, clientPoster, ConnectorHttpError, proxyConfigured, type ActivityPoster } from '../../src/edge/activity-poster';
import { withoutRetries } from '../../src/edge/connector';
import { planAfterSend, type SendFacts } from '../../src/notifications/delivery-policy';
import { createMessageRegistry } from '../../src/notifications/messages';
import { createBotSender } from '../../src/notifications/sender';
import type { OutboxEntry } from '../../src/notifications/types';
import { createOfferMessages } from '../../src/offers/messages';
import { startConnectorSink, type ConnectorSink, type SinkFault } from '../support/connector-sink';
import { approverPerson, purchaseOffer } from '../support/fixtures';
import { channelConversation, textEntry } from './support';

/**
 * The bot posts proactive messages as plain JSON (activity-poster.ts) instead of through the generated
 * ConnectorClient. Each case runs both ways against the same connector sink: what Teams would receive, and what the
 * deliverer makes of each answer, must be the same.
 */
describe('posting activities to the Bot Connector', () => {
  let sink: ConnectorSink;
  let client: ConnectorClient;
  let posters: { name: string; poster: ActivityPoster }[];
  const offerCards = createOfferMessages(createCardRenderer());

  beforeAll(async () => {
    sink = await startConnectorSink();
    client = withoutRetries(new ConnectorClient(new TokenCredentials('token-from-the-credentials'), { baseUri: sink.url }));
    posters = [
      { name: 'connector client', poster: clientPoster(client) },
      { name: 'plain JSON', poster: activityPoster(client) },
    ];
  });
  afterAll(() => sink.close());
  beforeEach(() => {
    sink.clear();
    sink.clearFaults();
  });

  // A Teams group chat's id has characters a path must escape; the customer's offer card is the biggest message sent.
  const conversationId = '19:meeting_abc@thread.v2;messageid=1700000000000';
  const activity = (): Partial<Activity> => {
    const reference: Partial<ConversationReference> = {
      channelId: 'msteams',
      serviceUrl: sink.url,
      bot: { id: '28:bot', name: 'Partner Offers' },
      user: { id: approverPerson.userId, name: approverPerson.name },
      conversation: { id: conversationId, isGroup: true, conversationType: 'groupChat', tenantId: approverPerson.tenantId, name: '' },
    };
    const offer = purchaseOffer({ id: 'OFR-7Q2K' });
    return TurnContext.applyConversationReference({ ...offerCards.offerCard(offer), text: 'Ünïcode → ok' }, reference);
  };

  it('sends and updates with the same path, body and credentials as the connector client', async () => {
    const seen = [];
    for (const { poster } of posters) {
      sink.clear();
      const sent = await poster.send(conversationId, activity());
      const updated = await poster.update(conversationId, sent.id, { ...activity(), id: sent.id });
      expect(sent.id).toMatch(/^act-/);
      expect(updated.id).toBe(sent.id);
      const [post, put] = sink.requests;
      seen.push(
        [post!, put!].map((r) => ({
          method: r.method,
          path: r.path.replace(sent.id, '<id>'),
          conversationId: r.conversationId,
          body: JSON.parse(JSON.stringify(r.body).replaceAll(sent.id, '<id>')) as unknown,
          authorization: r.headers.authorization,
          contentType: r.headers['content-type'],
          userAgent: r.headers['user-agent'],
        })),
      );
    }
    const [viaClient, plain] = seen;
    // The client's pipeline appends its own and Node's versions to the user agent the connector client was given.
    const agentless = (requests: typeof plain) => requests!.map(({ userAgent: _, ...rest }) => rest);
    expect(agentless(plain)).toEqual(agentless(viaClient));
    expect(plain![0]!.conversationId).toBe(conversationId);
    expect(plain![0]!.authorization).toBe('Bearer token-from-the-credentials');
    expect(plain![0]!.userAgent).toMatch(/^botframework-connector\/\S+$/);
    expect(String(viaClient![0]!.userAgent).startsWith(String(plain![0]!.userAgent))).toBe(true);
    expect(sink.cards(sink.requests[0]!)).toHaveLength(1);
  });

  const facts = (kind: 'send' | 'update'): SendFacts => ({
    entry: {
      attempts: 0,
      action:
        kind === 'send' ? { kind, message: { kind: 'text', args: {} } } : { kind, activityId: 'a-1', message: { kind: 'text', args: {} } },
      target: { kind: 'conversation', conversationId },
    },
    maxAttempts: 12,
    nowMs: Date.parse('2026-12-05T12:00:00Z'),
    random: () => 0.5,
  });

  it.each<[string, SinkFault, 'send' | 'update']>([
    ['a 429 with Retry-After', { status: 429, retryAfter: 2 }, 'send'],
    ['a 429 with an HTTP date', { status: 429, retryAfter: 'Sat, 05 Dec 2026 12:00:03 GMT' }, 'send'],
    ['a 503', { status: 503 }, 'send'],
    ['a 403 on a send (blocked)', { status: 403, code: 'ConversationBlockedByUser' }, 'send'],
    ['a 404 on an update of a deleted message', { status: 404, code: 'NotFound' }, 'update'],
    ['a 404 on an update where the bot was removed', { status: 404, code: 'BotNotInConversationRoster' }, 'update'],
    ['a 400', { status: 400, code: 'BadArgument', message: 'Unknown activity type' }, 'send'],
    ['a connection reset', { reset: true }, 'send'],
  ])('gives the deliverer the same plan after %s either way', async (_name, fault, kind) => {
    const plans = [];
    for (const { poster } of posters) {
      sink.inject(fault);
      const error = await (
        kind === 'send' ? poster.send(conversationId, activity()) : poster.update(conversationId, 'a-1', activity())
      ).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeDefined();
      const plan = planAfterSend({ kind: 'error', error }, facts(kind));
      // The reason quotes each library's own wording; everything the deliverer acts on must match.
      plans.push({ ...plan, reason: 'reason' in plan ? plan.reason.split(':')[0] : undefined });
    }
    expect(plans[1]).toEqual(plans[0]);
  });

  it("carries Teams' error code, message and headers", async () => {
    sink.inject({ status: 429, code: 'TooManyRequests', message: 'slow down', retryAfter: 3 });
    const error = (await posters[1]!.poster.send(conversationId, activity()).catch((e: unknown) => e)) as ConnectorHttpError;
    expect(error).toBeInstanceOf(ConnectorHttpError);
    expect(error.statusCode).toBe(429);
    expect(error.code).toBe('TooManyRequests');
    expect(error.message).toBe('slow down');
    expect(error.response.headers.get('Retry-After')).toBe('3');
  });

  it('abandons a request the connector does not answer when the signal aborts', async () => {
    sink.inject({ hang: true });
    const signal = AbortSignal.timeout(200);
    const started = Date.now();
    await expect(posters[1]!.poster.send(conversationId, activity(), signal)).rejects.toThrow();
    expect(signal.aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    // The pool is still usable after an abandoned request.
    await expect(posters[1]!.poster.send(conversationId, activity())).resolves.toMatchObject({ id: expect.stringMatching(/^act-/) });
  });

  it('abandons an answer that stops part way when the signal aborts', async () => {
    // Headers and half a body, then nothing: the request must still end when its signal aborts.
    const stalling = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":');
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const poster = activityPoster(
        new ConnectorClient(new TokenCredentials('t'), { baseUri: `http://127.0.0.1:${(stalling.address() as AddressInfo).port}/` }),
      );
      const signal = AbortSignal.timeout(200);
      await expect(poster.send(conversationId, activity(), signal)).rejects.toThrow();
      expect(signal.aborted).toBe(true);
    } finally {
      stalling.closeAllConnections();
      stalling.close();
    }
  });

  describe('behind an outbound proxy', () => {
    let proxy: Server;
    const proxied: string[] = [];
    const saved = process.env.HTTP_PROXY;

    beforeAll(async () => {
      // A forward proxy: it gets the absolute URL and passes the request on.
      proxy = createServer((req, res) => {
        proxied.push(`${req.method} ${req.url}`);
        const onward = request(req.url!, { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(onward);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      if (saved === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = saved;
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    });

    it('sends through the connector client, which honours the proxy', async () => {
      expect(proxyConfigured()).toBe(true);
      const channel = channelConversation({ id: '19:general@thread.tacv2', tenantId: 'tenant-1' }, sink.url);
      const messages = createMessageRegistry();
      messages.register('text', async ({ text }) => ({ type: 'message', text }));
      const store = { conversations: { get: async () => channel } } as unknown as Parameters<typeof createBotSender>[2];
      const send = createBotSender(new ConfigurationBotFrameworkAuthentication({}), '', store, messages);
      const entry = { id: 'e-1', attempts: 0, ...textEntry({ kind: 'conversation', conversationId: channel.id }, 'via the proxy') };
      const sent = await send(entry as OutboxEntry);
      expect(sent.activityId).toMatch(/^act-/);
      expect(proxied).toEqual([`POST ${sink.url}v3/conversations/${encodeURIComponent(channel.id)}/activities`]);
      expect(sink.sentTo(channel.id).map((r) => r.body.text)).toEqual(['via the proxy']);
    });
  });
});
