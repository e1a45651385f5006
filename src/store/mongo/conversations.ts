import type { ConversationsStore } from '../../directory/store';
import type { ConversationRecord } from '../../directory/types';
import { encode, fromDoc, str, type CollectionSpec, type Doc, type Mongo } from './db';

export const CONVERSATION_COLLECTIONS: CollectionSpec[] = [
  {
    name: 'conversations',
    indexes: [
      { key: { kind: 1, tenantId: 1, 'user.aadObjectId': 1 }, name: 'personal_user' },
      { key: { kind: 1, _email: 1 }, name: 'personal_email' },
      { key: { kind: 1, _upn: 1 }, name: 'personal_upn' },
    ],
  },
];

export function mongoConversations({ db }: Mongo): ConversationsStore {
  const conversations = db.collection<Doc>('conversations');
  return {
    upsert: async (c: ConversationRecord) => {
      const id = str(c.id, 'conversation id');
      const doc: Doc = { _id: id, ...encode(c) };
      // Lower-cased copies for lookup; the record itself keeps the case Teams gave us (as SQLite's doc column does).
      if (typeof c.user?.email === 'string') doc._email = c.user.email.toLowerCase();
      if (typeof c.user?.upn === 'string') doc._upn = c.user.upn.toLowerCase();
      await conversations.replaceOne({ _id: id }, doc, { upsert: true });
    },
    get: async (id) => fromDoc<ConversationRecord>(await conversations.findOne({ _id: str(id, 'conversation id') })),
    findPersonal: async (tenantId, aadObjectId) =>
      fromDoc<ConversationRecord>(
        await conversations.findOne(
          { kind: 'personal', tenantId: str(tenantId, 'tenant id'), 'user.aadObjectId': str(aadObjectId, 'aadObjectId'), active: true },
          { sort: { updatedAt: -1 } },
        ),
      ),
    findPersonalByEmail: async (email) => {
      const e = str(email, 'email').toLowerCase();
      return fromDoc<ConversationRecord>(
        await conversations.findOne({ kind: 'personal', active: true, $or: [{ _email: e }, { _upn: e }] }, { sort: { updatedAt: -1 } }),
      );
    },
    deactivate: async (id, reason, at) =>
      void (await conversations.updateOne(
        { _id: str(id, 'conversation id') },
        { $set: { active: false, inactiveReason: str(reason, 'reason'), updatedAt: str(at, 'time') } },
      )),
  };
}
