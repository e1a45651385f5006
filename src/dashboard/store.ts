import type { Relationship, RelationshipKind, RelationshipState } from '../delegation/types';
import type { Offer, OfferKind, OfferState } from '../offers/types';
import type { MonthlyValue, PipelineCursor, PipelineItem, PipelinePage, PipelineQuery, PipelineSummary } from './types';

/** A partner's view of its offers and relationships together, for the dashboard tab. */
export interface PipelineStore {
  /** One page of rows, newest first, with the number of rows the filters match. */
  page(query: PipelineQuery): Promise<PipelinePage>;
  /** Counts for the summary; `now` decides what is expiring. */
  summary(partnerTenantId: string, now: string): Promise<PipelineSummary>;
  /**
   * The partner's purchase offers in `currency` by calendar month (UTC) from `since` (`YYYY-MM`) on, oldest first,
   * months with none left out: accepted ones by the month of the decision, pending ones (sent or awaiting delivery)
   * by the month they were made. Trials, and offers declined, expired or withdrawn, count nowhere.
   */
  monthlyValue(partnerTenantId: string, currency: string, since: string): Promise<MonthlyValue[]>;
}

/*
 * The parts of the pipeline both adapters share: what a query asks of each source (offers, relationships), the text a
 * search looks in, and the merge of the two sources' pages.
 */

/** A page holds at most this many rows (the dashboard asks for 50, its CSV export for 500 at a time). */
export const MAX_PIPELINE_LIMIT = 1000;

/** What a search finds a delegation with full access, and a partner-of-record designation, by: their table labels. */
export const FULL_ACCESS_TEXT = 'full administration';
export const POR_TEXT = 'partner of record';

const OFFER_KINDS: readonly OfferKind[] = ['trial', 'purchase'];
const RELATIONSHIP_KINDS: readonly RelationshipKind[] = ['delegation', 'por'];
const OFFER_STATES: readonly OfferState[] = ['awaitingDelivery', 'sent', 'accepted', 'declined', 'expired', 'withdrawn'];
/** Every state, each once: the summary counts them all (a missing one would read as undefined). */
const RELATIONSHIP_STATES = [
  'awaitingDelivery',
  'approvalPending',
  'active',
  'terminationRequested',
  'declined',
  'expired',
  'terminated',
  'withdrawn',
] as const satisfies readonly RelationshipState[];
// Fails to compile when a state is added to RelationshipState and not here.
const _allStates: Record<RelationshipState, true> = Object.fromEntries(RELATIONSHIP_STATES.map((s) => [s, true])) as Record<
  (typeof RELATIONSHIP_STATES)[number],
  true
>;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * One source's share of a query, every value checked to be what the types say (the MongoDB adapter puts them into
 * filters). `kinds` undefined: no kind filter; `skip`: the kinds filter names none of this source's kinds, so the
 * source is not asked at all.
 */
export interface SourceQuery<K extends string> {
  skip: boolean;
  kinds?: K[];
  states?: string[];
  /** Lower-cased: stored addresses are. */
  customer?: string;
  /** Lower-cased words, each once; every one must occur in a row's search text. */
  words: string[];
  after?: PipelineCursor;
  /** What each source reads: one more than the page, so the merge knows whether more rows follow. */
  fetch: number;
}

export interface PipelinePlan {
  partnerTenantId: string;
  limit: number;
  offers: SourceQuery<OfferKind>;
  relationships: SourceQuery<RelationshipKind>;
}

/** Search words: split on whitespace, lower-cased, each once; no words, no search. */
export function pipelineWords(search: string | undefined): string[] {
  if (search === undefined) return [];
  return [...new Set(search.toLowerCase().split(/\s+/u).filter(Boolean))];
}

