import { TurnContext, type Activity } from 'botbuilder';
import type { ConversationKind } from '../directory/types';

export const tenantOf = (activity: Partial<Activity>): string =>
  activity.conversation?.tenantId ?? (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id ?? '';

export const conversationKind = (activity: Partial<Activity>): ConversationKind => {
  const t = activity.conversation?.conversationType;
  return t === 'channel' || t === 'groupChat' ? t : 'personal';
};

/** The command text: the bot's @mention and Teams' HTML leftovers removed. */
export function commandText(context: TurnContext): string {
  const text = TurnContext.removeRecipientMention(context.activity) ?? context.activity.text ?? '';
  return text
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
