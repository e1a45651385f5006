/**
 * Partner Center carts, checkout, orders and subscriptions (new commerce, license-based). Pages
 * (learn.microsoft.com/en-us/partner-center/developer/…):
 * - create-a-cart: `POST customers/{id}/carts` → 201 Cart (`lineItems[]`: `id`, `catalogItemId`, `quantity`,
 *   `billingCycle`, `termDuration`, `provisioningContext`, `promotionId`, ...; "Carts expire seven days from the initial
 *   creation"). update-a-cart: `PUT customers/{id}/carts/{cart-id}` → 201 (as its example answers). The SDK's
 *   `customers/{0}/carts/{1}` GET (ICart.Get) is served too.
 * - cart-resources: Cart `status` `Active` | `Ordered`; a line's `error` `{ errorCode, errorDescription }` set after
 *   creation; CartCheckoutResult `{ orders, orderErrors }`; OrderError `{ orderGroupId, code, description }`.
 * - checkout-a-cart: `POST customers/{id}/carts/{cart-id}/checkout` (no body) → 201 CartCheckoutResult. "This API is
 *   idempotent ... If a cart was successfully checked out previously and a subsequent checkout call is made to that
 *   same cart, the API response will reiterate the information returned after initial checkout."
 * - error-codes: 404 800008 "Unable to retrieve cart Id", 400 800009 "Error in Cart item(s)", 400 800065 "Cannot check
 *   out an already submitted cart", 400 800070 "Offer is not available in the specified country", 404 20000 "Order ID
 *   not found", 404 20003 "Subscription with ID {0} not found.", 400 2002 (quantity outside the SKU's limits).
 * - get-an-order-by-id, get-all-of-a-customer-s-orders, order-resources: Order (`status` `pending` | `completed`,
 *   `lineItems[]` with `offerId`, `subscriptionId`, `termDuration`, `transactionType`).
 * - get-a-list-of-subscriptions-by-order (`GET customers/{id}/subscriptions?order_id=`), get-a-subscription-by-id,
 *   subscription-resources: Subscription (new-commerce example of change-the-quantity-of-a-subscription).
 * Trials (research §8): a trial is a SKU with `isTrial: true` bought through the same cart with its own availability
 * (`billingCycle: none`, `termDuration: P1M`); the subscription says `isTrial: true`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DAY_MS } from './clock';
import { newEtag } from './http';
import { link, methodNotAllowed, PcError, pcBadRequest, pcNotFound, type PcContext } from './partner-center';
import { currencyOf, type PcCart, type PcCartLine, type PcOrder, type PcSubscription, type PartnerCenterState } from './pc-state';
import type { Tenant, World } from './world';

const CART_LIFETIME_MS = 7 * DAY_MS;
const iso = (ms: number) => new Date(ms).toISOString();

/** A property by name, any case (Partner Center's samples mix `lineItems` and `ProvisioningContext`). */
function prop(o: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : o[key];
}

const invalid = (description: string) => pcBadRequest(10010, description, 'InvalidInput');

