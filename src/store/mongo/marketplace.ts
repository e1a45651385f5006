import { ObjectId, type Db, type Filter, type IndexDescription } from 'mongodb';
import {
  checkListingQuery,
  checkListingSave,
  leadKey,
  LISTING_WEIGHTS,
  searchTerms,
  termText,
  type LeadsStore,
  type ListingsStore,
} from '../../marketplace/store';
import type { Lead, Listing } from '../../marketplace/types';
import {
  encode,
  fromDoc,
  fromDocs,
  isDuplicateKey,
  limited,
  RaceLost,
  retrying,
  str,
  strings,
  type CollectionSpec,
  type Doc,
  type Mongo,
} from './db';
import type { OutboxInsert } from './outbox';

/** Which version of `termText` a listing's `_ft` was made with; a change of the rule bumps it, and the backfill redoes them. */
const FT_VERSION = 1;

/**
 * `_ft`: the listing's text fields as `termText` makes them, for the text index. $text splits only on the delimiters
 * of Unicode's Dash, Hyphen, Pattern_Syntax, Quotation_Mark, Terminal_Punctuation and White_Space properties, so on
 * the fields themselves it keeps `plus_pro` or `defender™` one word, which a search for `plus` or `defender` (query
 * terms are letters and digits only) never matches; in `_ft` they are `plus pro` and `defender`, split where SQLite's
 * unicode61 tokenizer splits them. Arrays stay arrays (one string per element), as the text index scored them before.
 */
function fullText(l: Listing) {
  const each = (v: unknown) => (Array.isArray(v) ? v.map(termText) : []);
  return {
    v: FT_VERSION,
    headline: termText(l.headline),
    serviceNames: each(l.serviceNames),
    services: each(l.services),
    expertise: each(l.expertise),
    description: termText(l.description),
  };
}

/**
 * The listings' text index, on `_ft`: `published` first (a $text query must give it by equality, and every search asks
 * for published listings), then the text fields with the same weights as SQLite's bm25(). No language: no stemming and
 * no stop words, as SQLite's unicode61 tokenizer (so both adapters match the same words); `language_override` names a
 * field no listing has, so a future `language` field could never change or break indexing. $text matches whole words
 * only: unlike SQLite's `"word"*`, no prefix matching ("secur" does not find "security").
 */
const LISTING_TEXT_INDEX: IndexDescription = {
  key: {
    published: 1,
    '_ft.headline': 'text',
    '_ft.serviceNames': 'text',
    '_ft.services': 'text',
    '_ft.expertise': 'text',
    '_ft.description': 'text',
  },
  name: 'published_text',
  weights: {
    '_ft.headline': LISTING_WEIGHTS.headline,
    '_ft.serviceNames': LISTING_WEIGHTS.services,
    '_ft.services': LISTING_WEIGHTS.services,
    '_ft.expertise': LISTING_WEIGHTS.expertise,
    '_ft.description': LISTING_WEIGHTS.description,
  },
  default_language: 'none',
  language_override: '_ftsLanguage',
};

/** The listing as stored: typed values checked, since `published`, the arrays and the ids go into filters and indexes. */
function listingDoc(l: Listing): Doc {
  const doc: Doc = { _id: str(l.id, 'listing id'), ...encode(l) };
  str(l.partnerTenantId, 'partnerTenantId');
  str(l.updatedAt, 'updatedAt');
  for (const f of ['services', 'serviceNames', 'expertise', 'countries', 'languages'] as const) strings(l[f], f);
  doc._ft = fullText(l);
  return doc;
}

/** Listings saved before `_ft` (or with an older `termText`) get it at the next start: one scan, none when all have it. */
async function backfillFullText(db: Db): Promise<void> {
  const listings = db.collection<Doc>('listings');
  for await (const doc of listings.find({ '_ft.v': { $ne: FT_VERSION } })) {
    // On the version read: a save in between wrote its own `_ft`.
    await listings.updateOne({ _id: doc._id, version: doc.version }, { $set: { _ft: fullText(fromDoc<Listing>(doc)!) } });
  }
}

