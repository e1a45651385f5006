import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { newId } from '../../ids';
import type { ConversationRecord, NotificationChannel } from '../../directory/types';
import type { Partner } from '../../directory/partners';
import type { Offer } from '../../offers/types';
import type { NewResponse, ResponseRecord } from '../../responses/types';
import type { NewOutboxEntry, OutboxEntry } from '../../notifications/types';
import type { Relationship } from '../../delegation/types';
import type { Lead, Listing, ListingQuery } from '../../marketplace/types';
import type { PipelinePage, PipelineQuery, PipelineSummary } from '../../dashboard/types';
import { chainResponse } from '../chain';
import { checkListingQuery, checkListingSave, leadKey, LISTING_WEIGHTS, searchTerms } from '../../marketplace/store';
import { outboxRow } from '../../notifications/store';
import { ActiveRelationshipExists, activeRefuses, checkAttachments, checkReplaces, type RelationshipDecideResult, type RelationshipDecision } from '../../delegation/store';
import type { CustomerSummary, DecideResult, OfferQuery } from '../../offers/store';
import type { Store } from '../types';
import {
  expiryBounds,
  mergePipeline,
  offerSearchText,
  pipelineSummary,
  planPipeline,
  relationshipSearchText,
  type SourceQuery,
} from '../../dashboard/store';
import { BACKFILLS, MIGRATIONS } from './migrations';

type Row = { doc: string };
type ScoredRow = Row & { score: number };
type ListingFilter = { country: string | null; language: string | null; limit: number; offset: number };

/** An FTS5 MATCH expression: every term quoted and prefix-matched (`"secur"*`), OR-ed, so more matches rank higher. */
export function fts5Match(terms: readonly string[]): string {
  return terms.map((t) => `"${t}"*`).join(' OR ');
}

