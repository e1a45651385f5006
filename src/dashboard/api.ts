import * as restify from 'restify';
import { z } from 'zod';
import type { Clock } from '../clock';
import { RELATIONSHIP_ID_PATTERN, SHORT_ID_PATTERN } from '../ids';
import type { Logger } from '../log';
import type { PipelineStore } from './store';
import type { RelationshipsStore } from '../delegation/store';
import type { OffersStore } from '../offers/store';
import type { ResponsesStore } from '../responses/store';
import type { LeadsStore, ListingsStore } from '../marketplace/store';
import type { TabAuth, TabIdentity } from './auth';
import { csvHeader, csvLine } from './csv';
import type { FulfilmentsStore } from '../orders/store';
import type { PipelineItem } from './types';
import { STATUS_NAMES, STATUSES, toHistory, toLeadRow, toRow, toSummary, toValue } from './rows';
import { recentMonths } from './store';
import { PIPELINE_KINDS, type PipelineCursor, type PipelineQuery } from './types';
import type { Partner } from '../directory/partners';

/** The stores this uses: nothing else of the database is in reach. */
export type DashboardStores = {
  fulfilments: FulfilmentsStore;
  leads: LeadsStore;
  listings: ListingsStore;
  offers: OffersStore;
  pipeline: PipelineStore;
  relationships: RelationshipsStore;
  responses: ResponsesStore;
};

export const PAGE_SIZE = 50;
/** The Leads view lists a partner's newest leads, this many at most (older ones stay in the store, never deleted). */
export const LEADS_LIMIT = 200;
/** How many calendar months the summary's pipeline value shows: this one and the five before it. */
export const VALUE_MONTHS = 6;
const MAX_PAGE_SIZE = 200;
/** A partner's export is one file a person opens in a spreadsheet; beyond this they should filter first. */
export const EXPORT_MAX_ROWS = 100_000;
const EXPORT_CHUNK = 500;

/** `a,b,c` in a query string, each one of `values`. */
const listOf = <V extends string>(name: string, values: readonly V[]) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.enum(values as [V, ...V[]], { error: (issue) => `${name} must be one of ${values.join(', ')} (got "${String(issue.input)}")` }),
      ),
    );

const CursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.string().min(1).max(40) });

/** Page positions travel as opaque strings so the page never builds one itself. */
export const encodeCursor = (c: PipelineCursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');
const cursor = z
  .string()
  .max(200)
  .transform((s, ctx) => {
    try {
      return CursorSchema.parse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'after is not a position this server gave out; start again from the first page' });
      return z.NEVER;
    }
  });

export const FiltersSchema = z.object({
  kind: listOf('kind', PIPELINE_KINDS).optional(),
  status: listOf('status', STATUS_NAMES).optional(),
  customer: z.string().trim().toLowerCase().max(320, 'customer is too long').optional(),
  q: z.string().trim().max(200, 'search is limited to 200 characters').optional(),
});
const PageSchema = FiltersSchema.extend({
  after: cursor.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE, `limit is at most ${MAX_PAGE_SIZE}`).default(PAGE_SIZE),
});
const ItemId = z.string().refine((id) => SHORT_ID_PATTERN.test(id) || RELATIONSHIP_ID_PATTERN.test(id), 'not an offer or request id');

function toQuery(partnerTenantId: string, f: z.infer<typeof FiltersSchema>): Omit<PipelineQuery, 'limit'> {
  return {
    partnerTenantId,
    kinds: f.kind?.length ? f.kind : undefined,
    states: f.status?.length ? f.status.flatMap((s) => STATUSES[s].states) : undefined,
    customer: f.customer || undefined,
    search: f.q || undefined,
  };
}

/** A refusal the page shows as is. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
const badRequest = (error: z.ZodError): ApiError =>
  new ApiError(400, 'badRequest', error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));

export interface DashboardApiDeps {
  store: DashboardStores;
  /** The catalog's currency: what offers are priced in, and so what the pipeline value is summed in. */
  currency: string;
  auth: TabAuth;
  clock: Clock;
  log: Logger;
}

type Handler = (ctx: { req: restify.Request; res: restify.Response; partner: Partner; identity: TabIdentity }) => Promise<unknown>;

/**
 * The tab's JSON API under /api/dashboard. Every route authenticates first and then reads only the signed-in
 * partner's rows: the partner comes from the token, never from the request.
 */
