import type { NewOutboxEntry } from '../../notifications/types';
import type { FulfilmentsStore } from '../../orders/store';
import type { Fulfilment } from '../../orders/types';
import type { NewResponse } from '../../responses/types';
import { parse, parseAll, type Db, type Row } from './db';
import type { OutboxInsert } from './outbox';
import type { ResponseWriter } from './responses';

/** Inserts a fulfilment in the caller's transaction: `offers.decide` writes it with the decision. */
export type FulfilmentInsert = (f: Fulfilment) => void;

const params = (f: Fulfilment) => ({
  id: f.id,
  partnerTenantId: f.partnerTenantId,
  state: f.state,
  version: f.version,
  dueAt: f.dueAt ?? null,
  placedAt: f.placedAt ?? null,
  createdAt: f.createdAt,
  doc: JSON.stringify(f),
});

export function sqliteFulfilmentInsert(db: Db): FulfilmentInsert {
  const insert = db.prepare(`INSERT INTO fulfilments (id, partner_tenant_id, state, version, due_at, placed_at, created_at, doc)
    VALUES (@id, @partnerTenantId, @state, @version, @dueAt, @placedAt, @createdAt, @doc)`);
  return (f) => void insert.run(params(f));
}

/**
 * Orders placed per month since the first month shown (partner, from month, currency): only those orders, off the
 * partial index fulfilments_partner_placed (migration 13), in month order; exported for the query-plan test.
 */
export const FULFILMENT_PLACED_VALUE_SQL = `SELECT substr(placed_at, 1, 7) AS month, sum(json_extract(doc, '$.valueCentsPerMonth')) AS cents
  FROM fulfilments
  WHERE partner_tenant_id = ? AND state = 'placed' AND placed_at >= ? AND json_extract(doc, '$.currency') = ?
  GROUP BY month ORDER BY month`;

export function sqliteFulfilments(db: Db, writes: { responses: ResponseWriter; outbox: OutboxInsert }): FulfilmentsStore {
  const q = {
    get: db.prepare<[string], Row>('SELECT doc FROM fulfilments WHERE id = ?'),
    update: db.prepare(`UPDATE fulfilments SET state = @state, version = @version, due_at = @dueAt, placed_at = @placedAt, doc = @doc
      WHERE id = @id AND version = @expectedVersion`),
    due: db.prepare<[string, number], Row>('SELECT doc FROM fulfilments WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?'),
    placedValue: db.prepare<[string, string, string], { month: string; cents: number }>(FULFILMENT_PLACED_VALUE_SQL),
    byPartner: db.prepare<[string, number], Row>(
      'SELECT doc FROM fulfilments WHERE partner_tenant_id = ? ORDER BY created_at DESC, id LIMIT ?',
    ),
  };

  const updateTx = db.transaction((next: Fulfilment, expectedVersion: number, outbox: NewOutboxEntry[], responses: NewResponse[]) => {
    if (q.update.run({ ...params(next), expectedVersion }).changes !== 1) return false;
    // A record already in its slot was written by an earlier change of this job: it is not written twice.
    for (const r of responses) if (!writes.responses.recorded(r.subjectId, r.slot)) writes.responses.append(r);
    writes.outbox(outbox);
    return true;
  });

  return {
    get: async (id) => parse<Fulfilment>(q.get.get(id)),
    forOffers: async (ids) => {
      const unique = [...new Set(ids)];
      if (!unique.length) return [];
      const found: Fulfilment[] = [];
      // In chunks: SQLite caps the number of bound parameters.
      for (let i = 0; i < unique.length; i += 500) {
        const chunk = unique.slice(i, i + 500);
        const rows = db.prepare<string[], Row>(`SELECT doc FROM fulfilments WHERE id IN (${chunk.map(() => '?').join(',')})`).all(...chunk);
        found.push(...parseAll<Fulfilment>(rows));
      }
      return found;
    },
    update: async (next, expectedVersion, outbox, responses = []) => updateTx.immediate(next, expectedVersion, outbox, responses),
    listDue: async (now, limit) => parseAll<Fulfilment>(q.due.all(now, limit)),
    listByPartner: async (partnerTenantId, limit) => parseAll<Fulfilment>(q.byPartner.all(partnerTenantId, limit)),
    placedValue: async (partnerTenantId, currency, fromMonth) => q.placedValue.all(partnerTenantId, fromMonth, currency),
  };
}