/** Checks the query (a value of the wrong type throws, whatever the caller's types said) and splits it by source. */
export function planPipeline(query: PipelineQuery): PipelinePlan {
  const q = query as unknown as Record<string, unknown>;
  const partnerTenantId = text(q.partnerTenantId, 'partnerTenantId');
  const limit = q.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PIPELINE_LIMIT) {
    throw new TypeError(`store: pipeline limit must be an integer from 1 to ${MAX_PIPELINE_LIMIT}, got ${String(limit)}`);
  }
  const kinds = q.kinds === undefined ? undefined : texts(q.kinds, 'kinds');
  const states = q.states === undefined ? undefined : texts(q.states, 'states');
  const customer = q.customer === undefined ? undefined : text(q.customer, 'customer').toLowerCase();
  const words = pipelineWords(q.search === undefined ? undefined : text(q.search, 'search'));
  let after: PipelineCursor | undefined;
  if (q.after !== undefined) {
    const a = q.after as Record<string, unknown> | null;
    if (a === null || typeof a !== 'object') throw new TypeError('store: pipeline after must be a cursor { createdAt, id }');
    after = { createdAt: text(a.createdAt, 'after.createdAt'), id: text(a.id, 'after.id') };
  }
  const source = <K extends string>(own: readonly K[]): SourceQuery<K> => {
    const mine = kinds?.filter((k): k is K => (own as readonly string[]).includes(k));
    return {
      skip: mine !== undefined && mine.length === 0,
      ...(mine ? { kinds: [...new Set(mine)] } : {}),
      ...(states ? { states: [...new Set(states)] } : {}),
      ...(customer !== undefined ? { customer } : {}),
      words,
      ...(after ? { after } : {}),
      fetch: limit + 1,
    };
  };
  return { partnerTenantId, limit, offers: source(OFFER_KINDS), relationships: source(RELATIONSHIP_KINDS) };
}

/**
 * Newest first (createdAt, then id, both descending), the order of both sources' queries. Plain string order: ids and
 * ISO times are ASCII, where JavaScript's order is the databases' binary one.
 */
export function comparePipeline(a: PipelineCursor, b: PipelineCursor): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  if (a.id !== b.id) return a.id < b.id ? 1 : -1;
  return 0;
}

const positionOf = (item: PipelineItem): PipelineCursor => {
  const { createdAt, id } = item.type === 'offer' ? item.offer : item.relationship;
  return { createdAt, id };
};

/**
 * Merges each source's first `limit + 1` rows after the cursor (each already in order) into the page. Any row of the
 * merged first `limit + 1` is among its own source's first `limit + 1`, so the page is exact; when the merge has more
 * than `limit` rows, more follow, and the cursor is the page's last row.
 */
export function mergePipeline(
  offers: Offer[],
  relationships: Relationship[],
  limit: number,
): { items: PipelineItem[]; next?: PipelineCursor } {
  const all: PipelineItem[] = [
    ...offers.map((offer): PipelineItem => ({ type: 'offer', offer })),
    ...relationships.map((relationship): PipelineItem => ({ type: 'relationship', relationship })),
  ].sort((a, b) => comparePipeline(positionOf(a), positionOf(b)));
  const items = all.slice(0, limit);
  return all.length > limit ? { items, next: positionOf(items[items.length - 1]!) } : { items };
}

/**
 * The lower-cased text an offer's search looks in: id, customer address, customer tenant, issuer's name, service
 * names. One field a line: a search word has no whitespace, so it never matches across two fields.
 */
export function offerSearchText(o: Offer): string {
  return fields([o.id, o.approverEmail, o.approver?.tenantId, o.issuedBy?.name, ...(o.lines ?? []).map((l) => l.serviceName)]);
}

/**
 * The same for a relationship: id, customer address, customer tenant, issuer's name, and what it grants as the table
 * shows it (role names, "full administration", "partner of record").
 */
