import type { ResponsesStore } from '../../responses/store';
import type { NewResponse, ResponseRecord, ResponseSlot } from '../../responses/types';
import { chainResponse } from '../chain';
import { parse, parseAll, type Db, type Row } from './db';

/**
 * Writes response records in the transaction of the decision they record: only `offers.decide` and
 * `relationships.decide` write them, never on their own.
 */
export interface ResponseWriter {
  /** What is recorded in this (subject, slot) already, if anything: a decision reads it before it writes. */
  recorded(subjectId: string, slot: ResponseSlot): ResponseRecord | null;
  /** Appends the record to its customer's chain and moves the chain head to it. */
  append(response: NewResponse): ResponseRecord;
}

export function sqliteResponseWriter(db: Db): ResponseWriter {
  const q = {
    responseFor: db.prepare<[string, string], Row>('SELECT doc FROM responses WHERE subject_id = ? AND slot = ?'),
    responseInsert: db.prepare(
      'INSERT INTO responses (id, subject_id, slot, customer_tenant_id, seq, doc) VALUES (@id, @subjectId, @slot, @customerTenantId, @seq, @doc)',
    ),
    headGet: db.prepare<[string], { seq: number; hash: string }>('SELECT seq, hash FROM chain_heads WHERE customer_tenant_id = ?'),
    headSet: db.prepare(
      `INSERT INTO chain_heads (customer_tenant_id, seq, hash) VALUES (?, ?, ?)
       ON CONFLICT (customer_tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
    ),
  };
  return {
    recorded: (subjectId, slot) => parse<ResponseRecord>(q.responseFor.get(subjectId, slot)),
    append: (response) => {
      const record = chainResponse(response, q.headGet.get(response.customerTenantId) ?? null);
      q.responseInsert.run({ ...record, doc: JSON.stringify(record) });
      q.headSet.run(record.customerTenantId, record.seq, record.hash);
      return record;
    },
  };
}

export function sqliteResponses(db: Db): ResponsesStore {
  const q = {
    responsesForSubject: db.prepare<[string], Row>('SELECT doc FROM responses WHERE subject_id = ? ORDER BY seq'),
    responseChain: db.prepare<[string], Row>('SELECT doc FROM responses WHERE customer_tenant_id = ? ORDER BY seq'),
  };
  return {
    forSubject: async (subjectId) => parseAll<ResponseRecord>(q.responsesForSubject.all(subjectId)),
    chain: async (customerTenantId) => parseAll<ResponseRecord>(q.responseChain.all(customerTenantId)),
  };
}
