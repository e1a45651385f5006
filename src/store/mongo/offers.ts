import { ObjectId, type ClientSession } from 'mongodb';
import { checkAttachments } from '../../delegation/store';
import { MAX_CARD_COPIES, type CustomerSummary, type DecideResult, type OfferQuery, type OffersStore } from '../../offers/store';
import { PENDING_STATES, type Offer } from '../../offers/types';
import { encode, fromDoc, fromDocs, int, limited, str, versionedDocs, type CollectionSpec, type Doc, type Mongo } from './db';
import type { FulfilmentInsert } from './fulfilments';
import type { OutboxInsert } from './outbox';
import type { RelationshipDocs } from './relationships';
import type { ResponseWriter } from './responses';

/**
 * `listByPartner`'s order, as SQLite's (`created_at DESC, id`): newest first, then id ascending. The `partner_created`
 * and `partner_approver_created` indexes end in exactly these keys, so the sort is read off an index, with or
 * without the approver filter.
 */
export const BY_PARTNER_SORT = { createdAt: -1, _id: 1 } as const;

export const OFFER_COLLECTIONS: CollectionSpec[] = [
  {
    name: 'offers',
    indexes: [
      // The duplicate guard: only pending offers carry a pendingKey, and no two may share one.
      { key: { pendingKey: 1 }, name: 'pendingKey_unique', unique: true, partialFilterExpression: { pendingKey: { $exists: true } } },
      { key: { partnerTenantId: 1, ...BY_PARTNER_SORT }, name: 'partner_created' },
      { key: { partnerTenantId: 1, approverEmail: 1, ...BY_PARTNER_SORT }, name: 'partner_approver_created' },
      { key: { approverEmail: 1, state: 1 }, name: 'approver_state' },
      { key: { 'approver.tenantId': 1, 'approver.aadObjectId': 1, state: 1 }, name: 'approver_user_state' },
      // The sweep's expiries (`listExpired`: pending states, by expiresAt then insertion): with `_ord` in the key each
      // state's range is already in the sort's order, so the server merges them and stops at the limit instead of
      // fetching and sorting every due offer in memory (issue 18). Same name as the key it replaces, so a deployed
      // database's old definition is dropped and rebuilt rather than kept beside it.
      { key: { state: 1, expiresAt: 1, _ord: 1 }, name: 'state_expires' },
    ],
  },
];

/** The offer as stored; `_ord` is kept across replaces. */
function offerDoc(o: Offer, ord = new ObjectId()): Doc {
  const doc: Doc = { _id: str(o.id, 'offer id'), ...encode(o), _ord: ord };
  // The partial unique index covers every document that has the field, so a non-pending offer must not have it.
  if (typeof doc.pendingKey !== 'string') delete doc.pendingKey;
  return doc;
}

/** What an offer's create, update and decision write besides its own document, in their transaction. */
export interface OfferWrites {
  relationships: RelationshipDocs;
  fulfilments: FulfilmentInsert;
  responses: ResponseWriter;
  outbox: OutboxInsert;
}

