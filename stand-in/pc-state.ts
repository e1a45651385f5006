/**
 * What Partner Center knows in the stand-in: which partner resells to which customer (the reseller relationship),
 * the catalog (products → SKUs → availabilities per country, with terms), carts, orders and subscriptions.
 * Shapes and sources: stand-in/README.md and /work/research/partner-center.md; the routes are in partner-center.ts,
 * pc-catalog.ts and pc-commerce.ts.
 */
import { randomBytes } from 'node:crypto';
import type { PartnerCenterProductInput, PartnerCenterSkuInput, PartnerCenterTermInput } from './types';

/** New-commerce license terms: one per allowed (duration, billing cycle) pair (research §3). */
export const DEFAULT_TERMS: PartnerCenterTermInput[] = [
  { duration: 'P1M', billingCycle: 'monthly' },
  { duration: 'P1Y', billingCycle: 'monthly' },
  { duration: 'P1Y', billingCycle: 'annual' },
  { duration: 'P3Y', billingCycle: 'monthly' },
  { duration: 'P3Y', billingCycle: 'annual' },
  { duration: 'P3Y', billingCycle: 'triennial' },
];

/** A new-commerce trial: one month, nothing billed (`billingCycle: none`), research §8. */
export const TRIAL_TERMS: PartnerCenterTermInput[] = [{ duration: 'P1M', billingCycle: 'none' }];

export interface PcTerm {
  id: string;
  duration: string;
  billingCycle: string;
  description: string;
}

export interface PcSku {
  id: string;
  productId: string;
  title: string;
  description: string;
  isTrial: boolean;
  minimumQuantity: number;
  maximumQuantity: number;
  availabilityId: string;
  /** ISO 3166 alpha-2 codes (upper case) where the SKU can be bought. */
  countries: Set<string>;
  terms: PcTerm[];
}

export interface PcProduct {
  id: string;
  title: string;
  description: string;
  skus: Map<string, PcSku>;
}

export interface PcCartLine {
  id: number;
  catalogItemId: string;
  quantity: number;
  billingCycle: string;
  termDuration: string | undefined;
  friendlyName: string | undefined;
  promotionId: string | undefined;
  provisioningContext: Record<string, unknown>;
  renewsTo: unknown;
  participants: unknown;
  currencyCode: string;
  orderGroup: string;
  error: { errorCode: number; errorDescription: string } | undefined;
}

export interface PcCart {
  id: string;
  partnerTenantId: string;
  customerTenantId: string;
  createdMs: number;
  lastModifiedMs: number;
  expiresMs: number;
  lastModifiedUser: string;
  status: 'Active' | 'Ordered';
  attestationAccepted: boolean | undefined;
  lines: PcCartLine[];
  /** The answer of the successful checkout, replayed to every later checkout of the cart (the API is idempotent). */
  checkoutResult: unknown;
  /** How many checkouts of this cart created orders (must stay ≤ 1: the control surface shows it). */
  orderingCheckouts: number;
}

export interface PcOrderLine {
  lineItemNumber: number;
  offerId: string;
  subscriptionId: string;
  friendlyName: string;
  quantity: number;
  termDuration: string | undefined;
}

export interface PcOrder {
  id: string;
  alternateId: string;
  partnerTenantId: string;
  customerTenantId: string;
  cartId: string;
  billingCycle: string;
  currencyCode: string;
  createdMs: number;
  /** Stand-in clock instant when the order turns from `pending` to `completed`. */
  completesMs: number;
  lines: PcOrderLine[];
}

export interface PcSubscription {
  id: string;
  orderId: string;
  partnerTenantId: string;
  customerTenantId: string;
  offerId: string;
  offerName: string;
  friendlyName: string;
  quantity: number;
  billingCycle: string;
  termDuration: string;
  isTrial: boolean;
  createdMs: number;
  etag: string;
}

export interface PcOrderErrorRule {
  code: number;
  description: string;
  remaining: number | 'always';
}

export class PartnerCenterState {
  /** `partner|customer` pairs with a reseller relationship. */
  readonly resellers = new Set<string>();
  readonly products = new Map<string, PcProduct>();
  readonly carts = new Map<string, PcCart>();
  readonly orders = new Map<string, PcOrder>();
  readonly subscriptions = new Map<string, PcSubscription>();
  /** `partner|MS-RequestId|path` → the cart a create-cart request made (a retry with the same MS-RequestId gets it again). */
  readonly createdByRequestId = new Map<string, string>();
  /** Armed by `control.orderErrorOnCheckout`: checkout answers `orderErrors` instead of orders. */
  orderErrors: PcOrderErrorRule[] = [];