export const MARKETPLACE_COLLECTIONS: CollectionSpec[] = [
  {
    name: 'listings',
    indexes: [
      // One listing per partner (the `_id` is the listing id).
      { key: { partnerTenantId: 1 }, name: 'partner_unique', unique: true },
      LISTING_TEXT_INDEX,
      // Searches without words, most recently updated first, with or without a filter (arrays: multikey, one per index).
      { key: { published: 1, updatedAt: -1, _id: 1 }, name: 'published_updated' },
      { key: { published: 1, countries: 1, updatedAt: -1, _id: 1 }, name: 'published_country_updated' },
      { key: { published: 1, languages: 1, updatedAt: -1, _id: 1 }, name: 'published_language_updated' },
    ],
    backfill: backfillFullText,
  },
  // The newest lead of a requester to a partner (`_ord`, insertion order, breaks ties), read off the index.
  {
    name: 'leads',
    indexes: [
      {
        key: { 'requester.tenantId': 1, 'requester.aadObjectId': 1, partnerTenantId: 1, createdAt: -1, _ord: -1 },
        name: 'requester_partner_created',
      },
      // A partner's leads, newest first (`status`).
      { key: { partnerTenantId: 1, createdAt: -1, _ord: -1 }, name: 'partner_created' },
    ],
  },
  // One document per (requester, partner) that asked: the point where concurrent lead creates serialise (leads.create).
  { name: 'leadSlots' },
];

export function mongoListings({ db }: Mongo): ListingsStore {
  const listings = db.collection<Doc>('listings');
  return {
    get: async (partnerTenantId) => fromDoc<Listing>(await listings.findOne({ partnerTenantId: str(partnerTenantId, 'partnerTenantId') })),
    getById: async (id) => fromDoc<Listing>(await listings.findOne({ _id: str(id, 'listing id') })),
    // One document each: the write and its text index entries are atomic, so no transaction is needed.
    save: async (listing, expectedVersion) => {
      checkListingSave(listing, expectedVersion);
      const doc = listingDoc(listing);
      if (expectedVersion === 0) {
        try {
          await listings.insertOne(doc);
          return true;
        } catch (err) {
          if (isDuplicateKey(err)) return false; // the id, or the partner's listing, exists already
          throw err;
        }
      }
      const r = await listings.replaceOne({ _id: doc._id, partnerTenantId: doc.partnerTenantId, version: expectedVersion }, doc);
      return r.matchedCount === 1;
    },
    search: async (query) => {
      checkListingQuery(query);
      if (query.limit === 0) return [];
      // Array equality on the stored arrays (multikey): the server filters, nothing is scanned here.
      const filter: Filter<Doc> = { published: true };
      if (query.country != null) filter.countries = str(query.country, 'country');
      if (query.language != null) filter.languages = str(query.language, 'language');
      const terms = searchTerms(strings(query.words, 'words'));
      if (!terms.length) {
        const docs = await listings.find(filter).sort({ updatedAt: -1, _id: 1 }).skip(query.offset).limit(query.limit).toArray();
        return docs.map((d) => ({ listing: fromDoc<Listing>(d)!, score: 0 }));
      }
      // Terms separated by spaces are OR-ed by $text, and the text score adds up every term's weighted hits; the
      // terms are letters and digits only, so no quote or `-` in the input can make a phrase or a negation.
      const docs = await listings
        .aggregate<Doc & { _score: number }>([
          { $match: { $text: { $search: terms.join(' ') }, ...filter } },
          { $addFields: { _score: { $meta: 'textScore' } } },
          { $sort: { _score: -1, updatedAt: -1, _id: 1 } },
          ...(query.offset ? [{ $skip: query.offset }] : []),
          { $limit: query.limit },
        ])
        .toArray();
      return docs.map((d) => ({ listing: fromDoc<Listing>(d)!, score: d._score }));
    },
  };
}

