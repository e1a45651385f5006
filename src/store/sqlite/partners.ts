import type { Partner, PartnersStore } from '../../directory/store';
import { parse, type Db, type Row } from './db';

export function sqlitePartners(db: Db): PartnersStore {
  const q = {
    partnerUpsert: db.prepare(
      'INSERT INTO partners (tenant_id, doc) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET doc = excluded.doc',
    ),
    partnerGet: db.prepare<[string], Row>('SELECT doc FROM partners WHERE tenant_id = ?'),
  };
  return {
    upsert: async (p: Partner) => void q.partnerUpsert.run(p.tenantId, JSON.stringify(p)),
    get: async (tenantId) => parse<Partner>(q.partnerGet.get(tenantId)),
  };
}