/** Validate a cart body's line items (request errors are 400; catalog problems become the lines' `error`). */
function readLines(ctx: PcContext, customer: Tenant, body: Record<string, unknown>): PcCartLine[] {
  const items = prop(body, 'lineItems');
  if (!Array.isArray(items) || items.length === 0) throw invalid('lineItems must be a non-empty array.');
  const seen = new Set<number>();
  const currency = currencyOf(customer.country).code;
  const lines = items.map((raw: unknown, index): PcCartLine => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`lineItems[${index}] is not an object.`);
    const item = raw as Record<string, unknown>;
    const id = prop(item, 'id') ?? index;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw invalid(`lineItems[${index}].id must be a non-negative integer.`);
    if (seen.has(id)) throw invalid(`lineItems[${index}].id ${id} is used twice.`);
    seen.add(id);
    const catalogItemId = prop(item, 'catalogItemId');
    if (typeof catalogItemId !== 'string' || !catalogItemId.trim()) throw invalid(`lineItems[${index}].catalogItemId is required.`);
    const quantity = prop(item, 'quantity');
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1)
      throw invalid(`lineItems[${index}].quantity must be a positive integer.`);
    const billingCycle = prop(item, 'billingCycle');
    if (typeof billingCycle !== 'string' || !billingCycle) throw invalid(`lineItems[${index}].billingCycle is required.`);
    const termDuration = prop(item, 'termDuration');
    if (termDuration !== undefined && termDuration !== null && typeof termDuration !== 'string')
      throw invalid(`lineItems[${index}].termDuration must be an ISO 8601 duration such as P1Y.`);
    const optionalString = (name: string) => {
      const v = prop(item, name);
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw invalid(`lineItems[${index}].${name} must be a string.`);
      return v;
    };
    const provisioningContext = prop(item, 'provisioningContext');
    return {
      id,
      catalogItemId,
      quantity,
      billingCycle,
      termDuration: typeof termDuration === 'string' ? termDuration : undefined,
      friendlyName: optionalString('friendlyName'),
      promotionId: optionalString('promotionId'),
      provisioningContext:
        provisioningContext && typeof provisioningContext === 'object' ? (provisioningContext as Record<string, unknown>) : {},
      renewsTo: prop(item, 'renewsTo') ?? undefined,
      participants: prop(item, 'participants') ?? undefined,
      currencyCode: currency,
      orderGroup: '0',
      error: undefined,
    };
  });
  checkLines(ctx.pc, customer, lines);
  return lines;
}

/** Each line against the catalog and the customer's country; one order group per billing cycle. */
function checkLines(pc: PartnerCenterState, customer: Tenant, lines: PcCartLine[]): void {
  const groups: string[] = [];
  for (const line of lines) {
    line.error = lineError(pc, customer, line);
    const cycle = line.billingCycle.toLowerCase();
    if (!groups.includes(cycle)) groups.push(cycle);
    line.orderGroup = String(groups.indexOf(cycle));
  }
}

function lineError(pc: PartnerCenterState, customer: Tenant, line: PcCartLine): PcCartLine['error'] {
  const [productId = '', skuId = '', availabilityId = '', extra] = line.catalogItemId.split(':');
  const sku = pc.sku(productId, skuId);
  if (extra !== undefined || !sku || sku.availabilityId !== availabilityId.toUpperCase())
    return { errorCode: 10001, errorDescription: `The catalog item id ${line.catalogItemId} is not valid.` };
  if (!sku.countries.has(customer.country))
    return { errorCode: 800070, errorDescription: `Offer is not available in the specified country (${customer.country}).` };
  if (line.promotionId !== undefined)
    return { errorCode: 10014, errorDescription: `The promotion ${line.promotionId} is not valid for this item.` };
  const term = sku.terms.find((t) => t.duration === line.termDuration && t.billingCycle.toLowerCase() === line.billingCycle.toLowerCase());
  if (!term)
    return {
      errorCode: 10013,
      errorDescription: `The billing plan (term ${line.termDuration ?? 'none given'}, billing ${line.billingCycle}) is not supported. Supported: ${sku.terms
        .map((t) => `${t.duration}/${t.billingCycle.toLowerCase()}`)
        .join(', ')}.`,
    };
  if (line.quantity < sku.minimumQuantity || line.quantity > sku.maximumQuantity)
    return {
      errorCode: 2002,
      errorDescription: `Quantity ${line.quantity} is outside the allowed range ${sku.minimumQuantity}..${sku.maximumQuantity}.`,
    };
  return undefined;
}

export function cartJson(cart: PcCart): Record<string, unknown> {
  return {
    id: cart.id,
    creationTimestamp: iso(cart.createdMs),
    lastModifiedTimestamp: iso(cart.lastModifiedMs),
    expirationTimestamp: iso(cart.expiresMs),
    lastModifiedUser: cart.lastModifiedUser,
    status: cart.status,
    lineItems: cart.lines.map((l) => ({
      id: l.id,
      catalogItemId: l.catalogItemId,
      ...(l.friendlyName === undefined ? {} : { friendlyName: l.friendlyName }),
      quantity: l.quantity,
      currencyCode: l.currencyCode,
      billingCycle: l.billingCycle,
      ...(l.termDuration === undefined ? {} : { termDuration: l.termDuration }),
      provisioningContext: l.provisioningContext,
      ...(l.promotionId === undefined ? {} : { promotionId: l.promotionId }),
      ...(l.renewsTo === undefined ? {} : { renewsTo: l.renewsTo }),
      ...(l.participants === undefined ? {} : { participants: l.participants }),
      orderGroup: l.orderGroup,
      ...(l.error ? { error: l.error } : {}),
    })),
    links: { self: link(`/customers/${cart.customerTenantId}/carts/${cart.id}`) },
    attributes: { objectType: 'Cart' },
  };
}

