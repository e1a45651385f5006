/**
 * Partner Center's catalog: products → SKUs → availabilities, whose `catalogItemId` (`{product}:{sku}:{availability}`)
 * is what a cart line buys. Pages (learn.microsoft.com/en-us/partner-center/developer/…):
 * - get-a-list-of-products: `GET products?country=&targetView=[&targetSegment=]` (targetView required; new-commerce
 *   items have `productType.id = OnlineServicesNCE`).
 * - get-a-product-by-id: `GET products/{product-id}?country=`; `404 / 400013` product not found.
 * - get-a-list-of-skus-for-a-product, get-a-sku-by-id: `GET products/{id}/skus[/{sku-id}]?country=`; `404 / 400018`.
 * - get-a-list-of-availabilities-for-a-sku, get-an-availability-by-id:
 *   `GET products/{id}/skus/{sku-id}/availabilities[/{availability-id}]?country=`; `404 / 400019`.
 * - get-a-list-of-availabilities-for-a-sku-by-customer: `GET customers/{id}/products/{id}/skus/{sku-id}/availabilities`
 *   (the customer's country; the page's table says POST, its example GET: GET is served).
 * - product-resources: Product, Sku (`isTrial`, `minimumQuantity`, `maximumQuantity`, `supportedBillingCycles`),
 *   Availability (`catalogItemId`, `terms[]` with `duration`, `billingCycle`, `cancellationPolicies`), new-commerce
 *   example of get-an-availability-by-id.
 * A SKU not sold in the asked country has no availability there: the availability list is empty (`totalCount: 0`).
 */
import { link, methodNotAllowed, pcBadRequest, pcNotFound, type PcContext } from './partner-center';
import { currencyOf, type PcProduct, type PcSku } from './pc-state';
import type { Tenant } from './world';

const collection = (items: unknown[], self: string) => ({
  totalCount: items.length,
  items,
  links: { self: link(self) },
  attributes: { objectType: 'Collection' },
});

function country(ctx: PcContext): string {
  const c = ctx.query('country');
  if (!c) throw pcBadRequest(400, "The 'country' query parameter is required.", 'InvalidInput');
  if (!/^[A-Za-z]{2}$/.test(c)) throw pcBadRequest(400, `'${c}' is not an ISO 3166 two-letter country code.`, 'InvalidInput');
  return c.toUpperCase();
}

export function productJson(p: PcProduct, cc: string): Record<string, unknown> {
  return {
    id: p.id,
    title: p.title,
    description: p.description,
    productType: { id: 'OnlineServicesNCE', displayName: 'OnlineServicesNCE' },
    isMicrosoftProduct: true,
    publisherName: 'Microsoft Corporation',
    links: { skus: link(`/products/${p.id}/skus?country=${cc}`), self: link(`/products/${p.id}?country=${cc}`) },
    attributes: { objectType: 'Product' },
  };
}

export function skuJson(s: PcSku, cc: string): Record<string, unknown> {
  return {
    id: s.id,
    productId: s.productId,
    title: s.title,
    description: s.description,
    minimumQuantity: s.minimumQuantity,
    maximumQuantity: s.maximumQuantity,
    isTrial: s.isTrial,
    supportedBillingCycles: [...new Set(s.terms.map((t) => t.billingCycle.toLowerCase()))],
    purchasePrerequisites: [],
    inventoryVariables: [],
    provisioningVariables: [],
    dynamicAttributes: { isAddon: false, prerequisiteSkus: [] },
    links: {
      availabilities: link(`/products/${s.productId}/skus/${s.id}/availabilities?country=${cc}`),
      self: link(`/products/${s.productId}/skus/${s.id}?country=${cc}`),
    },
    attributes: { objectType: 'Sku' },
  };
}