  constructor(readonly orderCompletionMs: number) {}

  isReseller(partnerTenantId: string, customerTenantId: string): boolean {
    return this.resellers.has(pairKey(partnerTenantId, customerTenantId));
  }

  addReseller(partnerTenantId: string, customerTenantId: string): void {
    this.resellers.add(pairKey(partnerTenantId, customerTenantId));
  }

  removeReseller(partnerTenantId: string, customerTenantId: string): void {
    this.resellers.delete(pairKey(partnerTenantId, customerTenantId));
  }

  addProduct(input: PartnerCenterProductInput): void {
    if (!input.id || !input.title) throw new Error('A product needs an id and a title');
    const product: PcProduct = {
      id: input.id.toUpperCase(),
      title: input.title,
      description: input.description ?? input.title,
      skus: this.products.get(input.id.toUpperCase())?.skus ?? new Map<string, PcSku>(),
    };
    for (const sku of input.skus ?? []) product.skus.set(sku.id, makeSku(product.id, sku));
    this.products.set(product.id, product);
  }

  sku(productId: string, skuId: string): PcSku | undefined {
    return this.products.get(productId.toUpperCase())?.skus.get(skuId);
  }

  setSkuAvailability(productId: string, skuId: string, country: string, available: boolean): void {
    const sku = this.sku(productId, skuId);
    if (!sku) throw new Error(`No SKU ${productId}/${skuId} in the catalog`);
    if (!/^[A-Za-z]{2}$/.test(country)) throw new Error(`Not an ISO 3166 alpha-2 country: ${country}`);
    if (available) sku.countries.add(country.toUpperCase());
    else sku.countries.delete(country.toUpperCase());
  }
}

export const pairKey = (partner: string, customer: string) => `${partner.toLowerCase()}|${customer.toLowerCase()}`;

function makeSku(productId: string, input: PartnerCenterSkuInput): PcSku {
  if (!input.id || !input.title) throw new Error(`A SKU of ${productId} needs an id and a title`);
  const isTrial = input.isTrial ?? false;
  const terms = input.terms ?? (isTrial ? TRIAL_TERMS : DEFAULT_TERMS);
  return {
    id: input.id,
    productId,
    title: input.title,
    description: input.description ?? input.title,
    isTrial,
    minimumQuantity: input.minimumQuantity ?? (isTrial ? 25 : 1),
    maximumQuantity: input.maximumQuantity ?? (isTrial ? 25 : 300),
    availabilityId: (input.availabilityId ?? `CFQ7TTC0${randomBytes(3).toString('hex').toUpperCase()}`).toUpperCase(),
    countries: new Set((input.countries ?? ['US']).map((c) => c.toUpperCase())),
    terms: terms.map((t, i) => ({
      id: `${t.duration.toLowerCase()}${t.billingCycle.toLowerCase()}${i}`.replace(/[^a-z0-9]/g, ''),
      duration: t.duration,
      billingCycle: t.billingCycle,
      description: t.description ?? termDescription(t.duration, t.billingCycle),
    })),
  };
}

function termDescription(duration: string, billingCycle: string): string {
  const length = duration === 'P1M' ? 'One-Month' : duration === 'P1Y' ? 'One-Year' : duration === 'P3Y' ? 'Three-Year' : duration;
  if (billingCycle.toLowerCase() === 'none') return `${length} trial`;
  return `${length} commitment for ${billingCycle.toLowerCase()} billing`;
}

/** Currency of a market (the few the tests use; everything else bills in USD). */
export function currencyOf(country: string): { code: string; symbol: string } {
  const c = country.toUpperCase();
  if (c === 'GB') return { code: 'GBP', symbol: '£' };
  if (['DE', 'FR', 'NL', 'BE', 'IE', 'ES', 'IT', 'AT', 'FI', 'PT'].includes(c)) return { code: 'EUR', symbol: '€' };
  if (c === 'CA') return { code: 'CAD', symbol: '$' };
  if (c === 'AU') return { code: 'AUD', symbol: '$' };
  if (c === 'JP') return { code: 'JPY', symbol: '¥' };
  return { code: 'USD', symbol: '$' };
}
