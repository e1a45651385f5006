import type { ClientSession, Document } from 'mongodb';
import type { ResponsesStore } from '../../responses/store';
import type { NewResponse, ResponseRecord } from '../../responses/types';
import { chainResponse } from '../chain';
import { encode, fromDoc, fromDocs, isDuplicateKey, RaceLost, retrying, str, type CollectionSpec, type Doc, type Mongo } from './db';

interface HeadDoc {
  _id: string;
  seq: number;
  hash: string;
}

/** The JSON type each field of a record is stored as, with `?` when the field may be absent. */
type Stored<V> = NonNullable<V> extends string ? 'string' : NonNullable<V> extends number ? 'number' : 'object';
type FieldTypes<T> = { [K in keyof T]-?: undefined extends T[K] ? `${Stored<T[K]>}?` : Stored<T[K]> };

/**
 * Every field of a record, typed by `ResponseRecord`'s keys: a field added there does not compile until it is listed
 * here, since the validator below would refuse every record that has it.
 */
const RECORD_FIELDS: FieldTypes<ResponseRecord> = {
  id: 'string',
  subjectKind: 'string',
  subjectId: 'string',
  slot: 'string',
  decision: 'string',
  comment: 'string?',
  by: 'object',
  at: 'string',
  conversationId: 'string',
  activityId: 'string',
  customerTenantId: 'string',
  microsoft: 'object?',
  seq: 'number',
  prevHash: 'string',
  hash: 'string',
};
const BY_FIELDS: FieldTypes<ResponseRecord['by']> = { aadObjectId: 'string', name: 'string', upn: 'string?', tenantId: 'string' };
const MICROSOFT_FIELDS: FieldTypes<NonNullable<ResponseRecord['microsoft']>> = {
  relationshipId: 'string',
  status: 'string',
  reportedAt: 'string',
};

/** An object with exactly these fields (`additionalProperties: false`), each of its JSON type; `?` ones optional. */
function exactly(fields: Record<string, string>, special: Record<string, Document> = {}): Document {
  const entries = Object.entries(fields);
  return {
    bsonType: 'object',
    required: entries.filter(([, t]) => !t.endsWith('?')).map(([k]) => k),
    properties: Object.fromEntries(entries.map(([k, t]) => [k, special[k] ?? { bsonType: t.replace('?', '') }])),
    additionalProperties: false,
  };
}

const HASH = { bsonType: 'string', pattern: '^[0-9a-f]{64}$' };

/**
 * Response records are immutable; SQLite refuses an UPDATE by trigger. A MongoDB validator sees only the document
 * as it would be after a write, never the one before, so nothing declarative refuses every update; this one refuses
 * what it can (`validationAction: 'error'`, `validationLevel: 'strict'`, on inserts and updates alike): an update or
 * replace that adds a field, removes one, renames one, changes a field's type, sets a malformed hash or a seq below
 * 1, or changes `id` (it must equal `_id`, which no update can change). It does NOT refuse an update that sets a
 * field to another value of the same type (another decision or comment, another `by.name`), nor a delete: the
 * chain's hashes show those (`verifyChain`), and a database user without `update` and `remove` on `responses` (a
 * custom role) is what refuses them outright.
 */
export const RESPONSE_VALIDATOR: Document = {
  $jsonSchema: exactly(
    { _id: 'string', ...RECORD_FIELDS },
    { by: exactly(BY_FIELDS), microsoft: exactly(MICROSOFT_FIELDS), seq: { bsonType: 'number', minimum: 1 }, prevHash: HASH, hash: HASH },
  ),
  $expr: { $eq: ['$_id', '$id'] },
};

export const RESPONSE_COLLECTIONS: CollectionSpec[] = [
  {
    name: 'responses',
    indexes: [
      { key: { subjectId: 1, slot: 1 }, name: 'subject_slot_unique', unique: true },
      { key: { customerTenantId: 1, seq: 1 }, name: 'customer_seq_unique', unique: true },
    ],
    validator: RESPONSE_VALIDATOR,
  },
  // Each customer's chain head (`_id` = the customer's tenant id), moved by compare-and-set on `seq`.
  { name: 'chainHeads' },
];

