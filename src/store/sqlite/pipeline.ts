import type Database from 'better-sqlite3';
import {
  expiryBounds,
  mergePipeline,
  monthlyValues,
  pipelineSummary,
  planMonthlyValue,
  planPipeline,
  type PipelineStore,
  type SourceQuery,
} from '../../dashboard/store';
import type { PipelinePage, PipelineQuery, PipelineSummary } from '../../dashboard/types';
import type { Relationship } from '../../delegation/types';
import type { Offer } from '../../offers/types';
import { parseAll, type Db, type Row } from './db';

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
  // Purchase offers accepted (by the month of the decision) and pending (by the month they were made), each line's
  // quantity × list price per licence per month summed; the rows come off `offers_partner_state`. `expires_at >=
  // @since` reads no document: an offer is answered by its expiry at the latest, so one that expired before the first
  // month was neither accepted nor made in it, and the documents of a partner's older accepted offers are never parsed.
  // (`YYYY-MM` sorts before every time in that month.)
  monthlyValue: `SELECT month, accepted, sum(cents) AS cents FROM (
      SELECT substr(CASE WHEN o.state = 'accepted' THEN coalesce(json_extract(o.doc, '$.decidedAt'), o.created_at) ELSE o.created_at END, 1, 7)
          AS month,
        o.state = 'accepted' AS accepted,
        coalesce(json_extract(l.value, '$.quantity'), 0) * coalesce(json_extract(l.value, '$.unitPriceCents'), 0) AS cents
      FROM offers AS o, json_each(o.doc, '$.lines') AS l
      WHERE o.partner_tenant_id = @partner AND o.state IN ('accepted', 'sent', 'awaitingDelivery') AND o.kind = 'purchase'
        AND o.expires_at >= @since AND json_extract(o.doc, '$.currency') = @currency)
    WHERE month >= @since
    GROUP BY month, accepted`,
} as const;

/** The partner dashboard's pipeline: offers and relationships read together, each page from one snapshot. */
export function sqlitePipeline(db: Db): PipelineStore {
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
    const rows = pipelineStatement(PIPELINE_SQL.page(table, { ...f, after: !!s.after })).all({
      ...params,
      ...after,
      fetch: s.fetch,
    }) as Row[];
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
    const byState = (table: PipelineTable) =>
      pipelineStatement(PIPELINE_SQL.byState(table)).all(partner) as Array<{ state: string; n: number }>;
    const expiring = pipelineStatement(PIPELINE_SQL.expiring).get({ ...partner, ...bounds }) as PipelineSummary['expiring'];
    return pipelineSummary(byState('offers'), byState('relationships'), expiring);
  });

  return {
    monthlyValue: async (partnerTenantId, currency, since) => {
      const q = planMonthlyValue(partnerTenantId, currency, since);
      const rows = pipelineStatement(PIPELINE_SQL.monthlyValue).all(q) as Array<{ month: string; accepted: number; cents: number }>;
      return monthlyValues(rows);
    },
    page: async (query) => pipelinePageTx.deferred(query),
    summary: async (partnerTenantId, at) => {
      if (typeof partnerTenantId !== 'string') throw new TypeError('store: pipeline partnerTenantId must be a string');
      return pipelineSummaryTx.deferred(partnerTenantId, at);
    },
  };
}
