import {
  checkListingQuery,
  checkListingSave,
  leadKey,
  LISTING_WEIGHTS,
  searchTerms,
  type LeadsStore,
  type ListingsStore,
} from '../../marketplace/store';
import type { Lead, Listing, ListingQuery } from '../../marketplace/types';
import type { NewOutboxEntry } from '../../notifications/types';
import { parse, parseAll, type Db, type Row } from './db';
import type { OutboxInsert } from './outbox';

type ScoredRow = Row & { score: number };
type ListingFilter = { country: string | null; language: string | null; limit: number; offset: number };

/** An FTS5 MATCH expression: every term quoted and prefix-matched (`"secur"*`), OR-ed, so more matches rank higher. */
export function fts5Match(terms: readonly string[]): string {
  return terms.map((t) => `"${t}"*`).join(' OR ');
}

/** bm25() with the listings' column weights, in `listings_fts` column order (migration 6). */
const BM25 = `bm25(listings_fts, ${[
  LISTING_WEIGHTS.headline,
  LISTING_WEIGHTS.services,
  LISTING_WEIGHTS.expertise,
  LISTING_WEIGHTS.description,
]
  .map((w) => w.toFixed(1))
  .join(', ')})`;

/** The country and language filters, evaluated by SQLite on each candidate row's small JSON-array columns. */
const LISTING_FILTERS = `(@country IS NULL OR EXISTS (SELECT 1 FROM json_each(l.countries) WHERE json_each.value = @country))
  AND (@language IS NULL OR EXISTS (SELECT 1 FROM json_each(l.languages) WHERE json_each.value = @language))`;

/** The marketplace's reads, named here so the query-plan tests check the very statements the adapter runs. */
export const MARKETPLACE_SQL = {
  // The FTS5 index drives (CROSS JOIN keeps it the outer loop): only published listings are in it, each joined to its
  // row by rowid. bm25() is negative, lower is better; its negation is the score, higher is better. The hits are
  // ranked on small columns, and only the page's documents are read.
  search: `WITH hits AS (
      SELECT l.seq AS seq, -${BM25} AS score, l.updated_at AS updated_at, l.id AS id
      FROM listings_fts CROSS JOIN listings l ON l.seq = listings_fts.rowid
      WHERE listings_fts MATCH @match AND l.published = 1 AND ${LISTING_FILTERS}
      ORDER BY score DESC, updated_at DESC, id
      LIMIT @limit OFFSET @offset
    )
    SELECT l.doc AS doc, hits.score AS score FROM hits CROSS JOIN listings l ON l.seq = hits.seq
    ORDER BY hits.score DESC, hits.updated_at DESC, hits.id`,
  // Read in order off the partial index listings_published_updated: no sort.
  recent: `SELECT l.doc AS doc, 0 AS score FROM listings l
    WHERE l.published = 1 AND ${LISTING_FILTERS}
    ORDER BY l.updated_at DESC, l.id
    LIMIT @limit OFFSET @offset`,
  // Read backwards off leads_requester_partner, whose last key is the rowid: the newest such lead, no sort.
  leadLatest: `SELECT doc FROM leads
    WHERE requester_tenant_id = @tenantId AND requester_aad_object_id = @aadObjectId AND partner_tenant_id = @partnerTenantId
      AND created_at >= @since
    ORDER BY created_at DESC, rowid DESC LIMIT 1`,
} as const;

