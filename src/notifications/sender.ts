import {
  TurnContext,
  type Activity,
  type ConversationParameters,
  type ConversationReference,
} from 'botbuilder';
import { AuthenticationConstants, ClaimsIdentity, type BotFrameworkAuthentication, type ConnectorClient } from 'botframework-connector';
import type { Store } from '../store/types';
import { PermanentDeliveryError, type MessageRegistry } from './messages';
import type { OutboxEntry } from './types';

/** The conversation is gone for the bot (uninstalled, unknown): retrying cannot help. */
export class ConversationGoneError extends PermanentDeliveryError {
  constructor(message: string, readonly conversationId?: string) {
    super(message);
    this.name = 'ConversationGoneError';
  }
}

export interface SendResult {
  conversationId: string;
  activityId?: string;
}

export type Sender = (entry: OutboxEntry) => Promise<SendResult>;

/** Names the conversation a connector error came from, so a 403/404 marks the right one stale. */
const from = (conversationId: string) => (err: unknown) => {
  if (err && typeof err === 'object') Object.assign(err, { conversationId });
  throw err;
};

/**
 * Sends outbox entries through the Bot Connector. One connector client per service URL is built once and reused
 * (it caches its own tokens): building one per message, as `continueConversationAsync` does, costs more than the
 * send itself. Proactive sends need no turn context, so none is made.
 */
export function createBotSender(auth: BotFrameworkAuthentication, appId: string, store: Store, messages: MessageRegistry): Sender {
  const identity = new ClaimsIdentity(
    [
      { type: AuthenticationConstants.AudienceClaim, value: appId },
      { type: AuthenticationConstants.AppIdClaim, value: appId },
    ],
    true,
  );
  const factory = auth.createConnectorFactory(identity);
  const clients = new Map<string, Promise<ConnectorClient>>();
  const clientFor = (serviceUrl: string) => {
    let client = clients.get(serviceUrl);
    if (!client) {
      client = factory.create(serviceUrl);
      client.catch(() => clients.delete(serviceUrl));
      clients.set(serviceUrl, client);
    }
    return client;
  };

  async function perform(reference: Partial<ConversationReference>, entry: OutboxEntry): Promise<SendResult> {
    const client = await clientFor(reference.serviceUrl!);
    const conversationId = reference.conversation!.id;
    const activity = TurnContext.applyConversationReference({ ...(await messages.build(entry.action.message)) }, reference) as Activity;
    if (entry.action.kind === 'update') {
      await client.conversations
        .updateActivity(conversationId, entry.action.activityId, { ...activity, id: entry.action.activityId })
        .catch(from(conversationId));
      return { conversationId, activityId: entry.action.activityId };
    }
    const sent = await client.conversations.sendToConversation(conversationId, activity).catch(from(conversationId));
    return { conversationId, activityId: sent.id };
  }

  return async (entry) => {
    const target = entry.target;
    if (target.kind === 'conversation') {
      const record = await store.conversations.get(target.conversationId);
      if (!record || !record.active) {
        throw new ConversationGoneError(record ? `conversation inactive (${record.inactiveReason ?? 'unknown'})` : 'conversation unknown', target.conversationId);
      }
      return perform(record.reference, entry);
    }
    const personal = await store.conversations.findPersonal(target.tenantId, target.aadObjectId);
    if (personal) return perform(personal.reference, entry);
    // No 1:1 chat stored (the user only ever wrote in a channel): ask the connector to open one.
    const bot = { id: appId ? `28:${appId}` : 'bot', name: 'Partner Offers' };
    const client = await clientFor(target.serviceUrl);
    const created = await client.conversations.createConversation({
      isGroup: false,
      bot,
      members: [{ id: target.userId, name: '' }],
      tenantId: target.tenantId,
      channelData: { tenant: { id: target.tenantId } },
    } as ConversationParameters);
    return perform(
      { channelId: 'msteams', serviceUrl: target.serviceUrl, bot, user: { id: target.userId, name: '' }, conversation: { id: created.id, isGroup: false, conversationType: 'personal', tenantId: target.tenantId, name: '' } },
      entry,
    );
  };
}