/** Thrown inside a lead create's transaction to abort it (nothing written, the slot included) and hand back this lead. */
class LeadExists extends Error {
  constructor(readonly lead: Lead) {
    super(`lead ${lead.id} was recorded for this requester and partner within the window`);
  }
}

export function mongoLeads(m: Mongo, insertOutbox: OutboxInsert): LeadsStore {
  const leads = m.db.collection<Doc>('leads');
  const leadSlots = m.db.collection<Doc>('leadSlots');
  return {
    /**
     * Snapshot isolation alone would let two concurrent creates both read "no lead" and both insert. So the first
     * thing each transaction does is write the (requester, partner) slot document: of two transactions that overlap,
     * the second to write it meets a write conflict (the first's write is uncommitted, or committed after the
     * second's snapshot), and the driver re-runs it with a new snapshot, which then reads the first's lead. A lead
     * that is found aborts the transaction (LeadExists), so a duplicate writes nothing, the slot included. Two
     * first-ever upserts of one slot can also end in a duplicate key on `_id`; that attempt is re-run (`retrying`).
     */
    create: async (lead, entries, since) => {
      const id = str(lead.id, 'lead id');
      const key = leadKey(lead);
      const from = str(since, 'since');
      str(lead.createdAt, 'createdAt');
      const slot = JSON.stringify([key.tenantId, key.aadObjectId, key.partnerTenantId]);
      const filter = {
        'requester.tenantId': key.tenantId,
        'requester.aadObjectId': key.aadObjectId,
        partnerTenantId: key.partnerTenantId,
        createdAt: { $gte: from },
      };
      const attempt = () =>
        m.transaction(async (session) => {
          try {
            await leadSlots.updateOne(
              { _id: slot },
              { $set: { leadId: id, createdAt: lead.createdAt }, $inc: { leads: 1 } },
              { upsert: true, session },
            );
          } catch (err) {
            if (isDuplicateKey(err)) throw new RaceLost(`the lead slot ${slot} was created by a concurrent create`, { cause: err });
            throw err;
          }
          const existing = await leads.findOne(filter, { sort: { createdAt: -1, _ord: -1 }, session });
          if (existing) throw new LeadExists(fromDoc<Lead>(existing)!);
          await leads.insertOne({ _id: id, ...encode(lead), _ord: new ObjectId() }, { session });
          await insertOutbox(session, entries);
          return { created: true as const, lead };
        });
      try {
        return await retrying(`record lead ${id}`, attempt);
      } catch (err) {
        // The transaction is aborted by now: nothing of this attempt was written.
        if (err instanceof LeadExists) return { created: false, lead: err.lead };
        throw err;
      }
    },
    get: async (id) => fromDoc<Lead>(await leads.findOne({ _id: str(id, 'lead id') })),
    // First one wins: the missing field is the guard, in one atomic update.
    setTrial: async (id, offerId) =>
      (
        await leads.updateOne(
          { _id: str(id, 'lead id'), trialOfferId: { $exists: false } },
          { $set: { trialOfferId: str(offerId, 'offer id') } },
        )
      ).matchedCount === 1,
    setStage: async (id, stage) =>
      fromDoc<Lead>(
        await leads.findOneAndUpdate({ _id: str(id, 'lead id') }, { $set: { stage: encode(stage) } }, { returnDocument: 'after' }),
      ),
    listByPartner: async (partnerTenantId, limit) =>
      limited(limit, (n) =>
        leads
          .find({ partnerTenantId: str(partnerTenantId, 'partnerTenantId') })
          .sort({ createdAt: -1, _ord: -1 })
          .limit(n)
          .toArray(),
      ).then(fromDocs<Lead>),
  };
}