/** get-an-availability-by-id's new-commerce example: one term per (duration, billing cycle). */
export function availabilityJson(p: PcProduct, s: PcSku, cc: string): Record<string, unknown> {
  return {
    id: s.availabilityId,
    productId: p.id,
    skuId: s.id,
    catalogItemId: `${p.id}:${s.id}:${s.availabilityId}`,
    defaultCurrency: currencyOf(cc),
    segment: 'commercial',
    country: cc,
    isPurchasable: true,
    isRenewable: !s.isTrial,
    renewalInstructions: s.isTrial
      ? []
      : [
          {
            applicableTermIds: s.terms.map((t) => t.id),
            renewalOptions: [{ renewToId: `${p.id}:${s.id}`, isAutoRenewable: true }],
          },
        ],
    terms: s.terms.map((t) => ({
      id: t.id,
      duration: t.duration,
      description: t.description,
      billingCycle: t.billingCycle,
      cancellationPolicies: s.isTrial ? [] : [{ refundOptions: [{ sequenceId: 0, type: 'Full', expiresAfter: 'P7D' }] }],
    })),
    product: { id: p.id, title: p.title, productType: { id: 'OnlineServicesNCE', displayName: 'OnlineServicesNCE' } },
    sku: { id: s.id, title: s.title, isTrial: s.isTrial },
    links: { self: link(`/products/${p.id}/skus/${s.id}/availabilities/${s.availabilityId}?country=${cc}`) },
    attributes: { objectType: 'Availability' },
  };
}

function product(ctx: PcContext, id: string): PcProduct {
  const p = ctx.pc.products.get(id.toUpperCase());
  if (!p) throw pcNotFound(400013, `Product with id ${id} not found.`, 'ProductNotFound');
  return p;
}

function sku(p: PcProduct, id: string): PcSku {
  const s = p.skus.get(id);
  if (!s) throw pcNotFound(400018, `Sku with id ${id} not found for product ${p.id}.`, 'SkuNotFound');
  return s;
}

function availabilities(ctx: PcContext, p: PcProduct, s: PcSku, cc: string, rest: string[]): void {
  const here = s.countries.has(cc);
  const segment = ctx.query('targetSegment');
  const inSegment = segment === undefined || segment.toLowerCase() === 'commercial';
  if (rest.length === 0) {
    const items = here && inSegment ? [availabilityJson(p, s, cc)] : [];
    return ctx.send(200, collection(items, `/products/${p.id}/skus/${s.id}/availabilities?country=${cc}`));
  }
  if (rest.length === 1 && here && rest[0]?.toUpperCase() === s.availabilityId) return ctx.send(200, availabilityJson(p, s, cc));
  throw pcNotFound(400019, `Availability with id ${rest[0] ?? ''} not found for ${p.id}/${s.id} in ${cc}.`, 'AvailabilityNotFound');
}

/** `products...` (partner-wide catalog, country from the query). */
export function handleCatalog(ctx: PcContext, segments: string[]): void {
  if (ctx.req.method !== 'GET') throw methodNotAllowed();
  const cc = country(ctx);
  const [productId, skusSegment, skuId, availSegment, ...rest] = segments;
  if (!productId) {
    const view = ctx.query('targetView');
    if (!view) throw pcBadRequest(400, "The 'targetView' query parameter is required.", 'InvalidInput');
    const items = view.toLowerCase() === 'onlineservices' ? [...ctx.pc.products.values()].map((p) => productJson(p, cc)) : [];
    return ctx.send(200, collection(items, `/products?country=${cc}&targetView=${view}`));
  }
  const p = product(ctx, productId);
  if (!skusSegment) return ctx.send(200, productJson(p, cc));
  if (skusSegment.toLowerCase() !== 'skus') throw pcNotFound(1000, `Not found: ${ctx.url.pathname}`);
  if (!skuId)
    return ctx.send(
      200,
      collection(
        [...p.skus.values()].map((s) => skuJson(s, cc)),
        `/products/${p.id}/skus?country=${cc}`,
      ),
    );
  const s = sku(p, skuId);
  if (!availSegment) return ctx.send(200, skuJson(s, cc));
  if (availSegment.toLowerCase() !== 'availabilities') throw pcNotFound(1000, `Not found: ${ctx.url.pathname}`);
  return availabilities(ctx, p, s, cc, rest);
}

/** `customers/{id}/products/{product-id}/skus/{sku-id}/availabilities` (the customer's country). */
export function handleCustomerAvailabilities(ctx: PcContext, customer: Tenant, segments: string[]): void {
  if (ctx.req.method !== 'GET') throw methodNotAllowed();
  const [productId, skusSegment, skuId, availSegment, ...rest] = segments;
  if (!productId || skusSegment?.toLowerCase() !== 'skus' || !skuId || availSegment?.toLowerCase() !== 'availabilities' || rest.length)
    throw pcNotFound(1000, `Not found: ${ctx.url.pathname}`);
  const p = product(ctx, productId);
  return availabilities(ctx, p, sku(p, skuId), customer.country, []);
}