function findCart(ctx: PcContext, customer: Tenant, id: string): PcCart {
  const cart = ctx.pc.carts.get(id.toLowerCase());
  const gone = () => pcNotFound(800008, 'Unable to retrieve cart Id', 'CartNotFound');
  if (!cart || cart.partnerTenantId !== ctx.partner.tenantId || cart.customerTenantId !== customer.tenantId) throw gone();
  if (cart.status === 'Active' && ctx.world.clock.ms() >= cart.expiresMs) throw gone();
  return cart;
}

/** `customers/{id}/carts[/{cart-id}[/checkout]]` */
export async function handleCarts(ctx: PcContext, customer: Tenant, segments: string[]): Promise<void> {
  const method = ctx.req.method ?? 'GET';
  const [cartId, action, ...rest] = segments;
  if (rest.length) throw pcNotFound(1000, `Not found: ${ctx.url.pathname}`);
  const now = ctx.world.clock.ms();
  if (!cartId) {
    if (method !== 'POST') throw methodNotAllowed();
    // MS-RequestId "is used to ensure id-potency. If there's a timeout, the retry call should include the same value"
    // (headers page): a create retried with the same MS-RequestId gets the cart the first one made.
    const replayKey = ctx.ids.sentRequestId
      ? `${ctx.partner.tenantId}|${customer.tenantId}|${ctx.ids.sentRequestId.toLowerCase()}`
      : undefined;
    const earlier = replayKey ? ctx.pc.carts.get(ctx.pc.createdByRequestId.get(replayKey) ?? '') : undefined;
    const body = await ctx.body();
    if (earlier) return ctx.send(201, cartJson(earlier));
    const attestation = prop(body, 'PartnerOnRecordAttestationAccepted');
    const cart: PcCart = {
      id: randomUUID(),
      partnerTenantId: ctx.partner.tenantId,
      customerTenantId: customer.tenantId,
      createdMs: now,
      lastModifiedMs: now,
      expiresMs: now + CART_LIFETIME_MS,
      lastModifiedUser: ctx.token.clientId,
      status: 'Active',
      attestationAccepted: typeof attestation === 'boolean' ? attestation : undefined,
      lines: readLines(ctx, customer, body),
      checkoutResult: undefined,
      orderingCheckouts: 0,
    };
    ctx.pc.carts.set(cart.id, cart);
    if (replayKey) ctx.pc.createdByRequestId.set(replayKey, cart.id);
    return ctx.send(201, cartJson(cart));
  }
  const cart = findCart(ctx, customer, cartId);
  if (!action) {
    if (method === 'GET') return ctx.send(200, cartJson(cart));
    if (method !== 'PUT') throw methodNotAllowed();
    const body = await ctx.body();
    if (cart.status !== 'Active') throw pcBadRequest(800065, `Cannot update an already submitted cart ${cart.id}.`, 'CartAlreadyOrdered');
    cart.lines = readLines(ctx, customer, body);
    cart.lastModifiedMs = now;
    cart.lastModifiedUser = ctx.token.clientId;
    return ctx.send(201, cartJson(cart));
  }
  if (action.toLowerCase() !== 'checkout') throw pcNotFound(1000, `Not found: ${ctx.url.pathname}`);
  if (method !== 'POST') throw methodNotAllowed();
  return ctx.send(201, checkout(ctx, customer, cart));
}