export function relationshipSearchText(r: Relationship): string {
  const grants =
    r.kind === 'por' ? [POR_TEXT] : r.access?.kind === 'roles' ? r.access.roles : r.access?.kind === 'full' ? [FULL_ACCESS_TEXT] : [];
  return fields([r.id, r.approverEmail, r.customerTenantId, r.customerOrg?.displayName, r.issuedBy?.name, ...grants]);
}

const fields = (values: Array<string | undefined>): string =>
  values
    .filter((v): v is string => typeof v === 'string')
    .join('\n')
    .toLowerCase();

/** The bounds of "expiring": after `now`, and at most 1, 7 and 30 days after it. */
export function expiryBounds(now: string): { now: string; within1: string; within7: string; within30: string } {
  const at = Date.parse(text(now, 'now'));
  if (Number.isNaN(at)) throw new TypeError(`store: pipeline summary now must be an ISO time, got ${now}`);
  const plusDays = (d: number) => new Date(at + d * DAY_MS).toISOString();
  return { now: new Date(at).toISOString(), within1: plusDays(1), within7: plusDays(7), within30: plusDays(30) };
}

/** Counts by state as the adapters read them (any order, unknown states ignored), with every state present. */
export function pipelineSummary(
  offers: Array<{ state: string; n: number }>,
  relationships: Array<{ state: string; n: number }>,
  expiring: PipelineSummary['expiring'],
): PipelineSummary {
  const count = <S extends string>(states: readonly S[], rows: Array<{ state: string; n: number }>): Record<S, number> => {
    const out = Object.fromEntries(states.map((s) => [s, 0])) as Record<S, number>;
    for (const { state, n } of rows) if ((states as readonly string[]).includes(state)) out[state as S] += n;
    return out;
  };
  return { offers: count(OFFER_STATES, offers), relationships: count(RELATIONSHIP_STATES, relationships), expiring };
}

/*
 * Why an accepted offer counts in the month of its decision and a pending one in the month it was made: a partner
 * reads "accepted in November" as the business won in November (an offer sent on 28 October and accepted on
 * 3 November is November's), the way bookings are counted; a pending offer has no decision yet, so the month it went
 * out is the only date it has, and it leaves that month's pending value the day it is answered, expires or is
 * withdrawn.
 */
/** The offer states the value counts: accepted, and pending (the two states of an offer nobody has answered). */
export const VALUE_STATES = { accepted: 'accepted', pending: ['sent', 'awaitingDelivery'] } as const;

/** Checks a monthly-value query: every value reaches a database filter, so each must be what the types say. */
export function planMonthlyValue(partnerTenantId: unknown, currency: unknown, since: unknown) {
  const partner = text(partnerTenantId, 'partnerTenantId');
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    throw new TypeError(`store: pipeline value currency must be an ISO 4217 code, got ${String(currency)}`);
  if (typeof since !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(since))
    throw new TypeError(`store: pipeline value since must be a month YYYY-MM, got ${String(since)}`);
  return { partner, currency, since };
}

/** The adapters' sums (one per month and accepted-or-pending, any order) as months, oldest first. */
export function monthlyValues(rows: Array<{ month: string; accepted: boolean | number; cents: number }>): MonthlyValue[] {
  const byMonth = new Map<string, MonthlyValue>();
  for (const r of rows) {
    const m = byMonth.get(r.month) ?? { month: r.month, accepted: 0, pending: 0 };
    if (r.accepted) m.accepted += Number(r.cents);
    else m.pending += Number(r.cents);
    byMonth.set(r.month, m);
  }
  return [...byMonth.values()].sort((a, b) => (a.month < b.month ? -1 : 1));
}

/** The `count` calendar months (UTC) up to and including the month of `now`, oldest first, as `YYYY-MM`. */
export function recentMonths(now: Date, count: number): string[] {
  const months: string[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    months.push(d.toISOString().slice(0, 7));
  }
  return months;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string')
    throw new TypeError(`store: pipeline ${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

function texts(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new TypeError(`store: pipeline ${what} must be an array of strings`);
  return value.map((v) => text(v, what));
}
