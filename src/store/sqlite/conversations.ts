import type { ConversationsStore } from '../../directory/store';
import type { ConversationRecord } from '../../directory/types';
import { parse, type Db, type Row } from './db';

export function sqliteConversations(db: Db): ConversationsStore {
  const q = {
    convUpsert: db.prepare(`INSERT INTO conversations (id, tenant_id, kind, aad_object_id, email, upn, active, updated_at, doc)
      VALUES (@id, @tenantId, @kind, @aad, @email, @upn, @active, @updatedAt, @doc)
      ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, kind = excluded.kind, aad_object_id = excluded.aad_object_id,
        email = excluded.email, upn = excluded.upn, active = excluded.active, updated_at = excluded.updated_at, doc = excluded.doc`),
    convGet: db.prepare<[string], Row>('SELECT doc FROM conversations WHERE id = ?'),
    convPersonal: db.prepare<[string, string], Row>(
      `SELECT doc FROM conversations WHERE kind = 'personal' AND tenant_id = ? AND aad_object_id = ? AND active = 1
       ORDER BY updated_at DESC LIMIT 1`,
    ),
    // Two index seeks, one per column. Written with OR, SQLite scanned every personal chat
    // (6.6 ms per lookup at 10,000 chats, 0.05 ms this way), which made issuing an offer grow with the directory.
    convByEmail: db.prepare<[string, string], Row>(
      `SELECT doc FROM (
         SELECT doc, updated_at FROM conversations WHERE kind = 'personal' AND email = ? AND active = 1
         UNION ALL
         SELECT doc, updated_at FROM conversations WHERE kind = 'personal' AND upn = ? AND active = 1
       ) ORDER BY updated_at DESC LIMIT 1`,
    ),
    convDeactivate: db.prepare<{ id: string; at: string; reason: string }>(
      `UPDATE conversations SET active = 0, updated_at = @at,
         doc = json_set(doc, '$.active', json('false'), '$.inactiveReason', @reason, '$.updatedAt', @at) WHERE id = @id`,
    ),
  };
  return {
    upsert: async (c: ConversationRecord) =>
      void q.convUpsert.run({
        id: c.id,
        tenantId: c.tenantId,
        kind: c.kind,
        aad: c.user?.aadObjectId ?? null,
        email: c.user?.email?.toLowerCase() ?? null,
        upn: c.user?.upn?.toLowerCase() ?? null,
        active: c.active ? 1 : 0,
        updatedAt: c.updatedAt,
        doc: JSON.stringify(c),
      }),
    get: async (id) => parse<ConversationRecord>(q.convGet.get(id)),
    findPersonal: async (tenantId, aad) => parse<ConversationRecord>(q.convPersonal.get(tenantId, aad)),
    findPersonalByEmail: async (email) => {
      const e = email.toLowerCase();
      return parse<ConversationRecord>(q.convByEmail.get(e, e));
    },
    deactivate: async (id, reason, at) => void q.convDeactivate.run({ id, at, reason }),
  };
}