function checkout(ctx: PcContext, customer: Tenant, cart: PcCart): unknown {
  if (cart.status === 'Ordered') return cart.checkoutResult; // idempotent: the first checkout's answer again
  checkLines(ctx.pc, customer, cart.lines);
  if (cart.lines.some((l) => l.error)) throw pcBadRequest(800009, 'Error in Cart item(s)', 'CartItemError');
  const groups = [...new Set(cart.lines.map((l) => l.orderGroup))];
  const rule = ctx.pc.orderErrors[0];
  if (rule) {
    if (rule.remaining !== 'always' && --rule.remaining <= 0) ctx.pc.orderErrors.shift();
    return { orders: [], orderErrors: groups.map((g) => ({ orderGroupId: g, code: rule.code, description: rule.description })) };
  }
  const now = ctx.world.clock.ms();
  const orders = groups.map((group) => {
    const lines = cart.lines.filter((l) => l.orderGroup === group);
    const order: PcOrder = {
      id: randomBytes(24).toString('base64url'),
      alternateId: randomBytes(6).toString('hex'),
      partnerTenantId: cart.partnerTenantId,
      customerTenantId: cart.customerTenantId,
      cartId: cart.id,
      billingCycle: lines[0]?.billingCycle.toLowerCase() ?? 'monthly',
      currencyCode: lines[0]?.currencyCode ?? 'USD',
      createdMs: now,
      completesMs: now + ctx.pc.orderCompletionMs,
      lines: lines.map((l, i) => {
        const [productId = '', skuId = ''] = l.catalogItemId.split(':');
        const sku = ctx.pc.sku(productId, skuId);
        const sub: PcSubscription = {
          id: randomUUID(),
          orderId: '',
          partnerTenantId: cart.partnerTenantId,
          customerTenantId: cart.customerTenantId,
          offerId: l.catalogItemId,
          offerName: sku?.title ?? l.catalogItemId,
          friendlyName: l.friendlyName ?? sku?.title ?? l.catalogItemId,
          quantity: l.quantity,
          billingCycle: l.billingCycle.toLowerCase(),
          termDuration: l.termDuration ?? 'P1M',
          isTrial: sku?.isTrial ?? false,
          createdMs: now,
          etag: newEtag(),
        };
        ctx.pc.subscriptions.set(sub.id, sub);
        return {
          lineItemNumber: i,
          offerId: l.catalogItemId,
          subscriptionId: sub.id,
          friendlyName: sub.friendlyName,
          quantity: l.quantity,
          termDuration: l.termDuration,
        };
      }),
    };
    for (const l of order.lines) {
      const sub = ctx.pc.subscriptions.get(l.subscriptionId);
      if (sub) sub.orderId = order.id;
    }
    ctx.pc.orders.set(order.id, order);
    return order;
  });
  cart.status = 'Ordered';
  cart.lastModifiedMs = now;
  cart.orderingCheckouts += 1;
  cart.checkoutResult = { orders: orders.map((o) => orderJson(ctx.world, o)), orderErrors: [] };
  return cart.checkoutResult;
}

export function orderJson(world: World, o: PcOrder): Record<string, unknown> {
  const completed = world.clock.ms() >= o.completesMs;
  const self = `/customers/${o.customerTenantId}/orders/${o.id}`;
  return {
    id: o.id,
    alternateId: o.alternateId,
    referenceCustomerId: o.customerTenantId,
    billingCycle: o.billingCycle,
    transactionType: 'UserPurchase',
    currencyCode: o.currencyCode,
    currencySymbol: currencyOf(world.tenant(o.customerTenantId)?.country ?? 'US').symbol,
    lineItems: o.lines.map((l) => ({
      lineItemNumber: l.lineItemNumber,
      offerId: l.offerId,
      // A pending order's lines may lack the subscription id (research §5's checkout sample).
      ...(completed ? { subscriptionId: l.subscriptionId } : {}),
      friendlyName: l.friendlyName,
      quantity: l.quantity,
      ...(l.termDuration === undefined ? {} : { termDuration: l.termDuration }),
      transactionType: 'New',
      links: completed ? { subscription: link(`/customers/${o.customerTenantId}/subscriptions/${l.subscriptionId}`) } : {},
    })),
    creationDate: iso(o.createdMs),
    status: completed ? 'completed' : 'pending',
    links: { self: link(self), provisioningStatus: link(`${self}/provisioningstatus`) },
    attributes: { objectType: 'Order' },
  };
}

