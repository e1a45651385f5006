/**
 * Partner Center REST v1 (`https://api.partnercenter.microsoft.com/v1`, served here under `<url>/partnercenter/v1`):
 * bearer-token check, the headers, the error shape, then the routes the bot uses to place new-commerce orders.
 * Pages (learn.microsoft.com/en-us/partner-center/developer/…, 2021 text in MicrosoftDocs/partner-center-sdk develop/):
 * - partner-center-rest-urls, headers: base URL; `MS-RequestId` / `MS-CorrelationId` are echoed on every answer
 *   (generated when the client sent none).
 * - error-codes: `{ code, description, data, source }` (here with `errorName`, `isRetryable` as some pages show);
 *   401 carries `WWW-Authenticate: OAuth realm=urn:cpsvc:cpid:…`; codes 800001 (token missing), 400 (access denied),
 *   1000 (not found).
 * - api-throttling-guidance: 429 `{ statusCode, message }` with `Retry-After` (faults.ts).
 * - partner-center-authentication: app-only token for `https://api.partnercenter.microsoft.com/.default` (token.ts);
 *   a Graph token here is refused (401, access denied).
 * - get-a-customer-by-id: `GET customers/{customer-tenant-id}` (this module).
 * - request-reseller-relationship: `GET customers/relationshiprequests` (this module).
 * Catalog routes: pc-catalog.ts; carts, checkout, orders, subscriptions: pc-commerce.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GUID, readBody, sendJson } from './http';
import { handleCatalog, handleCustomerAvailabilities } from './pc-catalog';
import { handleCarts, handleOrders, handleSubscriptions } from './pc-commerce';
import type { PartnerCenterState } from './pc-state';
import type { IssuedToken, Tenant, World } from './world';
import type { RequestLogEntry } from './types';

export const PARTNER_CENTER_PREFIX = '/partnercenter/v1';
const PARTNER_CENTER_RESOURCE = /^https:\/\/api\.partnercenter\.microsoft\.com\/?$/i;

/** An error answer in Partner Center's shape. */
export class PcError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    description: string,
    readonly errorName?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

export const pcNotFound = (code: number, description: string, errorName = 'NotFound') => new PcError(404, code, description, errorName);
export const pcBadRequest = (code: number, description: string, errorName = 'BadRequest') => new PcError(400, code, description, errorName);

/** Partner Center's error body (error-codes page), with the optional fields of the richer samples. */
export function pcErrorBody(code: number, description: string, errorName?: string, status?: number): Record<string, unknown> {
  return {
    code,
    description,
    ...(errorName ? { errorName } : {}),
    isRetryable: status !== undefined && status >= 500,
    data: [],
    source: 'PartnerFD',
  };
}

/** `MS-RequestId` / `MS-CorrelationId`: the client's values echoed, or new GUIDs. */
export function pcIds(req: IncomingMessage): {
  requestId: string;
  correlationId: string;
  sentRequestId?: string;
  sentCorrelationId?: string;
} {
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  const sentRequestId = header('ms-requestid');
  const sentCorrelationId = header('ms-correlationid');
  return {
    requestId: sentRequestId ?? randomUUID(),
    correlationId: sentCorrelationId ?? randomUUID(),
    ...(sentRequestId ? { sentRequestId } : {}),
    ...(sentCorrelationId ? { sentCorrelationId } : {}),
  };
}

export interface PcContext {
  world: World;
  pc: PartnerCenterState;
  req: IncomingMessage;
  url: URL;
  token: IssuedToken;
  partner: Tenant;
  /** Decoded path segments after `/partnercenter/v1/`. */
  segments: string[];
  ids: ReturnType<typeof pcIds>;
  send(status: number, body: unknown): void;
  /** The JSON body as an object (400 otherwise). */
  body(): Promise<Record<string, unknown>>;
  /** A query parameter, case-insensitive name. */
  query(name: string): string | undefined;
}

