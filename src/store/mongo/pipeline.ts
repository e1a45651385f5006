import type { Collection, Document } from 'mongodb';
import {
  expiryBounds,
  FULL_ACCESS_TEXT,
  mergePipeline,
  monthlyValues,
  pipelineSummary,
  planMonthlyValue,
  planPipeline,
  POR_TEXT,
  VALUE_STATES,
  type PipelineStore,
  type SourceQuery,
} from '../../dashboard/store';
import type { Relationship } from '../../delegation/types';
import type { Offer } from '../../offers/types';
import { fromDocs, literalRegex, str, type CollectionSpec, type Doc, type Mongo } from './db';

/**
 * The pipeline page's order (newest first, then id descending) on offers and relationships: the page reads it from
 * the cursor on (hinted, like SQLite's INDEXED BY), so it stops after the page's rows however deep the page is. Kind,
 * state and customer follow in the key so those filters are checked on index keys before any document is fetched
 * (search words still need the documents).
 */
const PIPELINE_INDEX = {
  key: { partnerTenantId: 1, createdAt: -1, _id: -1, kind: 1, state: 1, approverEmail: 1 },
  name: 'partner_pipeline',
} as const;

// The summary's counts by state, and counts filtered by state and kind.
const STATE_KIND_INDEX = { key: { partnerTenantId: 1, state: 1, kind: 1 }, name: 'partner_state_kind' } as const;

/** The pipeline's indexes on the collections it reads; offers.ts and relationships.ts declare the rest of theirs. */
export const PIPELINE_COLLECTIONS: CollectionSpec[] = [
  // On offers, expiresAt follows: the pipeline value (`monthlyValue`) reads only offers expiring since its first month,
  // not every accepted offer the partner ever had (issue 18; SQLite's offers_partner_state the same). The name stays
  // partner_state_kind, so a deployed database's old definition is dropped and rebuilt rather than kept beside it.
  {
    name: 'offers',
    indexes: [{ ...PIPELINE_INDEX }, { key: { partnerTenantId: 1, state: 1, kind: 1, expiresAt: 1 }, name: 'partner_state_kind' }],
  },
  {
    name: 'relationships',
    indexes: [
      { ...PIPELINE_INDEX },
      { ...STATE_KIND_INDEX },
      // The summary's expiring delegations: active delegations only, by end.
      {
        key: { partnerTenantId: 1, endsAt: 1 },
        name: 'partner_expiring',
        partialFilterExpression: { kind: 'delegation', state: 'active' },
      },
    ],
  },
];

/**
 * One source's filter: equality and `$in` on checked strings (`planPipeline`), and per search word an `$or` of
 * case-insensitive regular expressions on the fields it may occur in, the word escaped so it matches literally.
 */
function pipelineFilter(partnerTenantId: string, s: SourceQuery<string>, fieldsFor: (word: string) => Document[]): Document {
  const filter: Document = { partnerTenantId };
  if (s.kinds) filter.kind = { $in: s.kinds };
  if (s.states) filter.state = { $in: s.states };
  if (s.customer !== undefined) filter.approverEmail = s.customer;
  if (s.words.length) filter.$and = s.words.map((w) => ({ $or: fieldsFor(w) }));
  return filter;
}

/** One source's first `fetch` rows after the cursor, newest first, and how many rows the filter matches in all. */
async function pipelineSource(
  collection: Collection<Doc>,
  partnerTenantId: string,
  s: SourceQuery<string>,
  fieldsFor: (word: string) => Document[],
) {
  if (s.skip) return { docs: [] as Doc[], total: 0 };
  const filter = pipelineFilter(partnerTenantId, s, fieldsFor);
  // Strictly after the cursor: createdAt <= its time (the index range), except rows at that time with an id >= its id.
  const page = s.after
    ? { ...filter, createdAt: { $lte: s.after.createdAt }, $nor: [{ createdAt: s.after.createdAt, _id: { $gte: s.after.id } }] }
    : filter;
  const [docs, total] = await Promise.all([
    collection.find(page).sort({ createdAt: -1, _id: -1 }).hint(PIPELINE_INDEX.name).limit(s.fetch).toArray(),
    collection.countDocuments(filter),
  ]);
  return { docs, total };
}

const offerFields = (word: string): Document[] => {
  const re = literalRegex(word);
  return [{ _id: re }, { approverEmail: re }, { 'approver.tenantId': re }, { 'issuedBy.name': re }, { 'lines.serviceName': re }];
};

