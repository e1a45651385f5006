import type { ClientSession } from 'mongodb';
import type { FulfilmentsStore } from '../../orders/store';
import type { Fulfilment } from '../../orders/types';
import { encode, fromDoc, fromDocs, int, limited, retrying, str, strings, type CollectionSpec, type Doc, type Mongo } from './db';
import type { OutboxInsert } from './outbox';
import type { ResponseWriter } from './responses';

export const FULFILMENT_COLLECTIONS: CollectionSpec[] = [
  {
    name: 'fulfilments',
    indexes: [
      // Only jobs with work left carry dueAt: the sweep's index holds nothing else.
      { key: { dueAt: 1 }, name: 'due', partialFilterExpression: { dueAt: { $exists: true } } },
      { key: { partnerTenantId: 1, createdAt: -1, _id: 1 }, name: 'partner_created' },
      // issue 18: the Offers tab's orders placed per month (`placedValue`) read only the orders placed since the first
      // month shown, not every order the partner ever placed (SQLite: fulfilments_partner_placed).
      { key: { partnerTenantId: 1, placedAt: 1 }, name: 'partner_placed', partialFilterExpression: { state: 'placed' } },
    ],
  },
];

function fulfilmentDoc(f: Fulfilment): Doc {
  const doc: Doc = { _id: str(f.id, 'fulfilment id'), ...encode(f) };
  // The partial index covers every document that has the field: a finished job must not have it at all.
  if (typeof doc.dueAt !== 'string') delete doc.dueAt;
  return doc;
}

/** Inserts a fulfilment in the caller's transaction: `offers.decide` writes it with the decision. */
export type FulfilmentInsert = (session: ClientSession, f: Fulfilment) => Promise<void>;

export function mongoFulfilmentInsert({ db }: Mongo): FulfilmentInsert {
  const fulfilments = db.collection<Doc>('fulfilments');
  return async (session, f) => void (await fulfilments.insertOne(fulfilmentDoc(f), { session }));
}

export function mongoFulfilments(m: Mongo, writes: { responses: ResponseWriter; outbox: OutboxInsert }): FulfilmentsStore {
  const fulfilments = m.db.collection<Doc>('fulfilments');
  return {
    get: async (id) => fromDoc<Fulfilment>(await fulfilments.findOne({ _id: str(id, 'fulfilment id') })),

    forOffers: async (ids) => {
      const unique = [...new Set(strings(ids, 'offer ids'))];
      return unique.length ? fromDocs<Fulfilment>(await fulfilments.find({ _id: { $in: unique } }).toArray()) : [];
    },

    update: (next, expectedVersion, entries, responses = []) => {
      const id = str(next.id, 'fulfilment id');
      int(expectedVersion, 'expectedVersion');
      // A response record can lose the customer's chain head to another decision: the whole write is then re-run.
      return retrying(`update fulfilment ${id}`, () =>
        m.transaction(async (session) => {
          const replaced = await fulfilments.replaceOne({ _id: id, version: expectedVersion }, fulfilmentDoc(next), { session });
          if (replaced.matchedCount !== 1) return false;
          // A record already in its slot was written by an earlier change of this job: it is not written twice.
          for (const r of responses) {
            if (!(await writes.responses.recorded(r.subjectId, r.slot, session))) await writes.responses.append(session, r);
          }
          await writes.outbox(session, entries);
          return true;
        }),
      );
    },

    listDue: async (now, limit) =>
      limited(limit, (n) =>
        fulfilments
          .find({ dueAt: { $lte: str(now, 'time') } })
          .sort({ dueAt: 1 })
          .limit(n)
          .toArray(),
      ).then(fromDocs<Fulfilment>),

    placedValue: async (partnerTenantId, currency, fromMonth) => {
      const rows = await fulfilments
        .aggregate<{ _id: string; cents: number }>([
          {
            $match: {
              partnerTenantId: str(partnerTenantId, 'partnerTenantId'),
              state: 'placed',
              currency: str(currency, 'currency'),
              placedAt: { $gte: str(fromMonth, 'month') },
            },
          },
          { $group: { _id: { $substrBytes: ['$placedAt', 0, 7] }, cents: { $sum: '$valueCentsPerMonth' } } },
          { $sort: { _id: 1 } },
        ])
        .toArray();
      return rows.map((r) => ({ month: r._id, cents: r.cents }));
    },

    listByPartner: async (partnerTenantId, limit) =>
      limited(limit, (n) =>
        fulfilments
          .find({ partnerTenantId: str(partnerTenantId, 'partnerTenantId') })
          .sort({ createdAt: -1, _id: 1 })
          .limit(n)
          .toArray(),
      ).then(fromDocs<Fulfilment>),
  };
}