/** bm25() with the listings' column weights, in `listings_fts` column order (migration 6). */
const BM25 = `bm25(listings_fts, ${[LISTING_WEIGHTS.headline, LISTING_WEIGHTS.services, LISTING_WEIGHTS.expertise, LISTING_WEIGHTS.description]
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

export type PipelineTable = 'offers' | 'relationships';
/** Which of a pipeline query's optional conditions a statement has (their values are bound, never part of the SQL). */
export interface PipelineFilters {
  kinds?: boolean;
  states?: boolean;
  customer?: boolean;
  words?: boolean;
  after?: boolean;
}

/** The conditions of one source's pipeline query; kinds, states and words are bound as JSON arrays. */
function pipelineWhere(f: PipelineFilters, page: boolean): string {
  const where = ['t.partner_tenant_id = @partner'];
  if (f.kinds) where.push('t.kind IN (SELECT value FROM json_each(@kinds))');
  if (f.states) where.push('t.state IN (SELECT value FROM json_each(@states))');
  if (f.customer) where.push('t.approver_email = @customer');
  // Every word occurs in the search text: no word is missing from it. instr() is a plain substring test (no LIKE
  // wildcards); both sides are lower-cased in JavaScript. A row without search text matches no word.
  if (f.words) where.push('NOT EXISTS (SELECT 1 FROM json_each(@words) AS w WHERE coalesce(instr(t.search_text, w.value), 0) = 0)');
  if (page && f.after) where.push('(t.created_at, t.id) < (@afterAt, @afterId)');
  return where.join(' AND ');
}

/** The pipeline's reads (migration 7), named here so the query-plan tests check the very statements the adapter runs. */
export const PIPELINE_SQL = {
  // Walks `<table>_pipeline` backwards from the cursor (a range on the index, so a deep page costs what the first
  // does): the order is the index's, so no sort, and it stops after @fetch matches. Every filter (kind, state,
  // customer, search text) is tested on the index entries; only the matches' documents are read.
  page: (table: PipelineTable, f: PipelineFilters) =>
    `SELECT t.doc AS doc FROM ${table} AS t INDEXED BY ${table}_pipeline WHERE ${pipelineWhere(f, true)}
     ORDER BY t.created_at DESC, t.id DESC LIMIT @fetch`,
  // Every row the filters match, the cursor aside, from an index alone; SQLite picks which (by state and kind, by
  // customer, the pipeline index for a search).
  count: (table: PipelineTable, f: PipelineFilters) => `SELECT count(*) AS n FROM ${table} AS t WHERE ${pipelineWhere(f, false)}`,
  // From `<table>_partner_state` alone, in its order.
  byState: (table: PipelineTable) => `SELECT state, count(*) AS n FROM ${table} WHERE partner_tenant_id = @partner GROUP BY state`,
  // Active delegations ending after now and within 30 days, off the partial index relationships_expiring alone.
  expiring: `SELECT count(*) AS within30, coalesce(sum(ends_at <= @within7), 0) AS within7, coalesce(sum(ends_at <= @within1), 0) AS within1
    FROM relationships
    WHERE partner_tenant_id = @partner AND kind = 'delegation' AND state = 'active' AND ends_at > @now AND ends_at <= @within30`,
} as const;

/**
 * The embedded store: one SQLite file in WAL mode. Every multi-step write runs in `BEGIN IMMEDIATE`, which takes
 * the write lock up front, so two processes (or threads) on one file serialize instead of interleaving.
 */
export function openSqliteStore(file: string, now: () => Date = () => new Date()): Store {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // better-sqlite3 builds with a 16 MB page cache per connection; 4 MB holds the hot indexes of this schema.
  db.pragma('cache_size = -4000');
  migrate(db);
  const checkpointer = file === ':memory:' ? undefined : startCheckpointer(db, file);

  // Parameters are positional `?` (each bound once, in order) or named `@name`: better-sqlite3 refuses numbered ones
  // (`?1` fails with "Too many parameter values were provided"), so a value used twice is named.
  const q = {
    partnerUpsert: db.prepare('INSERT INTO partners (tenant_id, doc) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET doc = excluded.doc'),
    partnerGet: db.prepare<[string], Row>('SELECT doc FROM partners WHERE tenant_id = ?'),
    // A table of its own (migration 5), so the partners file upserted at every start never touches it.
    channelSet: db.prepare<{ tenantId: string; doc: string }>(
      'INSERT INTO partner_channels (tenant_id, doc) VALUES (@tenantId, @doc) ON CONFLICT (tenant_id) DO UPDATE SET doc = excluded.doc',
    ),
    channelClear: db.prepare<[string]>('DELETE FROM partner_channels WHERE tenant_id = ?'),
    channelGet: db.prepare<[string], Row>('SELECT doc FROM partner_channels WHERE tenant_id = ?'),

    convUpsert: db.prepare(`INSERT INTO conversations (id, tenant_id, kind, aad_object_id, email, upn, active, updated_at, doc)
      VALUES (@id, @tenantId, @kind, @aad, @email, @upn, @active, @updatedAt, @doc)
      ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, kind = excluded.kind, aad_object_id = excluded.aad_object_id,
        email = excluded.email, upn = excluded.upn, active = excluded.active, updated_at = excluded.updated_at, doc = excluded.doc`),
    convGet: db.prepare<[string], Row>('SELECT doc FROM conversations WHERE id = ?'),
    convPersonal: db.prepare<[string, string], Row>(
      `SELECT doc FROM conversations WHERE kind = 'personal' AND tenant_id = ? AND aad_object_id = ? AND active = 1
       ORDER BY updated_at DESC LIMIT 1`,
    ),
    convByEmail: db.prepare<[string, string], Row>(
      `SELECT doc FROM conversations WHERE kind = 'personal' AND (email = ? OR upn = ?) AND active = 1
       ORDER BY updated_at DESC LIMIT 1`,
    ),
    convDeactivate: db.prepare<{ id: string; at: string; reason: string }>(
      `UPDATE conversations SET active = 0, updated_at = @at,
         doc = json_set(doc, '$.active', json('false'), '$.inactiveReason', @reason, '$.updatedAt', @at) WHERE id = @id`,
    ),

    offerInsert: db.prepare(`INSERT INTO offers (id, partner_tenant_id, approver_email, approver_tenant_id, approver_aad_object_id,
        state, version, created_at, expires_at, pending_key, kind, search_text, doc)
      VALUES (@id, @partnerTenantId, @approverEmail, @approverTenantId, @approverAad, @state, @version, @createdAt, @expiresAt, @pendingKey,
        @kind, @searchText, @doc)`),
    offerUpdate: db.prepare(`UPDATE offers SET approver_tenant_id = @approverTenantId, approver_aad_object_id = @approverAad,
        state = @state, version = @version, expires_at = @expiresAt, pending_key = @pendingKey, kind = @kind, search_text = @searchText,
        doc = @doc
      WHERE id = @id AND version = @expectedVersion`),
    offerGet: db.prepare<[string], Row>('SELECT doc FROM offers WHERE id = ?'),
    offerByPendingKey: db.prepare<[string], Row>('SELECT doc FROM offers WHERE pending_key = ? AND pending_key IS NOT NULL'),
    // A decision changes only these columns; naming no others keeps SQLite from rewriting indexes on unchanged ones
    // (search_text is only in offers_pipeline, whose entry the change of state rewrites anyway).
    offerDecide: db.prepare(`UPDATE offers SET state = @state, version = @version, pending_key = @pendingKey, search_text = @searchText,
        doc = @doc
      WHERE id = @id AND version = @expectedVersion`),
    offersByPartner: db.prepare<[string, number], Row>(
      'SELECT doc FROM offers WHERE partner_tenant_id = ? ORDER BY created_at DESC, id LIMIT ?',
    ),
    offersByPartnerApprover: db.prepare<[string, string, number], Row>(
      'SELECT doc FROM offers WHERE partner_tenant_id = ? AND approver_email = ? ORDER BY created_at DESC, id LIMIT ?',
    ),
    customers: db.prepare<[string], { approverEmail: string; customerTenantId: string | null; offers: number; pending: number; accepted: number; lastActivityAt: string }>(
      `SELECT approver_email AS approverEmail, max(approver_tenant_id) AS customerTenantId, count(*) AS offers,
         sum(state IN ('awaitingDelivery', 'sent')) AS pending, sum(state = 'accepted') AS accepted,
         max(created_at) AS lastActivityAt
       FROM offers WHERE partner_tenant_id = ? GROUP BY approver_email ORDER BY lastActivityAt DESC LIMIT 200`,
    ),
    awaiting: db.prepare<[string], Row>(
      `SELECT doc FROM offers WHERE approver_email = ? AND state = 'awaitingDelivery' ORDER BY created_at`,
    ),
    pendingFor: db.prepare<[string, string], Row>(
      `SELECT doc FROM offers WHERE approver_tenant_id = ? AND approver_aad_object_id = ? AND state = 'sent' ORDER BY created_at`,
    ),
    expired: db.prepare<[string, number], Row>(
      `SELECT doc FROM offers WHERE state IN ('awaitingDelivery', 'sent') AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
    ),
    setCard: db.prepare<{ id: string; card: string }>(`UPDATE offers SET doc = json_set(doc, '$.card', json(@card)) WHERE id = @id`),

    relInsert: db.prepare(`INSERT INTO relationships (id, kind, state, version, partner_tenant_id, approver_email, approver_tenant_id,
        approver_aad_object_id, customer_tenant_id, offer_id, created_at, due_at, pending_key, ends_at, search_text, doc)
      VALUES (@id, @kind, @state, @version, @partnerTenantId, @approverEmail, @approverTenantId, @approverAad, @customerTenantId,
        @offerId, @createdAt, @dueAt, @pendingKey, @endsAt, @searchText, @doc)`),
    // Every column follows the document, so no column can disagree with it whatever a caller changes.
    relUpdate: db.prepare(`UPDATE relationships SET kind = @kind, state = @state, version = @version, partner_tenant_id = @partnerTenantId,
        approver_email = @approverEmail, approver_tenant_id = @approverTenantId, approver_aad_object_id = @approverAad,
        customer_tenant_id = @customerTenantId, offer_id = @offerId, created_at = @createdAt, due_at = @dueAt, pending_key = @pendingKey,
        ends_at = @endsAt, search_text = @searchText, doc = @doc
      WHERE id = @id AND version = @expectedVersion`),
    relGet: db.prepare<[string], Row & { version: number }>('SELECT version, doc FROM relationships WHERE id = ?'),
    relByPendingKey: db.prepare<[string], Row>('SELECT doc FROM relationships WHERE pending_key = ? AND pending_key IS NOT NULL'),
    relActive: db.prepare<[string, string], Row>(
      `SELECT doc FROM relationships WHERE customer_tenant_id = ? AND kind = ? AND state = 'active'`,
    ),
    relForOffer: db.prepare<[string], Row>('SELECT doc FROM relationships WHERE offer_id = ? AND offer_id IS NOT NULL ORDER BY rowid'),
    relByPartner: db.prepare<[string, number], Row>(
      'SELECT doc FROM relationships WHERE partner_tenant_id = ? ORDER BY created_at DESC, id LIMIT ?',
    ),
    relAwaiting: db.prepare<[string], Row>(
      `SELECT doc FROM relationships WHERE approver_email = ? AND state = 'awaitingDelivery' AND offer_id IS NULL
       ORDER BY created_at, rowid`,
    ),
    relPendingFor: db.prepare<[string, string], Row>(
      `SELECT doc FROM relationships WHERE approver_tenant_id = ? AND approver_aad_object_id = ? AND state = 'approvalPending'
         AND offer_id IS NULL
       ORDER BY created_at, rowid`,
    ),
    relDue: db.prepare<[string, number], Row>(
      `SELECT doc FROM relationships WHERE state IN ('awaitingDelivery', 'approvalPending', 'active') AND due_at <= ?
       ORDER BY due_at, rowid LIMIT ?`,
    ),
    relSetCard: db.prepare<{ id: string; card: string }>(
      `UPDATE relationships SET doc = json_set(doc, '$.card', json(@card)) WHERE id = @id`,
    ),

    responseFor: db.prepare<[string, string], Row>('SELECT doc FROM responses WHERE subject_id = ? AND slot = ?'),
    responsesForSubject: db.prepare<[string], Row>('SELECT doc FROM responses WHERE subject_id = ? ORDER BY seq'),
    responseChain: db.prepare<[string], Row>('SELECT doc FROM responses WHERE customer_tenant_id = ? ORDER BY seq'),
    responseInsert: db.prepare(
      'INSERT INTO responses (id, subject_id, slot, customer_tenant_id, seq, doc) VALUES (@id, @subjectId, @slot, @customerTenantId, @seq, @doc)',
    ),
    headGet: db.prepare<[string], { seq: number; hash: string }>('SELECT seq, hash FROM chain_heads WHERE customer_tenant_id = ?'),
    headSet: db.prepare(
      `INSERT INTO chain_heads (customer_tenant_id, seq, hash) VALUES (?, ?, ?)
       ON CONFLICT (customer_tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
    ),

    outboxInsert: db.prepare(`INSERT INTO outbox (id, state, next_attempt_at, lease_owner, lease_until, subject_id, partner_tenant_id,
        created_at, doc)
      VALUES (@id, @state, @nextAttemptAt, NULL, NULL, @subjectId, @partnerTenantId, @createdAt, @doc)`),
    outboxDue: db.prepare<{ now: string; limit: number }, { id: string }>(
      `SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
       ORDER BY next_attempt_at, rowid LIMIT @limit`,
    ),
    outboxLease: db.prepare<{ id: string; owner: string; until: string }>('UPDATE outbox SET lease_owner = @owner, lease_until = @until WHERE id = @id'),
    outboxGet: db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE id = ?'),
    outboxSent: db.prepare<{ id: string; owner: string }>(
      `UPDATE outbox SET state = 'sent', lease_owner = NULL, lease_until = NULL,
         doc = json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + 1)
       WHERE id = @id AND lease_owner = @owner`,
    ),
    outboxRetry: db.prepare<{ id: string; owner: string; at: string; error: string }>(
      `UPDATE outbox SET next_attempt_at = @at, lease_owner = NULL, lease_until = NULL,
         doc = json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + 1, '$.lastError', @error)
       WHERE id = @id AND lease_owner = @owner`,
    ),
    outboxFail: db.prepare<{ id: string; owner: string; error: string }>(
      `UPDATE outbox SET state = 'failed', lease_owner = NULL, lease_until = NULL,
         doc = json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + 1, '$.lastError', @error)
       WHERE id = @id AND lease_owner = @owner`,
    ),
    // The rate limiter's "not yet": the lease is given back and the entry is due at @at, but no attempt is counted and
    // the last error stays what it was.
    outboxDefer: db.prepare<{ id: string; owner: string; at: string }>(
      `UPDATE outbox SET next_attempt_at = @at, lease_owner = NULL, lease_until = NULL WHERE id = @id AND lease_owner = @owner`,
    ),
    // Read backwards off the partial index outbox_partner_failed, whose last key is the rowid: no sort.
    outboxFailedFor: db.prepare<{ partnerTenantId: string; limit: number }, OutboxRow>(
      `SELECT * FROM outbox WHERE state = 'failed' AND partner_tenant_id = @partnerTenantId
       ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
    ),
    // Only a failed entry of that partner goes back: the state and partner conditions are the guard, so an id of another
    // partner, or an entry already requeued by a concurrent call, changes nothing. lastError stays until the next try.
    outboxRequeue: db.prepare<{ id: string; partnerTenantId: string; now: string }>(
      `UPDATE outbox SET state = 'pending', next_attempt_at = @now, lease_owner = NULL, lease_until = NULL,
         doc = json_set(doc, '$.attempts', 0)
       WHERE id = @id AND state = 'failed' AND partner_tenant_id = @partnerTenantId`,
    ),
    // Each count reads only its partial index, so readiness stays cheap however many entries were delivered; the oldest
    // pending entry is one seek in outbox_pending_created (migration 5).
    outboxStats: db.prepare<[], { pending: number; failed: number; oldest: string | null }>(
      `SELECT (SELECT count(*) FROM outbox WHERE state = 'pending') AS pending,
         (SELECT count(*) FROM outbox WHERE state = 'failed') AS failed,
         (SELECT min(created_at) FROM outbox WHERE state = 'pending') AS oldest`,
    ),
    outboxForSubject: db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE subject_id = ? ORDER BY created_at, rowid'),

    // Listings (migration 6). The triggers on `listings` keep `listings_fts` in step inside each statement, so every
    // save below updates the full-text index in its own transaction. DO NOTHING covers only uniqueness (the id, the
    // partner): a second listing for a partner is refused, and a NOT NULL or CHECK failure still throws.
    listingInsert: db.prepare(`INSERT INTO listings (id, partner_tenant_id, version, published, updated_at, countries, languages, doc)
      VALUES (@id, @partnerTenantId, @version, @published, @updatedAt, @countries, @languages, @doc) ON CONFLICT DO NOTHING`),
    listingUpdate: db.prepare(`UPDATE listings SET version = @version, published = @published, updated_at = @updatedAt,
        countries = @countries, languages = @languages, doc = @doc
      WHERE id = @id AND partner_tenant_id = @partnerTenantId AND version = @expectedVersion`),
    listingByPartner: db.prepare<[string], Row>('SELECT doc FROM listings WHERE partner_tenant_id = ?'),
    listingById: db.prepare<[string], Row>('SELECT doc FROM listings WHERE id = ?'),
    listingSearch: db.prepare<ListingFilter & { match: string }, ScoredRow>(MARKETPLACE_SQL.search),
    listingRecent: db.prepare<ListingFilter, ScoredRow>(MARKETPLACE_SQL.recent),

    leadInsert: db.prepare(`INSERT INTO leads (id, partner_tenant_id, requester_tenant_id, requester_aad_object_id, created_at, doc)
      VALUES (@id, @partnerTenantId, @tenantId, @aadObjectId, @createdAt, @doc)`),
    leadGet: db.prepare<[string], Row>('SELECT doc FROM leads WHERE id = ?'),
    leadLatest: db.prepare<{ tenantId: string; aadObjectId: string; partnerTenantId: string; since: string }, Row>(MARKETPLACE_SQL.leadLatest),
    // First one wins: the condition is the guard, in one statement.
    leadSetTrial: db.prepare<{ id: string; offerId: string }>(
      `UPDATE leads SET doc = json_set(doc, '$.trialOfferId', @offerId) WHERE id = @id AND json_type(doc, '$.trialOfferId') IS NULL`,
    ),
  };

  const parse = <T>(row: Row | undefined): T | null => (row ? (JSON.parse(row.doc) as T) : null);
  const parseAll = <T>(rows: Row[]): T[] => rows.map((r) => JSON.parse(r.doc) as T);

  const offerParams = (o: Offer) => ({
    id: o.id,
    partnerTenantId: o.partnerTenantId,
    approverEmail: o.approverEmail,
    approverTenantId: o.approver?.tenantId ?? null,
    approverAad: o.approver?.aadObjectId ?? null,
    state: o.state,
    version: o.version,
    createdAt: o.createdAt,
    expiresAt: o.expiresAt,
    pendingKey: o.pendingKey ?? null,
    kind: o.kind,
    searchText: offerSearchText(o),
    doc: JSON.stringify(o),
  });

  const relParams = (r: Relationship) => ({
    id: r.id,
    kind: r.kind,
    state: r.state,
    version: r.version,
    partnerTenantId: r.partnerTenantId,
    approverEmail: r.approverEmail,
    approverTenantId: r.approver?.tenantId ?? null,
    approverAad: r.approver?.aadObjectId ?? null,
    customerTenantId: r.customerTenantId ?? null,
    offerId: r.offerId ?? null,
    createdAt: r.createdAt,
    dueAt: r.dueAt ?? null,
    pendingKey: r.pendingKey ?? null,
    endsAt: r.endsAt ?? null,
    searchText: relationshipSearchText(r),
    doc: JSON.stringify(r),
  });

  const getRel = (id: string) => parse<Relationship>(q.relGet.get(id));

  /** The customer's active relationship of that kind; none for a relationship whose customer is not known yet. */
  const activeRel = (customerTenantId: string | undefined, kind: string) =>
    customerTenantId === undefined ? null : parse<Relationship>(q.relActive.get(customerTenantId, kind));

  /** Replaces the relationship if its stored version is still `expectedVersion`. */
  const casRel = (next: Relationship, expectedVersion: number) => q.relUpdate.run({ ...relParams(next), expectedVersion }).changes === 1;

  /** A write that would make a second active relationship for the customer, reported as what it is. */
  const activeViolation = (err: unknown, r: Relationship) =>
    isUniqueViolation(err, 'relationships.customer_tenant_id, relationships.kind')
      ? new ActiveRelationshipExists(r, activeRel(r.customerTenantId, r.kind)?.id)
      : err;

  const insertOutbox = (entries: NewOutboxEntry[]) => {
    const at = now().toISOString();
    for (const e of entries) {
      const row = outboxRow(e, newId(), at);
      q.outboxInsert.run({
        id: row.id,
        state: row.state,
        nextAttemptAt: row.nextAttemptAt,
        subjectId: row.subject?.id ?? null,
        partnerTenantId: row.partnerTenantId ?? null,
        createdAt: at,
        doc: JSON.stringify(row),
      });
    }
  };

  const createTx = db.transaction((offer: Offer, outbox: NewOutboxEntry[], attachments: Relationship[]) => {
    if (offer.pendingKey) {
      const existing = parse<Offer>(q.offerByPendingKey.get(offer.pendingKey));
      if (existing) return { created: false as const, offer: existing };
    }
    q.offerInsert.run(offerParams(offer));
    for (const a of attachments) q.relInsert.run(relParams(a));
    insertOutbox(outbox);
    return { created: true as const, offer };
  });

  const updateTx = db.transaction((next: Offer, expectedVersion: number, outbox: NewOutboxEntry[]) => {
    const changed = q.offerUpdate.run({ ...offerParams(next), expectedVersion }).changes === 1;
    if (changed) insertOutbox(outbox);
    return changed;
  });

  const decideTx = db.transaction(
    (next: Offer, expectedVersion: number, response: NewResponse, outbox: NewOutboxEntry[]): DecideResult => {
      const existing = parse<ResponseRecord>(q.responseFor.get(response.subjectId, response.slot));
      if (existing) return { status: 'already', offer: parse<Offer>(q.offerGet.get(response.subjectId))!, response: existing };
      const changed = q.offerDecide.run({
        id: next.id,
        state: next.state,
        version: next.version,
        pendingKey: next.pendingKey ?? null,
        searchText: offerSearchText(next),
        doc: JSON.stringify(next),
        expectedVersion,
      }).changes;
      if (changed !== 1) {
        return { status: 'conflict', offer: parse<Offer>(q.offerGet.get(next.id)) };
      }
      const record = chainResponse(response, q.headGet.get(response.customerTenantId) ?? null);
      q.responseInsert.run({ ...record, doc: JSON.stringify(record) });
      q.headSet.run(record.customerTenantId, record.seq, record.hash);
      insertOutbox(outbox);
      return { status: 'recorded', offer: next, response: record };
    },
  );

  const relCreateTx = db.transaction((r: Relationship, outbox: NewOutboxEntry[]) => {
    if (r.pendingKey) {
      const existing = parse<Relationship>(q.relByPendingKey.get(r.pendingKey));
      if (existing) return { created: false as const, relationship: existing };
    }
    q.relInsert.run(relParams(r));
    insertOutbox(outbox);
    return { created: true as const, relationship: r };
  });

  const relUpdateTx = db.transaction((next: Relationship, expectedVersion: number, outbox: NewOutboxEntry[]) => {
    const changed = casRel(next, expectedVersion);
    if (changed) insertOutbox(outbox);
    return changed;
  });

  /**
   * Under BEGIN IMMEDIATE nothing changes between these reads and the writes, so every check comes before the first
   * write: returning from the transaction commits it, and an answer other than `recorded` must leave nothing written.
   */
  const relDecideTx = db.transaction((d: RelationshipDecision): RelationshipDecideResult => {
    const first = d.responses[0]!;
    const existing = parse<ResponseRecord>(q.responseFor.get(first.subjectId, first.slot));
    if (existing) return { status: 'already', relationship: getRel(d.next.id)!, response: existing };

    if (d.replaces || d.next.state === 'active') {
      const active = activeRel(d.next.customerTenantId, d.next.kind);
      if (activeRefuses(d, active)) return { status: 'activeChanged', active };
    }
    const ended = d.replaces?.ended;
    const writes = [...(ended ? [ended] : []), { next: d.next, expectedVersion: d.expectedVersion }];
    for (const w of writes) {
      const current = q.relGet.get(w.next.id);
      if (current?.version !== w.expectedVersion) return { status: 'conflict', relationship: parse<Relationship>(current) };
    }

    // In that order: the old relationship leaves `active` before the new one enters it (the unique index never sees two).
    for (const w of writes) casRel(w.next, w.expectedVersion);

    const records = d.responses.map((response) => {
      const record = chainResponse(response, q.headGet.get(response.customerTenantId) ?? null);
      q.responseInsert.run({ ...record, doc: JSON.stringify(record) });
      q.headSet.run(record.customerTenantId, record.seq, record.hash);
      return record;
    });
    insertOutbox(d.outbox);
    return { status: 'recorded', relationship: d.next, responses: records };
  });

  const listingParams = (l: Listing) => ({
    id: l.id,
    partnerTenantId: l.partnerTenantId,
    version: l.version,
    published: l.published ? 1 : 0,
    updatedAt: l.updatedAt,
    countries: JSON.stringify(l.countries ?? []),
    languages: JSON.stringify(l.languages ?? []),
    doc: JSON.stringify(l),
  });

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

  const searchListings = (query: ListingQuery) => {
    checkListingQuery(query);
    const filter: ListingFilter = { country: query.country ?? null, language: query.language ?? null, limit: query.limit, offset: query.offset };
    if (filter.limit === 0) return [];
    const terms = searchTerms(query.words);
    const rows = terms.length ? q.listingSearch.all({ ...filter, match: fts5Match(terms) }) : q.listingRecent.all(filter);
    return rows.map((r) => ({ listing: JSON.parse(r.doc) as Listing, score: r.score }));
  };

  // Pipeline statements by their SQL: each combination of filters is its own statement (at most 32 pages and 16 counts
  // a table), prepared once.
  const pipelineStatements = new Map<string, Database.Statement>();
  const pipelineStatement = (sql: string) => {
    let statement = pipelineStatements.get(sql);
    if (!statement) pipelineStatements.set(sql, (statement = db.prepare(sql)));
    return statement;
  };

  /** One source's page (its first `fetch` rows after the cursor) and count; nothing when the kinds filter skips it. */
  const pipelineSource = <T>(table: PipelineTable, partner: string, s: SourceQuery<string>): { rows: T[]; total: number } => {
    if (s.skip) return { rows: [], total: 0 };
    const f: PipelineFilters = { kinds: !!s.kinds, states: !!s.states, customer: s.customer !== undefined, words: s.words.length > 0 };
    const params = {
      partner,
      ...(s.kinds ? { kinds: JSON.stringify(s.kinds) } : {}),
      ...(s.states ? { states: JSON.stringify(s.states) } : {}),
      ...(s.customer !== undefined ? { customer: s.customer } : {}),
      ...(s.words.length ? { words: JSON.stringify(s.words) } : {}),
    };
    const after = s.after ? { afterAt: s.after.createdAt, afterId: s.after.id } : {};
    const rows = pipelineStatement(PIPELINE_SQL.page(table, { ...f, after: !!s.after })).all({ ...params, ...after, fetch: s.fetch }) as Row[];
    const { n } = pipelineStatement(PIPELINE_SQL.count(table, f)).get(params) as { n: number };
    return { rows: parseAll<T>(rows), total: n };
  };

  // Read transactions (BEGIN DEFERRED): the reads of a page, or of a summary, see one snapshot of the file.
  const pipelinePageTx = db.transaction((query: PipelineQuery): PipelinePage => {
    const plan = planPipeline(query);
    const offers = pipelineSource<Offer>('offers', plan.partnerTenantId, plan.offers);
    const rels = pipelineSource<Relationship>('relationships', plan.partnerTenantId, plan.relationships);
    return { ...mergePipeline(offers.rows, rels.rows, plan.limit), total: offers.total + rels.total };
  });

  const pipelineSummaryTx = db.transaction((partnerTenantId: string, at: string): PipelineSummary => {
    const bounds = expiryBounds(at);
    const partner = { partner: partnerTenantId };
    const byState = (table: PipelineTable) => pipelineStatement(PIPELINE_SQL.byState(table)).all(partner) as Array<{ state: string; n: number }>;
    const expiring = pipelineStatement(PIPELINE_SQL.expiring).get({ ...partner, ...bounds }) as PipelineSummary['expiring'];
    return pipelineSummary(byState('offers'), byState('relationships'), expiring);
  });

  const claimTx = db.transaction((owner: string, at: string, leaseUntil: string, limit: number) => {
    const ids = q.outboxDue.all({ now: at, limit }).map((r) => r.id);
    for (const id of ids) q.outboxLease.run({ id, owner, until: leaseUntil });
    return ids.map((id) => fromOutboxRow(q.outboxGet.get(id)!));
  });

  /** One BEGIN IMMEDIATE for all the ids: two concurrent calls serialize, and the second finds them pending already. */
  const requeueTx = db.transaction((partnerTenantId: string, ids: string[], at: string) => {
    let requeued = 0;
    for (const id of ids) requeued += q.outboxRequeue.run({ id, partnerTenantId, now: at }).changes;
    return requeued;
  });

  return {
    kind: 'sqlite',
    ping: async () => void db.prepare('SELECT 1').get(),
    close: async () => {
      await checkpointer?.terminate();
      db.close();
    },

    partners: {
      upsert: async (p: Partner) => void q.partnerUpsert.run(p.tenantId, JSON.stringify(p)),
      get: async (tenantId) => parse<Partner>(q.partnerGet.get(tenantId)),
    },

    channels: {
      set: async (tenantId, channel) =>
        void (channel === null ? q.channelClear.run(tenantId) : q.channelSet.run({ tenantId, doc: JSON.stringify(channel) })),
      get: async (tenantId) => parse<NotificationChannel>(q.channelGet.get(tenantId)),
    },

    conversations: {
      upsert: async (c: ConversationRecord) =>
        void q.convUpsert.run({
          id: c.id,
          tenantId: c.tenantId,
          kind: c.kind,
          aad: c.user?.aadObjectId ?? null,
          email: c.user?.email?.toLowerCase() ?? null,
          upn: c.user?.upn?.toLowerCase() ?? null,
          active: c.active ? 1 : 0,
          updatedAt: c.updatedAt,
          doc: JSON.stringify(c),
        }),
      get: async (id) => parse<ConversationRecord>(q.convGet.get(id)),
      findPersonal: async (tenantId, aad) => parse<ConversationRecord>(q.convPersonal.get(tenantId, aad)),
      findPersonalByEmail: async (email) => {
        const e = email.toLowerCase();
        return parse<ConversationRecord>(q.convByEmail.get(e, e));
      },
      deactivate: async (id, reason, at) => void q.convDeactivate.run({ id, at, reason }),
    },

    offers: {
      create: async (offer, outbox, attachments = []) => {
        checkAttachments(offer.id, attachments);
        try {
          return createTx.immediate(offer, outbox, attachments);
        } catch (err) {
          // Another process inserted the same pending offer between our check and insert.
          if (isUniqueViolation(err, 'offers.pending_key') && offer.pendingKey) {
            const existing = parse<Offer>(q.offerByPendingKey.get(offer.pendingKey));
            if (existing) return { created: false, offer: existing };
          }
          throw err;
        }
      },
      get: async (id) => parse<Offer>(q.offerGet.get(id)),
      update: async (next, expectedVersion, outbox) => updateTx.immediate(next, expectedVersion, outbox),
      decide: async (next, expectedVersion, response, outbox) => decideTx.immediate(next, expectedVersion, response, outbox),
      listByPartner: async ({ partnerTenantId, approverEmail, limit }: OfferQuery) =>
        parseAll<Offer>(
          approverEmail
            ? q.offersByPartnerApprover.all(partnerTenantId, approverEmail.toLowerCase(), limit)
            : q.offersByPartner.all(partnerTenantId, limit),
        ),
      customersOf: async (partnerTenantId) =>
        q.customers.all(partnerTenantId).map(
          (r): CustomerSummary => ({ ...r, customerTenantId: r.customerTenantId ?? undefined }),
        ),
      listAwaitingDelivery: async (email) => parseAll<Offer>(q.awaiting.all(email.toLowerCase())),
      listPendingFor: async ({ tenantId, aadObjectId }) => parseAll<Offer>(q.pendingFor.all(tenantId, aadObjectId)),
      listExpired: async (at, limit) => parseAll<Offer>(q.expired.all(at, limit)),
      setCard: async (offerId, card) => void q.setCard.run({ id: offerId, card: JSON.stringify(card) }),
    },

    relationships: {
      create: async (r, outbox) => {
        try {
          return relCreateTx.immediate(r, outbox);
        } catch (err) {
          // Another process inserted the same open request between our check and insert.
          if (isUniqueViolation(err, 'relationships.pending_key') && r.pendingKey) {
            const existing = parse<Relationship>(q.relByPendingKey.get(r.pendingKey));
            if (existing) return { created: false, relationship: existing };
          }
          throw activeViolation(err, r);
        }
      },
      get: async (id) => getRel(id),
      update: async (next, expectedVersion, outbox) => {
        try {
          return relUpdateTx.immediate(next, expectedVersion, outbox);
        } catch (err) {
          throw activeViolation(err, next);
        }
      },
      decide: async (d) => {
        if (!d.responses.length) throw new TypeError('store: a relationship decision records at least one response');
        checkReplaces(d.replaces);
        return relDecideTx.immediate(d);
      },
      activeFor: async (customerTenantId, kind) => activeRel(customerTenantId, kind),
      forOffer: async (offerId) => parseAll<Relationship>(q.relForOffer.all(offerId)),
      listByPartner: async (partnerTenantId, limit) => parseAll<Relationship>(q.relByPartner.all(partnerTenantId, limit)),
      listAwaitingDelivery: async (email) => parseAll<Relationship>(q.relAwaiting.all(email.toLowerCase())),
      listPendingFor: async ({ tenantId, aadObjectId }) => parseAll<Relationship>(q.relPendingFor.all(tenantId, aadObjectId)),
      listDue: async (at, limit) => parseAll<Relationship>(q.relDue.all(at, limit)),
      setCard: async (id, card) => void q.relSetCard.run({ id, card: JSON.stringify(card) }),
    },

    listings: {
      get: async (partnerTenantId) => parse<Listing>(q.listingByPartner.get(partnerTenantId)),
      getById: async (id) => parse<Listing>(q.listingById.get(id)),
      save: async (listing, expectedVersion) => {
        checkListingSave(listing, expectedVersion);
        const params = listingParams(listing);
        // One statement each, with the index triggers inside it: atomic, and a single write needs no wider lock.
        return (expectedVersion === 0 ? q.listingInsert.run(params) : q.listingUpdate.run({ ...params, expectedVersion })).changes === 1;
      },
      search: async (query) => searchListings(query),
    },

    leads: {
      create: async (lead, outbox, since) => leadCreateTx.immediate(lead, outbox, since),
      get: async (id) => parse<Lead>(q.leadGet.get(id)),
      setTrial: async (id, offerId) => q.leadSetTrial.run({ id, offerId }).changes === 1,
    },

    pipeline: {
      page: async (query) => pipelinePageTx.deferred(query),
      summary: async (partnerTenantId, at) => {
        if (typeof partnerTenantId !== 'string') throw new TypeError('store: pipeline partnerTenantId must be a string');
        return pipelineSummaryTx.deferred(partnerTenantId, at);
      },
    },

    responses: {
      forSubject: async (subjectId) => parseAll<ResponseRecord>(q.responsesForSubject.all(subjectId)),
      chain: async (customerTenantId) => parseAll<ResponseRecord>(q.responseChain.all(customerTenantId)),
    },

    outbox: {
      claim: async (owner, at, leaseUntil, limit) => claimTx.immediate(owner, at, leaseUntil, limit),
      markSent: async (id, owner) => void q.outboxSent.run({ id, owner }),
      retryLater: async (id, owner, at, error) => void q.outboxRetry.run({ id, owner, at, error }),
      markFailed: async (id, owner, error) => void q.outboxFail.run({ id, owner, error }),
      defer: async (id, owner, at) => void q.outboxDefer.run({ id, owner, at }),
      failedFor: async (partnerTenantId, limit) => q.outboxFailedFor.all({ partnerTenantId, limit }).map(fromOutboxRow),
      retryFailed: async (partnerTenantId, ids, at) => (ids.length ? requeueTx.immediate(partnerTenantId, ids, at) : 0),
      stats: async () => {
        const s = q.outboxStats.get()!;
        return { pending: s.pending ?? 0, failed: s.failed ?? 0, oldestPendingAt: s.oldest ?? undefined };
      },
      forSubject: async (subjectId) => q.outboxForSubject.all(subjectId).map(fromOutboxRow),
    },
  };
}