export function mongoOffers(m: Mongo, { relationships, fulfilments, responses, outbox: insertOutbox }: OfferWrites): OffersStore {
  const docs = versionedDocs<Offer>(m, 'offers', offerDoc);
  const offers = docs.collection;

  const getOffer = async (id: string, session?: ClientSession) => fromDoc<Offer>(await offers.findOne({ _id: id }, { session }));

  return {
    create: async (offer, entries, attachments = []) => {
      const pendingKey = offer.pendingKey === undefined ? undefined : str(offer.pendingKey, 'pendingKey');
      checkAttachments(offer.id, attachments);
      const existing = await docs.create(pendingKey, async (session) => {
        await offers.insertOne(offerDoc(offer), { session });
        for (const a of attachments) await relationships.insert(session, a);
        await insertOutbox(session, entries);
      });
      return existing ? { created: false, offer: existing } : { created: true, offer };
    },

    get: async (id) => getOffer(str(id, 'offer id')),

    update: async (next, expectedVersion, entries) => {
      str(next.id, 'offer id');
      int(expectedVersion, 'expectedVersion');
      return docs.update(next, expectedVersion, (session) => insertOutbox(session, entries));
    },

    decide: async (next, expectedVersion, response, entries, fulfilment) => {
      const offerId = str(next.id, 'offer id');
      int(expectedVersion, 'expectedVersion');
      const subjectId = str(response.subjectId, 'subjectId');
      str(response.slot, 'slot');
      str(response.customerTenantId, 'customerTenantId');
      return responses.deciding<DecideResult>(`record the decision on ${offerId}`, response, {
        already: async (stored, session) => ({
          status: 'already',
          // As in the SQLite adapter: the subject of an offer response is the offer.
          offer: (await getOffer(subjectId, session)) as Offer,
          response: stored,
        }),
        decide: async (session) => {
          const current = await offers.findOne({ _id: offerId }, { session });
          if (!current || current.version !== expectedVersion) return { status: 'conflict', offer: fromDoc<Offer>(current) };
          if (!(await docs.replace(next, expectedVersion, current, session))) {
            return { status: 'conflict', offer: await getOffer(offerId, session) };
          }
          const record = await responses.append(session, response);
          await insertOutbox(session, entries);
          if (fulfilment) await fulfilments(session, fulfilment);
          return { status: 'recorded', offer: next, response: record };
        },
      });
    },

    listByPartner: async ({ partnerTenantId, approverEmail, limit }: OfferQuery) => {
      const filter: Record<string, string> = { partnerTenantId: str(partnerTenantId, 'partnerTenantId') };
      if (approverEmail) filter.approverEmail = str(approverEmail, 'approverEmail').toLowerCase();
      return limited(limit, (n) => offers.find(filter).sort(BY_PARTNER_SORT).limit(n).toArray()).then(fromDocs<Offer>);
    },

    customersOf: async (partnerTenantId) => {
      const rows = await offers
        .aggregate<{
          _id: string;
          customerTenantId: string | null;
          offers: number;
          pending: number;
          accepted: number;
          lastActivityAt: string;
        }>([
          { $match: { partnerTenantId: str(partnerTenantId, 'partnerTenantId') } },
          {
            $group: {
              _id: '$approverEmail',
              // $max skips missing and null values, like SQL max().
              customerTenantId: { $max: '$approver.tenantId' },
              offers: { $sum: 1 },
              pending: { $sum: { $cond: [{ $in: ['$state', [...PENDING_STATES]] }, 1, 0] } },
              accepted: { $sum: { $cond: [{ $eq: ['$state', 'accepted'] }, 1, 0] } },
              lastActivityAt: { $max: '$createdAt' },
            },
          },
          { $sort: { lastActivityAt: -1, _id: 1 } },
          { $limit: 200 },
        ])
        .toArray();
      return rows.map((r): CustomerSummary => ({
        approverEmail: r._id,
        customerTenantId: r.customerTenantId ?? undefined,
        offers: r.offers,
        pending: r.pending,
        accepted: r.accepted,
        lastActivityAt: r.lastActivityAt,
      }));
    },

    listAwaitingDelivery: async (email) =>
      fromDocs<Offer>(
        await offers
          .find({ approverEmail: str(email, 'email').toLowerCase(), state: 'awaitingDelivery' })
          .sort({ createdAt: 1, _ord: 1 })
          .toArray(),
      ),

    listPendingFor: async ({ tenantId, aadObjectId }) =>
      fromDocs<Offer>(
        await offers
          .find({ 'approver.tenantId': str(tenantId, 'tenant id'), 'approver.aadObjectId': str(aadObjectId, 'aadObjectId'), state: 'sent' })
          .sort({ createdAt: 1, _ord: 1 })
          .toArray(),
      ),

    listExpired: async (at, limit) => {
      const filter = { state: { $in: [...PENDING_STATES] }, expiresAt: { $lte: str(at, 'time') } };
      return limited(limit, (n) => offers.find(filter).sort({ expiresAt: 1, _ord: 1 }).limit(n).toArray()).then(fromDocs<Offer>);
    },

    setCard: async (offerId, card) => void (await offers.updateOne({ _id: str(offerId, 'offer id') }, { $set: { card: encode(card) } })),
    addCopy: async (offerId, card) =>
      // One atomic update (a pipeline): append, keep the newest few; the version stays.
      void (await offers.updateOne({ _id: str(offerId, 'offer id') }, [
        {
          $set: { copies: { $slice: [{ $concatArrays: [{ $ifNull: ['$copies', []] }, [{ $literal: encode(card) }]] }, -MAX_CARD_COPIES] } },
        },
      ])),
  };
}
