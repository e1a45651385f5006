import type { ConversationReference } from 'botbuilder';

export type ConversationKind = 'personal' | 'groupChat' | 'channel';

/** A conversation the bot can write to later, refreshed on every inbound activity. */
export interface ConversationRecord {
  id: string;
  tenantId: string;
  kind: ConversationKind;
  /** Personal chats only: who the chat is with. */
  user?: { aadObjectId: string; userId: string; name: string; email?: string; upn?: string };
  reference: Partial<ConversationReference>;
  active: boolean;
  /** Why it is inactive: uninstalled, or the connector said the bot can no longer post there. */
  inactiveReason?: string;
  updatedAt: string;
}

/** Where a partner's acceptance notifications go: a team channel chosen with `notify here`. */
export interface NotificationChannel {
  /** The channel's conversation id (no `;messageid=`): sending there starts a new post in the channel. */
  conversationId: string;
  tenantId: string;
  serviceUrl: string;
  channelName?: string;
  teamName?: string;
  setBy: { aadObjectId: string; name: string };
  setAt: string;
}