/** Another decision for the same customer took the chain position this one read, or recorded its (subject, slot). */
class ChainMoved extends RaceLost {
  constructor(customerTenantId: string, options?: ErrorOptions) {
    super(`the response chain of ${customerTenantId} moved during the transaction`, options);
  }
}

/**
 * Writes response records in the transaction of the decision they record: only `offers.decide` and
 * `relationships.decide` write them, never on their own.
 */
export interface ResponseWriter {
  /** What is recorded in this (subject, slot) already, if anything: a decision reads it before it writes. */
  recorded(subjectId: string, slot: string, session?: ClientSession): Promise<ResponseRecord | null>;
  /**
   * Appends the record to its customer's chain and moves the chain head to it, in `session`. Throws `RaceLost` if
   * another decision moved the head first (the transaction then aborts, and the decision is re-run).
   */
  append(session: ClientSession, response: NewResponse): Promise<ResponseRecord>;
  /**
   * Runs a decision that answers this (subject, slot): one transaction that first reads what the slot holds (then
   * `already` is the answer and nothing is written) and otherwise runs `decide`. A lost race (`retrying`) re-runs it,
   * unless the winner recorded this slot (`already` again) or `lost` answers from what the winner wrote.
   */
  deciding<T>(what: string, answers: { subjectId: string; slot: string }, decision: Decision<T>): Promise<T>;
}

interface Decision<T> {
  already(stored: ResponseRecord, session?: ClientSession): Promise<T>;
  decide(session: ClientSession): Promise<T>;
  lost?(err: unknown): Promise<T | undefined>;
}

export function mongoResponseWriter(m: Mongo): ResponseWriter {
  const responses = m.db.collection<Doc>('responses');
  const heads = m.db.collection<HeadDoc>('chainHeads');
  const recorded = async (subjectId: string, slot: string, session?: ClientSession) =>
    fromDoc<ResponseRecord>(await responses.findOne({ subjectId: str(subjectId, 'subjectId'), slot: str(slot, 'slot') }, { session }));
  return {
    recorded,
    deciding: (what, { subjectId, slot }, d) =>
      retrying(
        what,
        () =>
          m.transaction(async (session) => {
            const existing = await recorded(subjectId, slot, session);
            return existing ? d.already(existing, session) : d.decide(session);
          }),
        async (err) => {
          const stored = await recorded(subjectId, slot);
          return stored ? d.already(stored) : d.lost?.(err);
        },
      ),
    append: async (session, response) => {
      const tenant = str(response.customerTenantId, 'customerTenantId');
      const head = await heads.findOne({ _id: tenant }, { session });
      const record = chainResponse(response, head ? { seq: head.seq, hash: head.hash } : null);
      try {
        await responses.insertOne({ _id: str(record.id, 'response id'), ...encode(record) }, { session });
        if (head) {
          const moved = await heads.updateOne(
            { _id: tenant, seq: head.seq },
            { $set: { seq: record.seq, hash: record.hash } },
            { session },
          );
          if (moved.matchedCount !== 1) throw new ChainMoved(tenant);
        } else {
          await heads.insertOne({ _id: tenant, seq: record.seq, hash: record.hash }, { session });
        }
      } catch (err) {
        // A duplicate (subject, slot), (customer, seq) or first head: a concurrent decision committed it first.
        if (isDuplicateKey(err)) throw new ChainMoved(tenant, { cause: err });
        throw err;
      }
      return record;
    },
  };
}

export function mongoResponses({ db }: Mongo): ResponsesStore {
  const responses = db.collection<Doc>('responses');
  return {
    forSubject: async (subjectId) =>
      fromDocs<ResponseRecord>(
        await responses
          .find({ subjectId: str(subjectId, 'subjectId') })
          .sort({ seq: 1 })
          .toArray(),
      ),
    chain: async (customerTenantId) =>
      fromDocs<ResponseRecord>(
        await responses
          .find({ customerTenantId: str(customerTenantId, 'customerTenantId') })
          .sort({ seq: 1 })
          .toArray(),
      ),
  };
}
