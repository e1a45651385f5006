import type { Activity } from 'botbuilder';

/** Where a proactive message goes: a stored conversation, or a user's 1:1 chat (opened if none is stored). */
export type OutboxTarget =
  | { kind: 'conversation'; conversationId: string }
  | { kind: 'user'; tenantId: string; aadObjectId: string; userId: string; serviceUrl: string };

export type OutboxAction =
  | { kind: 'send'; activity: Partial<Activity> }
  | { kind: 'update'; activityId: string; activity: Partial<Activity> };

export interface OutboxEntry {
  id: string;
  target: OutboxTarget;
  action: OutboxAction;
  /** After a successful send, remember where the offer card landed so it can be updated later. */
  onSent?: { kind: 'offerCard'; offerId: string };
  /** What the entry is about, for status and logs. */
  subject?: { kind: 'offer'; id: string };
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  createdAt: string;
  nextAttemptAt: string;
  lease?: { owner: string; until: string };
  lastError?: string;
}

export type NewOutboxEntry = Pick<OutboxEntry, 'target' | 'action' | 'onSent' | 'subject'>;