export async function handlePartnerCenter(
  world: World,
  pc: PartnerCenterState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  log: RequestLogEntry,
): Promise<void> {
  const ids = pcIds(req);
  const headers = { 'MS-RequestId': ids.requestId, 'MS-CorrelationId': ids.correlationId };
  const send = (status: number, body: unknown) => sendJson(res, status, body, headers);
  try {
    const token = authenticate(world, req);
    log.tenantId = token.tenantId;
    log.clientId = token.clientId;
    const partner = world.tenant(token.tenantId);
    if (!partner || partner.kind !== 'partner') throw new PcError(403, 400, 'Access denied: the caller is not a partner.', 'Forbidden');
    const segments = decodeURIComponent(url.pathname.slice(PARTNER_CENTER_PREFIX.length)).split('/').filter(Boolean);
    const ctx: PcContext = {
      world,
      pc,
      req,
      url,
      token,
      partner,
      segments,
      ids,
      send,
      body: async () => {
        const text = await readBody(req);
        let parsed: unknown;
        try {
          parsed = text.trim() === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw pcBadRequest(400, 'The request body is not a JSON object.', 'InvalidInput');
        return parsed as Record<string, unknown>;
      },
      query: (name) => {
        for (const [k, v] of url.searchParams) if (k.toLowerCase() === name.toLowerCase()) return v;
        return undefined;
      },
    };
    const [first, second, third] = segments.map((s) => s.toLowerCase());
    const method = req.method ?? 'GET';
    if (first === 'products') return handleCatalog(ctx, segments.slice(1));
    if (first !== 'customers' || !second) throw pcNotFound(1000, `Not found: ${url.pathname}`);
    if (second === 'relationshiprequests' && segments.length === 2) {
      if (method !== 'GET') throw methodNotAllowed();
      return send(200, { url: resellerInvitationLink(partner.tenantId), attributes: { objectType: 'RelationshipRequest' } });
    }
    const customer = customerOf(ctx, segments[1] ?? '');
    if (segments.length === 2) {
      if (method !== 'GET') throw methodNotAllowed();
      return send(200, customerJson(customer));
    }
    if (third === 'products') return handleCustomerAvailabilities(ctx, customer, segments.slice(3));
    if (third === 'carts') return await handleCarts(ctx, customer, segments.slice(3));
    if (third === 'orders') return handleOrders(ctx, customer, segments.slice(3));
    if (third === 'subscriptions') return handleSubscriptions(ctx, customer, segments.slice(3));
    throw pcNotFound(1000, `Not found: ${url.pathname}`);
  } catch (e) {
    if (e instanceof PcError)
      return sendJson(res, e.status, pcErrorBody(e.code, e.message, e.errorName, e.status), { ...headers, ...e.headers });
    if (e instanceof URIError) return send(400, pcErrorBody(400, 'The request URI is not valid.', 'BadRequest', 400));
    console.error('stand-in: Partner Center handler failed', e);
    return send(500, pcErrorBody(500, 'An unexpected error occurred.', 'InternalServerError', 500));
  }
}

export const methodNotAllowed = () =>
  new PcError(405, 405, 'The requested resource does not support this HTTP method.', 'MethodNotAllowed');

/** The reseller invitation link, as request-reseller-relationship's example shows it (DAP=false: no legacy delegated admin). */
export function resellerInvitationLink(partnerTenantId: string): string {
  return `https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship&partnerId=${partnerTenantId}&msppId=0&DAP=false#/BillingAccounts/partner-invitation`;
}

function authenticate(world: World, req: IncomingMessage): IssuedToken {
  const realm = { 'WWW-Authenticate': `OAuth realm=urn:cpsvc:cpid:${randomUUID()}` };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m?.[1]) throw new PcError(401, 800001, 'Partner Token missing in request context', 'Unauthorized', realm);
  const token = world.tokens.get(m[1]);
  if (!token) throw new PcError(401, 400, 'Access denied: the token is not valid.', 'Unauthorized', realm);
  if (Date.now() >= token.expiresAtRealMs) throw new PcError(401, 400, 'Access denied: the token is expired.', 'Unauthorized', realm);
  if (!PARTNER_CENTER_RESOURCE.test(token.resource))
    throw new PcError(
      401,
      400,
      'Access denied: the token was not issued for https://api.partnercenter.microsoft.com (invalid audience).',
      'Unauthorized',
      realm,
    );
  return token;
}

/**
 * The customer as the partner sees it: only with a reseller relationship. Without one, get-a-customer-by-id gives no
 * example; the stand-in answers error-codes' `404 / 1000 Not found`.
 */
export function customerOf(ctx: PcContext, id: string): Tenant {
  if (!GUID.test(id)) throw pcBadRequest(400, `The customer id '${id}' is not a valid tenant id.`, 'InvalidInput');
  const tenant = ctx.world.tenant(id);
  if (!tenant || tenant.kind !== 'customer' || !ctx.pc.isReseller(ctx.partner.tenantId, tenant.tenantId))
    throw pcNotFound(1000, `Customer ${id} not found for this partner.`, 'CustomerNotFound');
  return tenant;
}

/** get-a-customer-by-id's Customer example, filled from the tenant. */
function customerJson(tenant: Tenant): Record<string, unknown> {
  const country = tenant.country;
  return {
    id: tenant.tenantId,
    commerceId: tenant.tenantId,
    companyProfile: {
      tenantId: tenant.tenantId,
      domain: tenant.defaultDomainName,
      companyName: tenant.displayName,
      address: { country },
      attributes: { objectType: 'CustomerCompanyProfile' },
    },
    billingProfile: {
      id: tenant.tenantId,
      culture: 'en-US',
      language: 'en',
      companyName: tenant.displayName,
      defaultAddress: { country },
      attributes: { objectType: 'CustomerBillingProfile' },
    },
    relationshipToPartner: 'reseller',
    allowDelegatedAccess: false,
    customDomains: [tenant.defaultDomainName],
    links: { self: { uri: `/customers/${tenant.tenantId}`, method: 'GET', headers: [] } },
    attributes: { objectType: 'Customer' },
  };
}

/** The `{ uri, method, headers }` link objects Partner Center puts in `links`. */
export const link = (uri: string, method = 'GET') => ({ uri, method, headers: [] as unknown[] });
