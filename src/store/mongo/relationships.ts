import { ObjectId, type ClientSession } from 'mongodb';
import {
  ActiveRelationshipExists,
  activeRefuses,
  checkReplaces,
  type RelationshipDecideResult,
  type RelationshipsStore,
} from '../../delegation/store';
import type { Relationship } from '../../delegation/types';
import { MAX_CARD_COPIES } from '../../offers/store';
import type { ResponseRecord } from '../../responses/types';
import {
  encode,
  fromDoc,
  fromDocs,
  int,
  isDuplicateKeyOn,
  limited,
  RaceLost,
  str,
  versionedDocs,
  type CollectionSpec,
  type Doc,
  type Mongo,
} from './db';
import type { OutboxInsert } from './outbox';
import type { ResponseWriter } from './responses';

/** The partial unique index on active relationships; a duplicate key on it means another approval won. */
const ACTIVE_INDEX = { name: 'customer_kind_active_unique', key: { customerTenantId: 1, kind: 1 } } as const;

/** The states `listDue` looks at: open requests (they expire) and active relationships (reminders, the end). */
const DUE_STATES = ['awaitingDelivery', 'approvalPending', 'active', 'terminationRequested', 'declined'] as const;

export const RELATIONSHIP_COLLECTIONS: CollectionSpec[] = [
  {
    name: 'relationships',
    indexes: [
      // At most one active relationship per (customer, kind): the database's own guarantee, whatever interleaves.
      { ...ACTIVE_INDEX, unique: true, partialFilterExpression: { state: 'active' } },
      // The duplicate guard: only open unattached requests carry a pendingKey.
      { key: { pendingKey: 1 }, name: 'pendingKey_unique', unique: true, partialFilterExpression: { pendingKey: { $exists: true } } },
      // In `listByPartner`'s sort order (newest first, then id), so the sort is read off the index.
      { key: { partnerTenantId: 1, createdAt: -1, _id: 1 }, name: 'partner_created' },
      { key: { approverEmail: 1, createdAt: 1, _ord: 1 }, name: 'awaiting', partialFilterExpression: { state: 'awaitingDelivery' } },
      {
        key: { 'approver.tenantId': 1, 'approver.aadObjectId': 1, createdAt: 1, _ord: 1 },
        name: 'pending_for',
        partialFilterExpression: { state: 'approvalPending' },
      },
      // Not partial: `$in` in a partial filter needs a recent server, and an equality prefix per state merges in order.
      { key: { state: 1, dueAt: 1, _ord: 1 }, name: 'state_due' },
      { key: { offerId: 1 }, name: 'offer', partialFilterExpression: { offerId: { $exists: true } } },
    ],
  },
];

/** The relationship as stored; `_ord` is kept across replaces. */
function relDoc(r: Relationship, ord = new ObjectId()): Doc {
  const doc: Doc = { _id: str(r.id, 'relationship id'), ...encode(r), _ord: ord };
  // Partial indexes cover every document that has the field: only an open unattached request may carry a key.
  if (typeof doc.pendingKey !== 'string') delete doc.pendingKey;
  // The active index keys on the customer; an active document without one would be keyed on null (as SQLite's
  // CHECK constraint refuses it, this refuses it too).
  if (doc.state === 'active' && typeof doc.customerTenantId !== 'string') {
    throw new TypeError(`store: active relationship ${r.id} has no customerTenantId`);
  }
  return doc;
}

/** Inserts relationships in the caller's transaction: `offers.create` inserts the requests attached to an offer. */
export interface RelationshipDocs {
  insert(session: ClientSession, r: Relationship): Promise<void>;
}

export function mongoRelationshipDocs({ db }: Mongo): RelationshipDocs {
  const relationships = db.collection<Doc>('relationships');
  return { insert: async (session, r) => void (await relationships.insertOne(relDoc(r), { session })) };
}

