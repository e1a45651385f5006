import type { Activity, CloudAdapter, ConversationReference } from 'botbuilder';
import type { Store } from '../store/types';
import type { OutboxEntry } from './types';

/** The connector said this conversation is gone for the bot: retrying cannot help. */
export class ConversationGoneError extends Error {
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

/** Sends one outbox entry through the Bot Connector, to a stored conversation or a user's 1:1 chat. */
export function createBotSender(adapter: CloudAdapter, appId: string, store: Store): Sender {
  async function perform(reference: Partial<ConversationReference>, entry: OutboxEntry): Promise<SendResult> {
    let activityId: string | undefined;
    await adapter.continueConversationAsync(appId, reference, async (context) => {
      if (entry.action.kind === 'send') {
        activityId = (await context.sendActivity(entry.action.activity))?.id;
      } else {
        await context.updateActivity({ ...entry.action.activity, id: entry.action.activityId } as Partial<Activity>);
        activityId = entry.action.activityId;
      }
    });
    return { conversationId: reference.conversation!.id, activityId };
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
    let result: SendResult | undefined;
    await adapter.createConversationAsync(
      appId,
      'msteams',
      target.serviceUrl,
      '',
      {
        isGroup: false,
        bot: { id: appId ? `28:${appId}` : 'bot', name: 'Partner Offers' },
        members: [{ id: target.userId, name: '' }],
        tenantId: target.tenantId,
        channelData: { tenant: { id: target.tenantId } },
      } as never,
      async (context) => {
        const conversationId = context.activity.conversation.id;
        const sent = entry.action.kind === 'send' ? await context.sendActivity(entry.action.activity) : undefined;
        result = { conversationId, activityId: sent?.id };
      },
    );
    return result!;
  };
}