interface OutboxRow {
  id: string;
  state: OutboxEntry['state'];
  next_attempt_at: string;
  lease_owner: string | null;
  lease_until: string | null;
  doc: string;
}

/** Columns are the truth for what the claim query filters on; the document holds the rest. */
function fromOutboxRow(row: OutboxRow): OutboxEntry {
  const doc = JSON.parse(row.doc) as OutboxEntry;
  return {
    ...doc,
    state: row.state,
    nextAttemptAt: row.next_attempt_at,
    lease: row.lease_owner && row.lease_until ? { owner: row.lease_owner, until: row.lease_until } : undefined,
  };
}

/**
 * Moves WAL checkpoints off the event loop: a worker thread with its own connection checkpoints every second
 * (PASSIVE: it never blocks writers), so commits on the request path only append to the WAL. The connection's own
 * auto-checkpoint stays as a backstop at a higher threshold in case the worker falls behind.
 */
function startCheckpointer(db: Database.Database, file: string): Worker {
  db.pragma('wal_autocheckpoint = 10000');
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const Database = require(workerData.driver);
     const db = new Database(workerData.file);
     db.pragma('busy_timeout = 1000');
     setInterval(() => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} }, 1000);`,
    { eval: true, workerData: { file, driver: require.resolve('better-sqlite3') } },
  );
  // If the worker cannot run, the connection's auto-checkpoint still keeps the WAL bounded.
  worker.on('error', () => undefined);
  worker.unref();
  return worker;
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`The database file is from a newer version of the bot (schema ${current}, this build knows ${MIGRATIONS.length}).`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      BACKFILLS[v + 1]?.(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

function isUniqueViolation(err: unknown, what: string): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' && (e.message ?? '').includes(what);
}