/** A relationship read in this transaction at the expected version no longer matched it when written. */
class RelationshipMoved extends RaceLost {
  constructor(id: string) {
    super(`relationship ${id} changed during the transaction`);
  }
}

/** The active index refused the approval: another one for the customer and kind committed after our snapshot. */
class ActiveTaken extends RaceLost {
  constructor(id: string, options: ErrorOptions) {
    super(`another relationship became active before ${id} could`, options);
  }
}

/** What a relationship's create, update and decision write besides its own documents, in their transaction. */
export interface RelationshipWrites {
  docs: RelationshipDocs;
  responses: ResponseWriter;
  outbox: OutboxInsert;
}

export function mongoRelationships(m: Mongo, { docs: inserts, responses, outbox: insertOutbox }: RelationshipWrites): RelationshipsStore {
  const docs = versionedDocs<Relationship>(m, 'relationships', relDoc);
  const relationships = docs.collection;

  const getRel = async (id: string, session?: ClientSession) =>
    fromDoc<Relationship>(await relationships.findOne({ _id: id }, { session }));

  /** The customer's active relationship of that kind; none for a relationship whose customer is not known yet. */
  const activeRel = async (customerTenantId: string | undefined, kind: string, session?: ClientSession) =>
    customerTenantId === undefined
      ? null
      : fromDoc<Relationship>(
          await relationships.findOne(
            { customerTenantId: str(customerTenantId, 'customerTenantId'), kind: str(kind, 'kind'), state: 'active' },
            { session },
          ),
        );

  /** A write that would make a second active relationship for the customer, reported as what it is. */
  const activeViolation = async (err: unknown, r: Relationship) =>
    isDuplicateKeyOn(err, ACTIVE_INDEX)
      ? new ActiveRelationshipExists(r, (await activeRel(r.customerTenantId, r.kind).catch(() => null))?.id)
      : err;

  return {
    create: async (r, entries) => {
      const pendingKey = r.pendingKey === undefined ? undefined : str(r.pendingKey, 'pendingKey');
      try {
        const existing = await docs.create(pendingKey, async (session) => {
          await inserts.insert(session, r);
          await insertOutbox(session, entries);
        });
        return existing ? { created: false, relationship: existing } : { created: true, relationship: r };
      } catch (err) {
        throw await activeViolation(err, r);
      }
    },

    get: async (id) => getRel(str(id, 'relationship id')),

    update: async (next, expectedVersion, entries) => {
      str(next.id, 'relationship id');
      int(expectedVersion, 'expectedVersion');
      try {
        return await docs.update(next, expectedVersion, (session) => insertOutbox(session, entries));
      } catch (err) {
        throw await activeViolation(err, next);
      }
    },

    decide: async (d) => {
      const { next, replaces } = d;
      const id = str(next.id, 'relationship id');
      int(d.expectedVersion, 'expectedVersion');
      const kind = str(next.kind, 'kind');
      const customer = next.customerTenantId === undefined ? undefined : str(next.customerTenantId, 'customerTenantId');
      const first = d.responses[0];
      if (!first) throw new TypeError('store: a relationship decision records at least one response');
      str(first.subjectId, 'subjectId');
      str(first.slot, 'slot');
      for (const r of d.responses) str(r.customerTenantId, 'customerTenantId');
      checkReplaces(replaces);
      const ended = replaces?.ended;
      if (ended) int(ended.expectedVersion, 'expectedVersion');
      // In this order: the old relationship leaves `active` before the new one enters it.
      const writes = [...(ended ? [ended] : []), { next, expectedVersion: d.expectedVersion }];
      const refuses = (active: Relationship | null) => activeRefuses(d, active);

      return responses.deciding<RelationshipDecideResult>(`record the decision on ${id}`, first, {
        already: async (stored, session) => ({
          status: 'already',
          relationship: (await getRel(id, session)) as Relationship,
          response: stored,
        }),
        decide: async (session) => {
          if (replaces || next.state === 'active') {
            const active = await activeRel(customer, kind, session);
            if (refuses(active)) return { status: 'activeChanged', active };
          }
          // Every check before the first write: returning commits, and only `recorded` may have written anything.
          const currents: Doc[] = [];
          for (const w of writes) {
            const current = await relationships.findOne({ _id: str(w.next.id, 'relationship id') }, { session });
            if (!current || current.version !== w.expectedVersion)
              return { status: 'conflict', relationship: fromDoc<Relationship>(current) };
            currents.push(current);
          }
          for (const [i, w] of writes.entries()) {
            let replaced: boolean;
            try {
              replaced = await docs.replace(w.next, w.expectedVersion, currents[i]!, session);
            } catch (err) {
              // Both snapshots saw no (or the same) active relationship and the other approval committed first.
              if (isDuplicateKeyOn(err, ACTIVE_INDEX)) throw new ActiveTaken(w.next.id, { cause: err });
              throw err;
            }
            if (!replaced) throw new RelationshipMoved(w.next.id);
          }
          const records: ResponseRecord[] = [];
          for (const response of d.responses) records.push(await responses.append(session, response));
          await insertOutbox(session, d.outbox);
          return { status: 'recorded', relationship: next, responses: records };
        },
        // Another relationship won the active index: `activeChanged`; if that winner is already gone again, the next
        // attempt reads the news.
        lost: async (err) => {
          const active = err instanceof ActiveTaken ? await activeRel(customer, kind) : null;
          return active && refuses(active) ? { status: 'activeChanged', active } : undefined;
        },
      });
    },

    activeFor: async (customerTenantId, kind) => activeRel(str(customerTenantId, 'customerTenantId'), kind),

    forOffer: async (offerId) =>
      fromDocs<Relationship>(
        await relationships
          .find({ offerId: str(offerId, 'offer id') })
          .sort({ _ord: 1 })
          .toArray(),
      ),

    listByPartner: async (partnerTenantId, limit) => {
      const filter = { partnerTenantId: str(partnerTenantId, 'partnerTenantId') };
      return limited(limit, (n) => relationships.find(filter).sort({ createdAt: -1, _id: 1 }).limit(n).toArray()).then(
        fromDocs<Relationship>,
      );
    },

    listAwaitingDelivery: async (email) =>
      fromDocs<Relationship>(
        await relationships
          .find({ approverEmail: str(email, 'email').toLowerCase(), state: 'awaitingDelivery', offerId: { $exists: false } })
          .sort({ createdAt: 1, _ord: 1 })
          .toArray(),
      ),

    listPendingFor: async ({ tenantId, aadObjectId }) =>
      fromDocs<Relationship>(
        await relationships
          .find({
            'approver.tenantId': str(tenantId, 'tenant id'),
            'approver.aadObjectId': str(aadObjectId, 'aadObjectId'),
            state: 'approvalPending',
            offerId: { $exists: false },
          })
          .sort({ createdAt: 1, _ord: 1 })
          .toArray(),
      ),

    listDue: async (at, limit) => {
      const filter = { state: { $in: [...DUE_STATES] }, dueAt: { $lte: str(at, 'time') } };
      return limited(limit, (n) => relationships.find(filter).sort({ dueAt: 1, _ord: 1 }).limit(n).toArray()).then(fromDocs<Relationship>);
    },

    setCard: async (id, card) =>
      void (await relationships.updateOne({ _id: str(id, 'relationship id') }, { $set: { card: encode(card) } })),
    addCopy: async (id, card) =>
      // One atomic update (a pipeline), as an offer's copies: append, keep the newest few; the version stays.
      void (await relationships.updateOne({ _id: str(id, 'relationship id') }, [
        {
          $set: { copies: { $slice: [{ $concatArrays: [{ $ifNull: ['$copies', []] }, [{ $literal: encode(card) }]] }, -MAX_CARD_COPIES] } },
        },
      ])),
  };
}