/** `customers/{id}/orders[/{order-id}]` */
export function handleOrders(ctx: PcContext, customer: Tenant, segments: string[]): void {
  if (ctx.req.method !== 'GET') throw methodNotAllowed();
  const mine = (o: PcOrder) => o.partnerTenantId === ctx.partner.tenantId && o.customerTenantId === customer.tenantId;
  const [orderId, ...rest] = segments;
  if (!orderId) {
    const items = [...ctx.pc.orders.values()].filter(mine).map((o) => orderJson(ctx.world, o));
    return ctx.send(200, { totalCount: items.length, items, links: {}, attributes: { objectType: 'Collection' } });
  }
  const order = ctx.pc.orders.get(orderId);
  if (!order || !mine(order) || rest.length) throw pcNotFound(20000, 'Order ID not found', 'OrderNotFound');
  return ctx.send(200, orderJson(ctx.world, order));
}

/** Subscription end: start + term − 1 day (the new-commerce example: 2021-01-14 → 2022-01-13T00:00:00Z). */
function commitmentEnd(startMs: number, duration: string): string {
  const m = /^P(\d+)([MY])$/.exec(duration);
  const d = new Date(startMs);
  const months = m ? Number(m[1]) * (m[2] === 'Y' ? 12 : 1) : 1;
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate() - 1);
  return iso(end).replace('.000Z', 'Z');
}

export function subscriptionJson(s: PcSubscription): Record<string, unknown> {
  return {
    id: s.id,
    offerId: s.offerId,
    offerName: s.offerName,
    friendlyName: s.friendlyName,
    productType: { id: 'OnlineServicesNCE', displayName: 'OnlineServicesNCE' },
    quantity: s.quantity,
    unitType: 'Licenses',
    creationDate: iso(s.createdMs),
    effectiveStartDate: iso(s.createdMs),
    commitmentEndDate: commitmentEnd(s.createdMs, s.termDuration),
    status: 'active',
    autoRenewEnabled: !s.isTrial,
    isTrial: s.isTrial,
    billingType: 'license',
    billingCycle: s.billingCycle,
    termDuration: s.termDuration,
    orderId: s.orderId,
    links: { self: link(`/customers/${s.customerTenantId}/subscriptions/${s.id}`) },
    attributes: { etag: s.etag, objectType: 'Subscription' },
  };
}

/** Subscriptions of completed orders only: a pending order has none yet. */
function visibleSubscriptions(ctx: PcContext, customer: Tenant): PcSubscription[] {
  const now = ctx.world.clock.ms();
  return [...ctx.pc.subscriptions.values()].filter((s) => {
    const order = ctx.pc.orders.get(s.orderId);
    return s.partnerTenantId === ctx.partner.tenantId && s.customerTenantId === customer.tenantId && !!order && now >= order.completesMs;
  });
}

/** `customers/{id}/subscriptions[?order_id=]`, `customers/{id}/subscriptions/{subscription-id}` */
export function handleSubscriptions(ctx: PcContext, customer: Tenant, segments: string[]): void {
  if (ctx.req.method !== 'GET') throw methodNotAllowed();
  const [id, ...rest] = segments;
  const visible = visibleSubscriptions(ctx, customer);
  if (!id) {
    const orderId = ctx.query('order_id');
    if (orderId !== undefined) {
      const order = ctx.pc.orders.get(orderId);
      if (!order || order.partnerTenantId !== ctx.partner.tenantId || order.customerTenantId !== customer.tenantId)
        throw pcNotFound(20000, 'Order ID not found', 'OrderNotFound');
    }
    const items = visible.filter((s) => orderId === undefined || s.orderId === orderId).map(subscriptionJson);
    return ctx.send(200, { totalCount: items.length, items, links: {}, attributes: { objectType: 'Collection' } });
  }
  const sub = visible.find((s) => s.id.toLowerCase() === id.toLowerCase());
  if (!sub || rest.length) throw new PcError(404, 20003, `Subscription with ID ${id} not found.`, 'SubscriptionNotFound');
  return ctx.send(200, subscriptionJson(sub));
}