export function sqliteListings(db: Db): ListingsStore {
  // Listings (migration 6). The triggers on `listings` keep `listings_fts` in step inside each statement, so every
  // save below updates the full-text index in its own transaction. DO NOTHING covers only uniqueness (the id, the
  // partner): a second listing for a partner is refused, and a NOT NULL or CHECK failure still throws.
  const q = {
    listingInsert: db.prepare(`INSERT INTO listings (id, partner_tenant_id, version, published, updated_at, countries, languages, doc)
      VALUES (@id, @partnerTenantId, @version, @published, @updatedAt, @countries, @languages, @doc) ON CONFLICT DO NOTHING`),
    listingUpdate: db.prepare(`UPDATE listings SET version = @version, published = @published, updated_at = @updatedAt,
        countries = @countries, languages = @languages, doc = @doc
      WHERE id = @id AND partner_tenant_id = @partnerTenantId AND version = @expectedVersion`),
    listingByPartner: db.prepare<[string], Row>('SELECT doc FROM listings WHERE partner_tenant_id = ?'),
    listingById: db.prepare<[string], Row>('SELECT doc FROM listings WHERE id = ?'),
    listingSearch: db.prepare<ListingFilter & { match: string }, ScoredRow>(MARKETPLACE_SQL.search),
    listingRecent: db.prepare<ListingFilter, ScoredRow>(MARKETPLACE_SQL.recent),
  };

  const searchListings = (query: ListingQuery) => {
    checkListingQuery(query);
    const filter: ListingFilter = {
      country: query.country ?? null,
      language: query.language ?? null,
      limit: query.limit,
      offset: query.offset,
    };
    if (filter.limit === 0) return [];
    const terms = searchTerms(query.words);
    const rows = terms.length ? q.listingSearch.all({ ...filter, match: fts5Match(terms) }) : q.listingRecent.all(filter);
    return rows.map((r) => ({ listing: JSON.parse(r.doc) as Listing, score: r.score }));
  };

  return {
    get: async (partnerTenantId) => parse<Listing>(q.listingByPartner.get(partnerTenantId)),
    getById: async (id) => parse<Listing>(q.listingById.get(id)),
    save: async (listing, expectedVersion) => {
      checkListingSave(listing, expectedVersion);
      const params = listingParams(listing);
      // One statement each, with the index triggers inside it: atomic, and a single write needs no wider lock.
      return (expectedVersion === 0 ? q.listingInsert.run(params) : q.listingUpdate.run({ ...params, expectedVersion })).changes === 1;
    },
    search: async (query) => searchListings(query),
  };
}

function listingParams(l: Listing) {
  return {
    id: l.id,
    partnerTenantId: l.partnerTenantId,
    version: l.version,
    published: l.published ? 1 : 0,
    updatedAt: l.updatedAt,
    countries: JSON.stringify(l.countries ?? []),
    languages: JSON.stringify(l.languages ?? []),
    doc: JSON.stringify(l),
  };
}

/** A new lead's outbox entries go in with `insertOutbox`, in the lead's transaction. */
export function sqliteLeads(db: Db, insertOutbox: OutboxInsert): LeadsStore {
  const q = {
    leadInsert: db.prepare(`INSERT INTO leads (id, partner_tenant_id, requester_tenant_id, requester_aad_object_id, created_at, doc)
      VALUES (@id, @partnerTenantId, @tenantId, @aadObjectId, @createdAt, @doc)`),
    leadGet: db.prepare<[string], Row>('SELECT doc FROM leads WHERE id = ?'),
    leadLatest: db.prepare<{ tenantId: string; aadObjectId: string; partnerTenantId: string; since: string }, Row>(
      MARKETPLACE_SQL.leadLatest,
    ),
    // First one wins: the condition is the guard, in one statement.
    leadSetStage: db.prepare<{ id: string; stage: string }>(`UPDATE leads SET doc = json_set(doc, '$.stage', json(@stage)) WHERE id = @id`),
    leadsByPartner: db.prepare<[string, number], Row>(
      'SELECT doc FROM leads WHERE partner_tenant_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
    ),
    leadSetTrial: db.prepare<{ id: string; offerId: string }>(
      `UPDATE leads SET doc = json_set(doc, '$.trialOfferId', @offerId) WHERE id = @id AND json_type(doc, '$.trialOfferId') IS NULL`,
    ),
  };

  /**
   * Under BEGIN IMMEDIATE (the write lock taken before the read) two creates for one (requester, partner) cannot both
   * read "none": the second waits for the first to commit, then reads its lead and writes nothing.
   */
  const leadCreateTx = db.transaction((lead: Lead, outbox: NewOutboxEntry[], since: string) => {
    const key = leadKey(lead);
    const existing = parse<Lead>(q.leadLatest.get({ ...key, since }));
    if (existing) return { created: false as const, lead: existing };
    q.leadInsert.run({ id: lead.id, ...key, createdAt: lead.createdAt, doc: JSON.stringify(lead) });
    insertOutbox(outbox);
    return { created: true as const, lead };
  });

  return {
    create: async (lead, outbox, since) => leadCreateTx.immediate(lead, outbox, since),
    get: async (id) => parse<Lead>(q.leadGet.get(id)),
    setTrial: async (id, offerId) => q.leadSetTrial.run({ id, offerId }).changes === 1,
    setStage: async (id, stage) => {
      if (q.leadSetStage.run({ id, stage: JSON.stringify(stage) }).changes !== 1) return null;
      return parse<Lead>(q.leadGet.get(id));
    },
    listByPartner: async (partnerTenantId, limit) => parseAll<Lead>(q.leadsByPartner.all(partnerTenantId, limit)),
  };
}
