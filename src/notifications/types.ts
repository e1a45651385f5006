/** Where a proactive message goes: a stored conversation, or a user's 1:1 chat (opened if none is stored). */
export type OutboxTarget =
  | { kind: 'conversation'; conversationId: string }
  | { kind: 'user'; tenantId: string; aadObjectId: string; userId: string; serviceUrl: string };

/** A person's 1:1 chat with the bot, opened at delivery if none is stored. */
export const userTarget = (p: { tenantId: string; aadObjectId: string; userId: string; serviceUrl: string }): OutboxTarget => ({
  kind: 'user',
  tenantId: p.tenantId,
  aadObjectId: p.aadObjectId,
  userId: p.userId,
  serviceUrl: p.serviceUrl,
});

/**
 * What to send, by reference: the capability that registered `kind` renders it when the entry is delivered, from the
 * subject's state at that moment. Rows stay small, the decision's transaction renders nothing, and a card update can
 * never show an older state than the store holds.
 */
export interface MessageRef {
  kind: string;
  args: Record<string, string>;
  /**
   * On an entry that can coalesce: the args of every message it stands for, in the order they were queued (the first
   * is `args`). More than one means the builder renders them as one digest.
   */
  items?: Array<Record<string, string>>;
}

/**
 * Lets a new entry join one already queued for the same place instead of adding another message: Teams allows one
 * conversation about 2 messages a second, so a partner whose customers answer faster than that would otherwise wait
 * minutes for one notice per answer. The entry joins the newest pending entry with the same `key` if that one is not
 * leased (not yet in a deliverer's hands) and holds fewer than `max` items; otherwise it is queued as usual, so items
 * go out in the order they were queued.
 */
export interface Coalesce {
  key: string;
  max: number;
}

export type OutboxAction = { kind: 'send'; message: MessageRef } | { kind: 'update'; activityId: string; message: MessageRef };

export interface OutboxEntry {
  id: string;
  target: OutboxTarget;
  action: OutboxAction;
  /** After a successful send, remember where the offer card landed so it can be updated later. */
  onSent?: { kind: 'offerCard'; offerId: string } | { kind: 'relationshipCard'; relationshipId: string };
  /** What the entry is about, for status and logs. */
  subject?: { kind: 'offer' | 'delegation' | 'por' | 'lead'; id: string };
  /** The partner whose business this is: its `status` lists the entry if it cannot be delivered. */
  partnerTenantId?: string;
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  createdAt: string;
  nextAttemptAt: string;
  lease?: { owner: string; until: string };
  lastError?: string;
  coalesce?: Coalesce;
}

export type NewOutboxEntry = Pick<OutboxEntry, 'target' | 'action' | 'onSent' | 'subject' | 'partnerTenantId' | 'coalesce'>;

/** How a coalescing entry is first stored: its message lists itself as the first item, so later ones can be appended. */
export function withFirstItem(e: NewOutboxEntry): NewOutboxEntry {
  if (!e.coalesce) return e;
  return { ...e, action: { ...e.action, message: { ...e.action.message, items: [e.action.message.args] } } };
}
