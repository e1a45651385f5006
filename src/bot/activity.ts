import { TurnContext, type Activity } from 'botbuilder';
import type { ConversationKind } from '../directory/types';
import type { ChannelContext } from './commands';

export const tenantOf = (activity: Partial<Activity>): string =>
  activity.conversation?.tenantId ?? (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id ?? '';

export const conversationKind = (activity: Partial<Activity>): ConversationKind => {
  const t = activity.conversation?.conversationType;
  return t === 'channel' || t === 'groupChat' ? t : 'personal';
};

/** The command text: the bot's @mention and Teams' HTML leftovers removed. */
export function commandText(context: TurnContext): string {
  // A message without text (a card's Submit, an attachment) has no command, and botbuilder's mention stripping
  // would read into the missing text.
  if (typeof context.activity.text !== 'string') return '';
  const text = TurnContext.removeRecipientMention(context.activity) ?? context.activity.text;
  return text
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

interface TeamsChannelData {
  channel?: { id?: string; name?: string };
  team?: { id?: string; name?: string };
}

/** The channel a message was typed in, addressed so that sending there starts a new post (not a reply). */
export function channelOf(activity: Partial<Activity>): ChannelContext | undefined {
  if (activity.conversation?.conversationType !== 'channel') return undefined;
  const data = (activity.channelData ?? {}) as TeamsChannelData;
  const conversationId = data.channel?.id ?? activity.conversation.id.split(';')[0]!;
  const reference = TurnContext.getConversationReference(activity);
  return {
    conversationId,
    name: data.channel?.name,
    teamName: data.team?.name,
    tenantId: tenantOf(activity),
    reference: { ...reference, activityId: undefined, conversation: { ...reference.conversation!, id: conversationId } },
  };
}
