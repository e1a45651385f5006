import type { MicrosoftApp } from '../../src/directory/microsoft';
import { createPartnerCenterClient, isPartnerCenterError, type PartnerCenterApi } from '../../src/orders/partner-center';
import type { MicrosoftStandIn } from '../../stand-in';
import { capturingLogger } from '../delegation/graph/tiny-server';
import { APP, CUSTOMER, OTHER_CUSTOMER, PARTNER, SECRET, startStandIn } from '../stand-in/support';

/**
 * The Partner Center client against the local stand-in over real HTTP: tokens for Partner Center's scope through
 * msal-node, the customer lookup and the reseller link, availabilities by the customer's country, a cart, its
 * idempotent checkout, and the faults the fulfilment job must survive.
 */

const PREMIUM = {
  id: 'CFQ7TTC0LCHC',
  title: 'Microsoft 365 Business Premium',
  skus: [
    { id: '0002', title: 'Microsoft 365 Business Premium', availabilityId: 'CFQ7TTC0K5T9', countries: ['US'] },
    { id: '0003', title: 'Microsoft 365 Business Premium Trial', isTrial: true, availabilityId: 'CFQ7TTC0TRL1', countries: ['US'] },
  ],
};
const PREMIUM_ITEM = 'CFQ7TTC0LCHC:0002:CFQ7TTC0K5T9';
const line = (over: object = {}) => ({
  id: 0,
  catalogItemId: PREMIUM_ITEM,
  quantity: 25,
  termDuration: 'P1Y',
  billingCycle: 'monthly',
  ...over,
});

const app: MicrosoftApp = {
  tenantId: PARTNER,
  clientId: APP,
  credential: { kind: 'secretEnv', name: 'FABRIKAM_PC_SECRET' },
  securityGroups: [],
};

let ms: MicrosoftStandIn;

function client(opts: { timeoutMs?: number; secret?: string; correlationId?: string } = {}): { pc: PartnerCenterApi; lines: string[] } {
  const { log, lines } = capturingLogger();
  const pc = createPartnerCenterClient({
    authorityHost: ms.url,
    baseUrl: ms.partnerCenterBaseUrl,
    log,
    sources: { env: { FABRIKAM_PC_SECRET: opts.secret ?? SECRET }, readFile: () => '' },
    timeoutMs: opts.timeoutMs ?? 5_000,
    tokenTimeoutMs: 5_000,
  });
  return { pc: pc.forPartner(app, opts.correlationId), lines };
}

const pcRequests = (path?: RegExp) => ms.requests.filter((r) => r.kind === 'partnercenter' && (!path || path.test(r.path)));
const orders = () => ms.control.partnerCenter().orders;

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    if (isPartnerCenterError(err)) return err;
    throw err;
  }
  throw new Error('expected a PartnerCenterError');
}

beforeEach(async () => {
  ms = await startStandIn({
    partnerCenter: { products: [PREMIUM], resellers: [{ partnerTenantId: PARTNER, customerTenantId: CUSTOMER }] },
  });
});
afterEach(() => ms.close());