/** As SQLite's search text: role names of a delegation with roles, the table's labels for full access and por. */
const relationshipFields = (word: string): Document[] => {
  const re = literalRegex(word);
  return [
    { _id: re },
    { approverEmail: re },
    { customerTenantId: re },
    { 'issuedBy.name': re },
    { kind: 'delegation', 'access.kind': 'roles', 'access.roles': re },
    // A word of a fixed label either occurs in it or not: that is known before asking.
    ...(FULL_ACCESS_TEXT.includes(word) ? [{ kind: 'delegation', 'access.kind': 'full' }] : []),
    ...(POR_TEXT.includes(word) ? [{ kind: 'por' }] : []),
  ];
};

// Not one snapshot (SQLite's page is): the page and the counts are separate reads, so a write between them can
// make the total differ from the rows by that write.
export function mongoPipeline({ db }: Mongo): PipelineStore {
  const offers = db.collection<Doc>('offers');
  const relationships = db.collection<Doc>('relationships');
  return {
    monthlyValue: async (partnerTenantId, currency, since) => {
      const q = planMonthlyValue(partnerTenantId, currency, since);
      const isAccepted = { $eq: ['$state', VALUE_STATES.accepted] };
      const rows = await offers
        .aggregate<{ _id: { month: string; accepted: boolean }; cents: number }>([
          // Off partner_state_kind (with expiresAt), as SQLite's off offers_partner_state.
          {
            $match: {
              partnerTenantId: q.partner,
              state: { $in: [VALUE_STATES.accepted, ...VALUE_STATES.pending] },
              kind: 'purchase',
              // Answered by its expiry at the latest: one that expired before the first month counts in none.
              expiresAt: { $gte: q.since },
              currency: q.currency,
            },
          },
          {
            $project: {
              accepted: isAccepted,
              month: { $substrBytes: [{ $cond: [isAccepted, { $ifNull: ['$decidedAt', '$createdAt'] }, '$createdAt'] }, 0, 7] },
              lines: 1,
            },
          },
          { $match: { month: { $gte: q.since } } },
          { $unwind: '$lines' },
          {
            $group: {
              _id: { month: '$month', accepted: '$accepted' },
              cents: { $sum: { $multiply: [{ $ifNull: ['$lines.quantity', 0] }, { $ifNull: ['$lines.unitPriceCents', 0] }] } },
            },
          },
        ])
        .toArray();
      return monthlyValues(rows.map((r) => ({ month: r._id.month, accepted: r._id.accepted, cents: r.cents })));
    },
    page: async (query) => {
      const plan = planPipeline(query);
      const [o, r] = await Promise.all([
        pipelineSource(offers, plan.partnerTenantId, plan.offers, offerFields),
        pipelineSource(relationships, plan.partnerTenantId, plan.relationships, relationshipFields),
      ]);
      return { ...mergePipeline(fromDocs<Offer>(o.docs), fromDocs<Relationship>(r.docs), plan.limit), total: o.total + r.total };
    },
    summary: async (partnerTenantId, at) => {
      const partner = str(partnerTenantId, 'partnerTenantId');
      const bounds = expiryBounds(at);
      const byState = async (collection: Collection<Doc>) =>
        (
          await collection
            .aggregate<{ _id: unknown; n: number }>([
              { $match: { partnerTenantId: partner } },
              { $group: { _id: '$state', n: { $sum: 1 } } },
            ])
            .toArray()
        ).map((g) => ({ state: typeof g._id === 'string' ? g._id : '', n: g.n }));
      const soon = (until: string) => ({ $sum: { $cond: [{ $lte: ['$endsAt', until] }, 1, 0] } });
      const [o, r, expiring] = await Promise.all([
        byState(offers),
        byState(relationships),
        relationships
          .aggregate<{ within1: number; within7: number; within30: number }>([
            {
              $match: {
                partnerTenantId: partner,
                kind: 'delegation',
                state: 'active',
                endsAt: { $gt: bounds.now, $lte: bounds.within30 },
              },
            },
            { $group: { _id: null, within1: soon(bounds.within1), within7: soon(bounds.within7), within30: { $sum: 1 } } },
          ])
          .toArray(),
      ]);
      const e = expiring[0];
      return pipelineSummary(o, r, { within1: e?.within1 ?? 0, within7: e?.within7 ?? 0, within30: e?.within30 ?? 0 });
    },
  };
}
