import type { Partner } from './partners';
import type { ConversationRecord } from './types';

/** What the registry stores: a partner as the partners file describes it (adapters see the type through this port). */
export type { Partner };

/** The partner registry (the partners file, upserted at every start). */
export interface PartnersStore {
  upsert(partner: Partner): Promise<void>;
  get(tenantId: string): Promise<Partner | null>;
}

/** Where the bot can reach people and channels: every conversation it has been added to. */
export interface ConversationsStore {
  upsert(record: ConversationRecord): Promise<void>;
  get(conversationId: string): Promise<ConversationRecord | null>;
  findPersonal(tenantId: string, aadObjectId: string): Promise<ConversationRecord | null>;
  /** The most recently active personal chat of the user with that email or UPN. */
  findPersonalByEmail(email: string): Promise<ConversationRecord | null>;
  deactivate(conversationId: string, reason: string, at: string): Promise<void>;
}
