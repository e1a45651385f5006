import { TeamsInfo, TurnContext } from 'botbuilder';
import type { Clock } from '../clock';
import type { ConversationRecord } from '../directory/types';
import type { Logger } from '../log';
import type { ConversationsStore } from '../directory/store';
import { conversationKind, tenantOf } from './activity';

export interface ConversationCapture {
  /** Stores or refreshes the conversation the activity came from; returns it (personal chats carry the user). */
  capture(context: TurnContext): Promise<ConversationRecord | undefined>;
}

/** Enough remembered per process to skip rewriting a reference that has not changed. */
const MAX_REMEMBERED = 10_000;

/**
 * Keeps conversation references fresh: Teams can move a conversation to another serviceUrl, and a personal chat is
 * how an approver is found by email. The roster lookup (UPN, email) happens once per user, not once per message.
 */
export function createConversationCapture(deps: {
  store: { conversations: ConversationsStore };
  clock: Clock;
  log: Logger;
  /** Called when a personal chat appears or comes back: offers that waited for this user can go out. */
  onPersonalChatReady(record: ConversationRecord): Promise<void>;
}): ConversationCapture {
  const remembered = new Map<string, { fingerprint: string; record: ConversationRecord }>();

  async function lookupMember(context: TurnContext): Promise<{ email?: string; upn?: string; name?: string }> {
    try {
      const member = await TeamsInfo.getMember(context, context.activity.from.id);
      return { email: member.email?.toLowerCase(), upn: member.userPrincipalName?.toLowerCase(), name: member.name || undefined };
    } catch (err) {
      deps.log.warn(
        { err: (err as Error).message, conversationId: context.activity.conversation.id },
        'roster lookup failed; email unknown for now',
      );
      return {};
    }
  }

  async function deactivate(conversationId: string, reason: string) {
    remembered.delete(conversationId);
    await deps.store.conversations.deactivate(conversationId, reason, deps.clock().toISOString());
    deps.log.info({ conversationId, reason }, 'conversation marked inactive');
  }

  return {
    async capture(context) {
      const a = context.activity;
      if (!a.conversation?.id || !a.serviceUrl) return undefined;
      const botRemoved =
        (a.type === 'installationUpdate' && String(a.action ?? '').startsWith('remove')) ||
        (a.type === 'conversationUpdate' && (a.membersRemoved ?? []).some((m) => m.id === a.recipient?.id));
      if (botRemoved) {
        await deactivate(a.conversation.id, 'uninstalled');
        return undefined;
      }

      const kind = conversationKind(a);
      const fingerprint = `${a.serviceUrl}|${kind === 'personal' ? (a.from?.aadObjectId ?? '') : ''}`;
      const known = remembered.get(a.conversation.id);
      if (known?.fingerprint === fingerprint) return known.record;

      const stored = await deps.store.conversations.get(a.conversation.id);
      let user: ConversationRecord['user'];
      if (kind === 'personal' && a.from?.aadObjectId) {
        const sameUser = stored?.user?.aadObjectId === a.from.aadObjectId ? stored.user : undefined;
        // Install events carry no name (the Agents Playground sends none), so the roster fills it in once.
        const known = (sameUser?.email || sameUser?.upn) && (sameUser?.name || a.from.name);
        const member = known ? {} : await lookupMember(context);
        user = {
          aadObjectId: a.from.aadObjectId,
          userId: a.from.id,
          name: a.from.name || member.name || sameUser?.name || '',
          email: member.email ?? sameUser?.email,
          upn: member.upn ?? sameUser?.upn,
        };
      }
      const record: ConversationRecord = {
        id: a.conversation.id,
        tenantId: tenantOf(a),
        kind,
        user,
        reference: TurnContext.getConversationReference(a),
        active: true,
        updatedAt: deps.clock().toISOString(),
      };
      await deps.store.conversations.upsert(record);
      if (remembered.size >= MAX_REMEMBERED) remembered.clear();
      remembered.set(record.id, { fingerprint, record });

      const cameBack = !stored || !stored.active || (!stored.user?.email && !stored.user?.upn);
      if (kind === 'personal' && (user?.email || user?.upn) && cameBack) await deps.onPersonalChatReady(record);
      return record;
    },
  };
}
