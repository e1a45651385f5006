import { TurnContext, type Activity, type ConversationParameters, type ConversationReference } from 'botbuilder';
import { AuthenticationConstants, ClaimsIdentity, type BotFrameworkAuthentication, type ConnectorClient } from 'botframework-connector';
import { activityPoster, clientPoster, proxyConfigured, type ActivityPoster } from '../edge/activity-poster';
import { withoutRetries } from '../edge/connector';
import type { ConversationsStore } from '../directory/store';
import { PermanentDeliveryError, type MessageRegistry } from './messages';
import type { OutboxEntry } from './types';

/** The conversation is gone for the bot (uninstalled, unknown): retrying cannot help. */
export class ConversationGoneError extends PermanentDeliveryError {
  constructor(
    message: string,
    readonly conversationId?: string,
  ) {
    super(message);
    this.name = 'ConversationGoneError';
  }
}

/**
 * The connector did not answer in time. The request may still have reached Teams, so the retry that follows can post
 * the message a second time: this is the one window in which a notification is duplicated.
 */
export class SendTimeoutError extends Error {
  constructor(readonly timeoutMs?: number) {
    super(timeoutMs === undefined ? 'no answer from the connector in time' : `no answer from the connector within ${timeoutMs} ms`);
    this.name = 'SendTimeoutError';
  }
}

export interface SendResult {
  conversationId: string;
  activityId?: string;
}

/** Where an entry goes, known before anything is sent, so the deliverer can rate-limit by the real conversation. */
export interface Route {
  /**
   * The conversation Teams counts the send against: the stored conversation's id, or `user:<tenant>:<aadObjectId>`
   * when the user has no stored 1:1 chat and one is opened by the send.
   */
  conversationKey: string;
  tenantId?: string;
  /** Renders and sends the message; aborting the signal abandons the request (it rejects with SendTimeoutError). */
  send(signal?: AbortSignal): Promise<SendResult>;
}

export type Router = (entry: OutboxEntry) => Promise<Route>;

/** Sends one entry (routing and sending in one step); a sender that can also route alone exposes `route`. */
export type Sender = ((entry: OutboxEntry) => Promise<SendResult>) & { route?: Router };

export interface BotSenderOptions {
  /** Abandons a request the connector has not answered in this long, when the caller passes no signal of its own. */
  sendTimeoutMs?: number;
  /**
   * Posts messages and card updates through the ConnectorClient's own pipeline instead of as plain JSON (see
   * activity-poster.ts). The default: only when an outbound proxy is configured, which only that pipeline honours.
   */
  viaClient?: boolean;
}

/** Names the conversation a connector error came from, so a 403/404 marks the right one stale. */
const from = (conversationId: string) => (err: unknown) => {
  if (err && typeof err === 'object') Object.assign(err, { conversationId });
  throw err;
};

/** The key a target is rate-limited by when nothing better is known (no stored chat, or a sender that cannot route). */
export const targetKey = (target: OutboxEntry['target']): { conversationKey: string; tenantId?: string } =>
  target.kind === 'conversation'
    ? { conversationKey: target.conversationId }
    : { conversationKey: `user:${target.tenantId}:${target.aadObjectId}`, tenantId: target.tenantId };

/**
 * Sends outbox entries through the Bot Connector. One connector client per service URL is built once and reused
 * (it caches its own tokens): building one per message, as `continueConversationAsync` does, costs more than the
 * send itself. Proactive sends need no turn context, so none is made. Messages and card updates are posted as plain
 * JSON signed by that client's credentials (activity-poster.ts); the rare new 1:1 chat goes through the client.
 */
