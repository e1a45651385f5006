import { randomUUID } from 'node:crypto';
import type { MicrosoftApp } from '../../directory/microsoft';
import type { CredentialSources } from '../../delegation/graph/credentials';
import { TokenSource } from '../../delegation/graph/token';
import type { Logger } from '../../log';
import { isPartnerCenterError } from './errors';
import { PartnerCenterHttp } from './http';
import {
  AvailabilitiesSchema,
  CartSchema,
  CheckoutResultSchema,
  CustomerSchema,
  OrderSchema,
  RelationshipRequestSchema,
  SkuSchema,
} from './schemas';
import type { z } from 'zod';

/** Partner Center's public endpoint and the scope its tokens are for (partner-center-authentication). */
export const PARTNER_CENTER_BASE_URL = 'https://api.partnercenter.microsoft.com/v1';
export const PARTNER_CENTER_SCOPE = 'https://api.partnercenter.microsoft.com/.default';

export interface PartnerCenterClientOptions {
  /** MICROSOFT_AUTHORITY_HOST. */
  authorityHost: string;
  /** PARTNER_CENTER_BASE_URL. */
  baseUrl: string;
  log: Logger;
  sources: CredentialSources;
  /** One request (default 30 s) and one token request (default 30 s). */
  timeoutMs?: number;
  tokenTimeoutMs?: number;
  /** Tries and the longest wait inside one call (see PartnerCenterHttp). */
  attempts?: number;
  maxWaitMs?: number;
}

export interface PcCustomer {
  tenantId: string;
  companyName?: string;
  /** ISO 3166 alpha-2, from the billing profile: where availabilities are looked up. */
  country?: string;
}

export interface PcSku {
  id: string;
  title?: string;
  isTrial: boolean;
  minimumQuantity?: number;
  maximumQuantity?: number;
}

export interface PcTerm {
  /** ISO 8601: P1M, P1Y, P3Y. */
  duration: string;
  /** monthly, annual, triennial, none (trials). */
  billingCycle: string;
}

export interface PcAvailability {
  id: string;
  catalogItemId: string;
  terms: PcTerm[];
}

export interface PcCartLineInput {
  id: number;
  catalogItemId: string;
  quantity: number;
  termDuration: string;
  billingCycle: string;
}

export interface PcCart {
  id: string;
  /** `Active` until checked out, then `Ordered`. */
  status: string;
  lines: { id: number; catalogItemId: string; quantity: number; error?: { code?: string; description?: string } }[];
}

export interface PcOrder {
  id: string;
  /** `pending` while Microsoft provisions it, then `completed`. */
  status: string;
  createdAt?: string;
  lines: { number: number; catalogItemId: string; quantity: number; subscriptionId?: string; termDuration?: string }[];
}

export interface PcCheckout {
  orders: PcOrder[];
  errors: { orderGroupId?: string; code?: string; description?: string }[];
}

/** Partner Center's commerce endpoints for one partner, with that partner's app. Every method throws PartnerCenterError. */
export interface PartnerCenterApi {
  /** The partner's customer with this tenant id, or null while the customer has no reseller relationship with it. */
  getCustomer(tenantId: string): Promise<PcCustomer | null>;
  /** The partner's reseller relationship invitation link (delegated admin off: GDAP is asked for separately). */
  resellerInvitationLink(): Promise<string>;
  /** A SKU as sold in a country: a trial's seat count is its minimum (and maximum) quantity. */
  sku(productId: string, skuId: string, country: string): Promise<PcSku>;
  /** The SKU's availabilities in the customer's country; empty when Microsoft does not sell it there. */
  availabilities(customerTenantId: string, productId: string, skuId: string): Promise<PcAvailability[]>;
  /** `requestId` is stored before the call: a retry after a crash sends it again and gets the same cart. */
  createCart(customerTenantId: string, lines: PcCartLineInput[], requestId: string): Promise<PcCart>;
  /** Idempotent per cart: checking out an Ordered cart again answers the first checkout's orders. */
  checkout(customerTenantId: string, cartId: string): Promise<PcCheckout>;
  getOrder(customerTenantId: string, orderId: string): Promise<PcOrder>;
}

export interface PartnerCenterClient {
  /** The client for one partner's app; `correlationId` is sent as MS-CorrelationId on every call. */
  forPartner(app: MicrosoftApp, correlationId?: string): PartnerCenterApi;
}

const seg = encodeURIComponent;
const str = (v: string | number | undefined) => (v === undefined ? undefined : String(v));