describe('Partner Center client against the stand-in', () => {
  it('buys through a cart: customer, availability, cart, checkout, order; one token, one correlation id on every call', async () => {
    const { pc, lines } = client({ correlationId: 'c0ffee00-0000-4000-8000-000000000001' });
    await expect(pc.getCustomer(CUSTOMER)).resolves.toEqual({ tenantId: CUSTOMER, companyName: 'Contoso, Ltd', country: 'US' });
    const [availability] = await pc.availabilities(CUSTOMER, 'CFQ7TTC0LCHC', '0002');
    expect(availability!.catalogItemId).toBe(PREMIUM_ITEM);
    expect(availability!.terms).toEqual(
      expect.arrayContaining([
        { duration: 'P1Y', billingCycle: 'monthly' },
        { duration: 'P1M', billingCycle: 'monthly' },
      ]),
    );
    const cart = await pc.createCart(CUSTOMER, [line()], 'a1a1a1a1-0000-4000-8000-000000000001');
    expect(cart).toMatchObject({ status: 'Active', lines: [{ id: 0, catalogItemId: PREMIUM_ITEM, quantity: 25 }] });
    const checkout = await pc.checkout(CUSTOMER, cart.id);
    expect(checkout.errors).toEqual([]);
    expect(checkout.orders).toHaveLength(1);
    const order = await pc.getOrder(CUSTOMER, checkout.orders[0]!.id);
    expect(order).toMatchObject({
      id: checkout.orders[0]!.id,
      status: 'completed',
      lines: [{ catalogItemId: PREMIUM_ITEM, quantity: 25, termDuration: 'P1Y' }],
    });
    expect(order.lines[0]!.subscriptionId).toMatch(/\S/);

    expect(ms.requests.filter((r) => r.kind === 'token')).toHaveLength(1);
    const calls = pcRequests();
    expect(calls.map((r) => r.msCorrelationId)).toEqual(calls.map(() => 'c0ffee00-0000-4000-8000-000000000001'));
    expect(new Set(calls.map((r) => r.msRequestId)).size).toBe(calls.length);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('a customer without a reseller relationship is null until it accepts; the invitation link is the partner’s, delegated admin off', async () => {
    const { pc } = client();
    await expect(pc.getCustomer(OTHER_CUSTOMER)).resolves.toBeNull();
    const link = await pc.resellerInvitationLink();
    expect(link).toContain(PARTNER);
    expect(link).toMatch(/DAP=false/i);
    ms.control.acceptResellerRelationship(PARTNER, OTHER_CUSTOMER);
    await expect(pc.getCustomer(OTHER_CUSTOMER)).resolves.toMatchObject({ tenantId: OTHER_CUSTOMER });
  });

  it('a SKU not sold in the customer’s country has no availability there', async () => {
    ms.control.setSkuAvailability('CFQ7TTC0LCHC', '0002', 'US', false);
    await expect(client().pc.availabilities(CUSTOMER, 'CFQ7TTC0LCHC', '0002')).resolves.toEqual([]);
  });

  it('creating a cart again with the same MS-RequestId gets the same cart (a retry after a crash buys nothing twice)', async () => {
    const { pc } = client();
    const first = await pc.createCart(CUSTOMER, [line()], 'b2b2b2b2-0000-4000-8000-000000000002');
    const again = await pc.createCart(CUSTOMER, [line()], 'b2b2b2b2-0000-4000-8000-000000000002');
    expect(again.id).toBe(first.id);
    expect(ms.control.partnerCenter().carts).toHaveLength(1);
  });

  it('checkout answering 500 once, or 429 with Retry-After, is tried again with the same MS-RequestId, and orders once', async () => {
    const { pc } = client();
    const cart = await pc.createCart(CUSTOMER, [line()], 'c3c3c3c3-0000-4000-8000-000000000003');
    ms.control.checkoutFault({ kind: 'error', status: 500, times: 1 });
    ms.control.checkoutFault({ kind: 'throttle', retryAfterSeconds: 1, times: 1 });
    const started = Date.now();
    const checkout = await pc.checkout(CUSTOMER, cart.id);
    expect(checkout.orders).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const tries = pcRequests(/checkout$/);
    expect(tries.map((r) => r.status)).toEqual([500, 429, 201]);
    expect(new Set(tries.map((r) => r.msRequestId)).size).toBe(1);
    expect(orders()).toHaveLength(1);
  });

  it('a checkout whose answer is lost after Partner Center ordered is checked out again and answers the same order', async () => {
    const { pc } = client({ timeoutMs: 1_000 });
    const cart = await pc.createCart(CUSTOMER, [line()], 'd4d4d4d4-0000-4000-8000-000000000004');
    ms.control.checkoutFault({ kind: 'hang', afterProcessing: true, times: 1 });
    const checkout = await pc.checkout(CUSTOMER, cart.id);
    expect(checkout.orders).toHaveLength(1);
    expect(orders()).toHaveLength(1);
    expect(orders()[0]).toMatchObject({ id: checkout.orders[0]!.id });
  });

  it('what retrying cannot fix is an invalid or unauthorized error with Partner Center’s code and words', async () => {
    const { pc } = client();
    ms.control.setSkuAvailability('CFQ7TTC0LCHC', '0002', 'US', false);
    const cart = await pc.createCart(CUSTOMER, [line()], 'e5e5e5e5-0000-4000-8000-000000000005');
    expect(cart.lines[0]!.error).toMatchObject({ code: '800070' });
    const refused = await failure(pc.checkout(CUSTOMER, cart.id));
    expect(refused).toMatchObject({ kind: 'invalid', details: { status: 400, code: '800009' } });

    ms.control.setSkuAvailability('CFQ7TTC0LCHC', '0002', 'US', true);
    const good = await pc.createCart(CUSTOMER, [line()], 'e5e5e5e5-0000-4000-8000-000000000006');
    ms.control.orderErrorOnCheckout({ code: 900121, description: 'Credit limit exceeded for this partner.' });
    const limited = await pc.checkout(CUSTOMER, good.id);
    expect(limited).toEqual({
      orders: [],
      errors: [expect.objectContaining({ code: '900121', description: 'Credit limit exceeded for this partner.' })],
    });

    const wrong = await failure(client({ secret: 'not-the-secret' }).pc.getCustomer(CUSTOMER));
    expect(wrong.kind).toBe('unauthorized');
    expect(wrong.message).not.toContain('not-the-secret');
  });
});