export function createBotSender(
  auth: BotFrameworkAuthentication,
  appId: string,
  store: { conversations: ConversationsStore },
  messages: MessageRegistry,
  { sendTimeoutMs = 30_000, viaClient = proxyConfigured() }: BotSenderOptions = {},
): Sender & { route: Router } {
  const identity = new ClaimsIdentity(
    [
      { type: AuthenticationConstants.AudienceClaim, value: appId },
      { type: AuthenticationConstants.AppIdClaim, value: appId },
    ],
    true,
  );
  const factory = auth.createConnectorFactory(identity);
  const clients = new Map<string, Promise<{ client: ConnectorClient; poster: ActivityPoster }>>();
  const clientFor = (serviceUrl: string) => {
    let client = clients.get(serviceUrl);
    if (!client) {
      // One request per call: the deliverer decides about every retry, within the rate limiter and visible in the outbox.
      client = factory.create(serviceUrl).then((created) => {
        const client = withoutRetries(created);
        return { client, poster: viaClient ? clientPoster(client) : activityPoster(client) };
      });
      client.catch(() => clients.delete(serviceUrl));
      clients.set(serviceUrl, client);
    }
    return client;
  };

  const ownTimeouts = new WeakSet<AbortSignal>();
  const defaultSignal = () => {
    const signal = AbortSignal.timeout(sendTimeoutMs);
    ownTimeouts.add(signal);
    return signal;
  };
  /** Runs one connector call under the signal, turning its abort into the retryable timeout. */
  const timed = async <T>(signal: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await call(signal);
    } catch (err) {
      if (signal.aborted) throw new SendTimeoutError(ownTimeouts.has(signal) ? sendTimeoutMs : undefined);
      throw err;
    }
  };

  async function perform(
    reference: Partial<ConversationReference>,
    entry: OutboxEntry,
    tenantId: string | undefined,
    signal: AbortSignal,
  ): Promise<SendResult> {
    const { poster } = await clientFor(reference.serviceUrl!);
    const conversationId = reference.conversation!.id;
    const activity = TurnContext.applyConversationReference({ ...(await messages.build(entry.action.message)) }, reference) as Activity;
    // References captured from Teams carry the tenant; older or hand-made ones may not, and Teams routes by it.
    if (tenantId && activity.conversation && !activity.conversation.tenantId)
      activity.conversation = { ...activity.conversation, tenantId };
    if (entry.action.kind === 'update') {
      const activityId = entry.action.activityId;
      await timed(signal, (s) => poster.update(conversationId, activityId, { ...activity, id: activityId }, s)).catch(from(conversationId));
      return { conversationId, activityId };
    }
    const sent = await timed(signal, (s) => poster.send(conversationId, activity, s)).catch(from(conversationId));
    return { conversationId, activityId: sent.id };
  }

  const route: Router = async (entry) => {
    const target = entry.target;
    if (target.kind === 'conversation') {
      const record = await store.conversations.get(target.conversationId);
      if (!record || !record.active) {
        throw new ConversationGoneError(
          record ? `conversation inactive (${record.inactiveReason ?? 'unknown'})` : 'conversation unknown',
          target.conversationId,
        );
      }
      return {
        conversationKey: record.id,
        tenantId: record.tenantId,
        send: (signal = defaultSignal()) => perform(record.reference, entry, record.tenantId, signal),
      };
    }
    const personal = await store.conversations.findPersonal(target.tenantId, target.aadObjectId);
    if (personal) {
      return {
        conversationKey: personal.id,
        tenantId: personal.tenantId,
        send: (signal = defaultSignal()) => perform(personal.reference, entry, personal.tenantId, signal),
      };
    }
    return {
      ...targetKey(target),
      // No 1:1 chat stored (the user only ever wrote in a channel): ask the connector to open one.
      async send(signal = defaultSignal()) {
        const bot = { id: appId ? `28:${appId}` : 'bot', name: 'Partner Offers' };
        const { client } = await clientFor(target.serviceUrl);
        const parameters = {
          isGroup: false,
          bot,
          members: [{ id: target.userId, name: '' }],
          tenantId: target.tenantId,
          channelData: { tenant: { id: target.tenantId } },
        } as ConversationParameters;
        const created = await timed(signal, (abortSignal) => client.conversations.createConversation(parameters, { abortSignal }));
        const reference: Partial<ConversationReference> = {
          channelId: 'msteams',
          serviceUrl: target.serviceUrl,
          bot,
          user: { id: target.userId, name: '' },
          conversation: { id: created.id, isGroup: false, conversationType: 'personal', tenantId: target.tenantId, name: '' },
        };
        return perform(reference, entry, target.tenantId, signal);
      },
    };
  };

  const send = (async (entry: OutboxEntry) => (await route(entry)).send()) as Sender & { route: Router };
  send.route = route;
  return send;
}