const toOrder = (o: z.output<typeof OrderSchema>): PcOrder => ({
  id: o.id,
  status: (o.status ?? 'pending').toLowerCase(),
  ...(o.creationDate ? { createdAt: o.creationDate } : {}),
  lines: o.lineItems.map((l) => ({
    number: l.lineItemNumber,
    catalogItemId: l.offerId,
    quantity: l.quantity,
    ...(l.subscriptionId ? { subscriptionId: l.subscriptionId } : {}),
    ...(l.termDuration ? { termDuration: l.termDuration } : {}),
  })),
});

const toCart = (c: z.output<typeof CartSchema>): PcCart => ({
  id: c.id,
  status: c.status ?? 'Active',
  lines: c.lineItems.map((l) => ({
    id: l.id,
    catalogItemId: l.catalogItemId,
    quantity: l.quantity,
    ...(l.error ? { error: { code: str(l.error.errorCode), description: l.error.errorDescription } } : {}),
  })),
});

export function createPartnerCenterClient(opts: PartnerCenterClientOptions): PartnerCenterClient {
  const tokens = new TokenSource({
    authorityHost: opts.authorityHost,
    graphBaseUrl: opts.baseUrl,
    scope: PARTNER_CENTER_SCOPE,
    api: 'Partner Center',
    log: opts.log,
    ...(opts.tokenTimeoutMs ? { timeoutMs: opts.tokenTimeoutMs } : {}),
    sources: opts.sources,
  });
  const http = new PartnerCenterHttp({
    baseUrl: opts.baseUrl,
    tokens,
    log: opts.log,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.attempts ? { attempts: opts.attempts } : {}),
    ...(opts.maxWaitMs !== undefined ? { maxWaitMs: opts.maxWaitMs } : {}),
  });

  return {
    forPartner(app, correlationId = randomUUID()) {
      const call = <S extends z.ZodType>(
        operation: string,
        method: 'GET' | 'POST',
        path: string,
        schema: S,
        extra: { body?: unknown; requestId?: string } = {},
      ) => http.call(app, { operation, method, path, correlationId, ...extra }, schema);
      return {
        async getCustomer(tenantId) {
          try {
            const c = await call('getCustomer', 'GET', `customers/${seg(tenantId)}`, CustomerSchema);
            const country = c.billingProfile?.defaultAddress?.country;
            return {
              tenantId: c.id,
              ...(c.companyProfile?.companyName ? { companyName: c.companyProfile.companyName } : {}),
              ...(country ? { country: country.toUpperCase() } : {}),
            };
          } catch (err) {
            if (isPartnerCenterError(err, 'notFound')) return null;
            throw err;
          }
        },
        async resellerInvitationLink() {
          return (await call('resellerInvitationLink', 'GET', 'customers/relationshiprequests', RelationshipRequestSchema)).url;
        },
        async sku(productId, skuId, country) {
          const path = `products/${seg(productId)}/skus/${seg(skuId)}?country=${seg(country)}`;
          const s = await call('sku', 'GET', path, SkuSchema);
          return {
            id: s.id,
            ...(s.title ? { title: s.title } : {}),
            isTrial: s.isTrial ?? false,
            ...(s.minimumQuantity !== undefined ? { minimumQuantity: s.minimumQuantity } : {}),
            ...(s.maximumQuantity !== undefined ? { maximumQuantity: s.maximumQuantity } : {}),
          };
        },
        async availabilities(customerTenantId, productId, skuId) {
          const path = `customers/${seg(customerTenantId)}/products/${seg(productId)}/skus/${seg(skuId)}/availabilities`;
          const list = await call('availabilities', 'GET', path, AvailabilitiesSchema);
          return list.items.map((a) => ({
            id: a.id,
            catalogItemId: a.catalogItemId,
            terms: a.terms.map((t) => ({ duration: t.duration.toUpperCase(), billingCycle: t.billingCycle.toLowerCase() })),
          }));
        },
        async createCart(customerTenantId, lines, requestId) {
          const body = { lineItems: lines };
          return toCart(await call('createCart', 'POST', `customers/${seg(customerTenantId)}/carts`, CartSchema, { body, requestId }));
        },
        async checkout(customerTenantId, cartId) {
          const path = `customers/${seg(customerTenantId)}/carts/${seg(cartId)}/checkout`;
          const result = await call('checkout', 'POST', path, CheckoutResultSchema);
          return {
            orders: (result.orders ?? []).map(toOrder),
            errors: (result.orderErrors ?? []).map((e) => ({
              ...(e.orderGroupId ? { orderGroupId: e.orderGroupId } : {}),
              ...(e.code !== undefined && e.code !== null ? { code: String(e.code) } : {}),
              ...(e.description ? { description: e.description } : {}),
            })),
          };
        },
        async getOrder(customerTenantId, orderId) {
          return toOrder(await call('getOrder', 'GET', `customers/${seg(customerTenantId)}/orders/${seg(orderId)}`, OrderSchema));
        },
      };
    },
  };
}