export function registerDashboardApi(server: restify.Server, { store, currency, auth, clock, log }: DashboardApiDeps): void {
  const query = restify.plugins.queryParser({ mapParams: false });

  const send = (res: restify.Response, status: number, body: unknown) => {
    res.header('Cache-Control', 'no-store');
    res.send(status, body);
  };
  const fail = (res: restify.Response, e: { status: number; code: string; message: string }) =>
    send(res, e.status, { error: { code: e.code, message: e.message } });

  const route = (path: string, handler: Handler) =>
    server.get(path, query, async (req: restify.Request, res: restify.Response) => {
      try {
        const result = await auth.authenticate(req.header('authorization'));
        if (!result.ok) {
          if (result.status === 401) res.header('WWW-Authenticate', 'Bearer');
          return fail(res, result);
        }
        const body = await handler({ req, res, partner: result.partner, identity: result.identity });
        if (body !== undefined) send(res, 200, body);
      } catch (err) {
        if (err instanceof ApiError) return fail(res, err);
        log.error({ err, url: req.url }, 'dashboard request failed');
        // A CSV export that fails half-way has sent its headers: break the connection, so the browser reports a failed
        // download instead of saving a file that looks whole.
        if (res.headersSent) res.destroy();
        else fail(res, { status: 500, code: 'internal', message: 'Something went wrong on our side. Try again in a minute.' });
      }
    });

  const parse = <S extends z.ZodTypeAny>(schema: S, input: unknown): z.infer<S> => {
    const parsed = schema.safeParse(input ?? {});
    if (!parsed.success) throw badRequest(parsed.error);
    return parsed.data;
  };

  /** The order jobs of the accepted offers among the items, by offer id: one read for the page. */
  const ordersOf = async (items: PipelineItem[]) => {
    const accepted = items.flatMap((i) => (i.type === 'offer' && i.offer.state === 'accepted' ? [i.offer.id] : []));
    return new Map((await store.fulfilments.forOffers(accepted)).map((f) => [f.id, f]));
  };

  const rowsPage = async (partnerTenantId: string, p: z.infer<typeof PageSchema>) => {
    const page = await store.pipeline.page({ ...toQuery(partnerTenantId, p), after: p.after, limit: p.limit });
    const orders = await ordersOf(page.items);
    return {
      rows: page.items.map((item) => toRow(item, orders)),
      total: page.total,
      next: page.next ? encodeCursor(page.next) : undefined,
    };
  };

  // Everything the first paint needs in one answer: each request from the tab costs a browser round trip.
  route('/api/dashboard/overview', async ({ req, partner, identity }) => {
    const p = parse(PageSchema, req.query);
    const now = clock();
    const months = recentMonths(now, VALUE_MONTHS);
    const [summary, value, placed, page] = await Promise.all([
      store.pipeline.summary(partner.tenantId, now.toISOString()),
      store.pipeline.monthlyValue(partner.tenantId, currency, months[0]!),
      store.fulfilments.placedValue(partner.tenantId, currency, months[0]!),
      rowsPage(partner.tenantId, p),
    ]);
    return {
      me: {
        mode: identity.development ? 'development' : 'sso',
        user: { name: identity.name, upn: identity.upn, tenantId: identity.tenantId },
        partner: { name: partner.name, tenantId: partner.tenantId },
        statuses: STATUS_NAMES.map((s) => ({ value: s, label: STATUSES[s].label })),
      },
      summary: toSummary(summary, toValue(value, placed, months, currency)),
      page,
    };
  });

  route('/api/dashboard/rows', async ({ req, partner }) => rowsPage(partner.tenantId, parse(PageSchema, req.query)));

  route('/api/dashboard/rows/:id/history', async ({ req, partner }) => {
    const id = parse(ItemId, (req.params as Record<string, unknown> | undefined)?.id);
    const subject = SHORT_ID_PATTERN.test(id) ? await store.offers.get(id) : await store.relationships.get(id);
    // Someone else's id answers exactly like an unknown one: ids must not reveal other partners' business.
    if (!subject || subject.partnerTenantId !== partner.tenantId) {
      throw new ApiError(404, 'notFound', `There is no offer or request ${id} from your organisation.`);
    }
    return { id, records: toHistory(await store.responses.forSubject(id)) };
  });

  // The signed-in partner's leads, newest first: the partner comes from the token, so no other partner's are in reach.
  route('/api/dashboard/leads', async ({ partner }) => {
    const [leads, listing] = await Promise.all([
      store.leads.listByPartner(partner.tenantId, LEADS_LIMIT + 1),
      store.listings.get(partner.tenantId),
    ]);
    return { leads: leads.slice(0, LEADS_LIMIT).map((lead) => toLeadRow(lead, listing)), more: leads.length > LEADS_LIMIT };
  });

  route('/api/dashboard/customers', async ({ partner }) => ({
    customers: (await store.offers.customersOf(partner.tenantId)).map((c) => c.approverEmail),
  }));

  route('/api/dashboard/export.csv', async ({ req, res, partner }) => {
    const filters = parse(FiltersSchema, req.query);
    const base = toQuery(partner.tenantId, filters);
    let page = await store.pipeline.page({ ...base, limit: EXPORT_CHUNK });
    if (page.total > EXPORT_MAX_ROWS) {
      throw new ApiError(
        400,
        'tooManyRows',
        `These filters match ${page.total.toLocaleString('en-US')} rows; an export holds at most ${EXPORT_MAX_ROWS.toLocaleString('en-US')}. Narrow the filters (a status, a kind or a customer) and export again.`,
      );
    }
    const day = clock().toISOString().slice(0, 10);
    res.writeHead(200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="offers-${day}.csv"`,
      'Cache-Control': 'no-store',
    });
    let gone = false;
    // The person cancelled the download (or the connection broke): stop reading the store.
    res.once('close', () => (gone = !res.writableFinished));
    // A byte-order mark so spreadsheet programs read the names as UTF-8.
    res.write(`\uFEFF${csvHeader()}`);
    for (;;) {
      const orders = await ordersOf(page.items);
      const chunk = page.items.map((item) => csvLine(toRow(item, orders))).join('');
      // Wait for the socket to take the chunk before reading the next: a slow download must not fill memory.
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
      if (gone || !page.next) break;
      page = await store.pipeline.page({ ...base, after: page.next, limit: EXPORT_CHUNK });
    }
    res.end();
    return undefined;
  });
}
