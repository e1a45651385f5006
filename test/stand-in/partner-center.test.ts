import { ConfidentialClientApplication } from '@azure/msal-node';
import type { MicrosoftStandIn, PartnerCenterProductInput } from '../../stand-in';
import {
  APP,
  CUSTOMER,
  expectPcError,
  GRAPH_SCOPE,
  OTHER_APP,
  OTHER_CUSTOMER,
  OTHER_PARTNER,
  PARTNER,
  PC_SCOPE,
  pcClient,
  pcTokenFor,
  SECRET,
  startStandIn,
  tokenFor,
  type PartnerCenter,
} from './support';

const BASIC: PartnerCenterProductInput = {
  id: 'CFQ7TTC0LH18',
  title: 'Microsoft 365 Business Basic',
  skus: [{ id: '0001', title: 'Microsoft 365 Business Basic', availabilityId: 'CFQ7TTC0K971', countries: ['US', 'GB'] }],
};
const PREMIUM: PartnerCenterProductInput = {
  id: 'CFQ7TTC0LCHC',
  title: 'Microsoft 365 Business Premium',
  skus: [
    { id: '0002', title: 'Microsoft 365 Business Premium', availabilityId: 'CFQ7TTC0K5T9', countries: ['US', 'GB'] },
    { id: '0003', title: 'Microsoft 365 Business Premium Trial', isTrial: true, availabilityId: 'CFQ7TTC0TRL1', countries: ['US'] },
  ],
};
const BASIC_ITEM = 'CFQ7TTC0LH18:0001:CFQ7TTC0K971';
const PREMIUM_ITEM = 'CFQ7TTC0LCHC:0002:CFQ7TTC0K5T9';
const TRIAL_ITEM = 'CFQ7TTC0LCHC:0003:CFQ7TTC0TRL1';

const line = (over: Record<string, unknown> = {}) => ({
  id: 0,
  catalogItemId: BASIC_ITEM,
  quantity: 25,
  billingCycle: 'monthly',
  termDuration: 'P1Y',
  ...over,
});

/** Contoso (US) resells through Fabrikam; Litware (GB) has not accepted yet. */
function start(options: Parameters<typeof startStandIn>[0] = {}): Promise<MicrosoftStandIn> {
  return startStandIn({
    customers: [
      { tenantId: CUSTOMER, displayName: 'Contoso, Ltd', defaultDomainName: 'contoso.onmicrosoft.com' },
      { tenantId: OTHER_CUSTOMER, displayName: 'Litware Inc', defaultDomainName: 'litware.onmicrosoft.com', country: 'GB' },
    ],
    partnerCenter: { products: [BASIC, PREMIUM], resellers: [{ partnerTenantId: PARTNER, customerTenantId: CUSTOMER }] },
    ...options,
  });
}

/** The network error behind a fetch that got no answer (TimeoutError for a hang, "other side closed" for a drop). */
async function networkFailure(p: Promise<unknown>): Promise<{ name: string }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err as { name: string },
  );
  if (!e) throw new Error('expected the call to fail without an answer');
  return e;
}

async function cart(pc: PartnerCenter, lines = [line()], customer = CUSTOMER): Promise<string> {
  const created = await pc.post(`customers/${customer}/carts`, { lineItems: lines });
  if (created.status !== 201) throw new Error(`cart: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id as string;
}

describe('Partner Center: token, headers, errors', () => {
  let ms: MicrosoftStandIn;
  beforeAll(async () => {
    ms = await start();
  });
  afterAll(() => ms.close());
  beforeEach(() => ms.control.clearRequests());

  it('msal-node gets a token for Partner Center’s scope, which Partner Center accepts; the log says who called', async () => {
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: APP,
        clientSecret: SECRET,
        authority: `${ms.authorityHost}/${PARTNER}`,
        authorityMetadata: ms.authorityMetadata(PARTNER),
      },
    });
    const token = await app.acquireTokenByClientCredential({ scopes: [PC_SCOPE] });
    const got = await pcClient(ms, token?.accessToken).get(`customers/${CUSTOMER}`);
    expect(got.status).toBe(200);
    expect(ms.requests.map((r) => [r.kind, r.method, r.status, r.tenantId, r.clientId])).toEqual([
      ['token', 'POST', 200, PARTNER, APP],
      ['partnercenter', 'GET', 200, PARTNER, APP],
    ]);
    expect(ms.requests[1]?.path).toBe(`/partnercenter/v1/customers/${CUSTOMER}`);
    expect(JSON.stringify(ms.requests)).not.toContain(token?.accessToken);
  });

  it('401 without a token (800001), with a Graph token (wrong audience) and with an expired one, in Partner Center’s shape', async () => {
    const none = await pcClient(ms, undefined).get(`customers/${CUSTOMER}`);
    expectPcError(none, 401, 800001);
    expect(none.headers.get('www-authenticate')).toMatch(/^OAuth realm=urn:cpsvc:cpid:/);
    const graphToken = await pcClient(ms, await tokenFor(ms)).get(`customers/${CUSTOMER}`);
    expectPcError(graphToken, 401, 400);
    expect(graphToken.body.description).toMatch(/audience/);
    const bogus = await pcClient(ms, 'not-a-token').get(`customers/${CUSTOMER}`);
    expectPcError(bogus, 401, 400);

    const token = await pcTokenFor(ms);
    ms.control.expireTokens();
    const expired = await pcClient(ms, token).get(`customers/${CUSTOMER}`);
    expectPcError(expired, 401, 400);
    expect(expired.body.description).toMatch(/expired/);
  });

  it('Graph refuses a Partner Center token (and Partner Center a Graph one): the audiences stay apart', async () => {
    const res = await fetch(`${ms.graphBaseUrl}/tenantRelationships/delegatedAdminRelationships`, {
      headers: { Authorization: `Bearer ${await pcTokenFor(ms)}` },
    });
    expect(res.status).toBe(401);
    expect(GRAPH_SCOPE).not.toBe(PC_SCOPE);
  });

  it('echoes MS-RequestId and MS-CorrelationId, makes them up when absent, and logs the ones sent', async () => {
    const pc = pcClient(ms, await pcTokenFor(ms));
    const ids = { 'MS-RequestId': 'a8a9a6d4-0d6c-4d35-9e8e-4a1b0c2d3e4f', 'MS-CorrelationId': '02971f0f-1029-47b2-9fdb-1932f0987470' };
    const sent = await pc.get(`customers/${CUSTOMER}`, ids);
    expect(sent.headers.get('ms-requestid')).toBe(ids['MS-RequestId']);
    expect(sent.headers.get('ms-correlationid')).toBe(ids['MS-CorrelationId']);
    const error = await pc.get(`customers/${OTHER_CUSTOMER}`, ids);
    expect(error.headers.get('ms-requestid')).toBe(ids['MS-RequestId']);
    const made = await pc.get(`customers/${CUSTOMER}`);
    expect(made.headers.get('ms-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.headers.get('ms-correlationid')).toMatch(/^[0-9a-f-]{36}$/);
    const logged = ms.requests.filter((r) => r.kind === 'partnercenter');
    expect(logged.map((r) => [r.msRequestId, r.msCorrelationId])).toEqual([
      [ids['MS-RequestId'], ids['MS-CorrelationId']],
      [ids['MS-RequestId'], ids['MS-CorrelationId']],
      [undefined, undefined],
    ]);
  });

  it('unknown routes and methods answer in Partner Center’s shape', async () => {
    const pc = pcClient(ms, await pcTokenFor(ms));
    expectPcError(await pc.get('nothing/here'), 404, 1000);
    expectPcError(await pc.put(`customers/${CUSTOMER}`, {}), 405, 405);
    expectPcError(await pc.get('customers/not-a-guid'), 400, 400);
  });
});

describe('Partner Center: customers and the reseller relationship', () => {
  let ms: MicrosoftStandIn;
  let pc: PartnerCenter;
  beforeAll(async () => {
    ms = await start();
    pc = pcClient(ms, await pcTokenFor(ms));
  });
  afterAll(() => ms.close());

  it('a customer with a reseller relationship: get-a-customer-by-id’s shape, country from its billing profile', async () => {
    const got = await pc.get(`customers/${CUSTOMER}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(
      expect.objectContaining({
        id: CUSTOMER,
        companyProfile: expect.objectContaining({ tenantId: CUSTOMER, domain: 'contoso.onmicrosoft.com', companyName: 'Contoso, Ltd' }),
        billingProfile: expect.objectContaining({ defaultAddress: { country: 'US' } }),
        relationshipToPartner: 'reseller',
        attributes: { objectType: 'Customer' },
      }),
    );
  });

  it('404 (code 1000) until the customer accepts the reseller invitation; then it appears, for that partner only', async () => {
    expectPcError(await pc.get(`customers/${OTHER_CUSTOMER}`), 404, 1000);
    expectPcError(await pc.post(`customers/${OTHER_CUSTOMER}/carts`, { lineItems: [line()] }), 404, 1000);
    const link = await pc.get('customers/relationshiprequests');
    expect(link.status).toBe(200);
    expect(link.body).toEqual({
      url: `https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship&partnerId=${PARTNER}&msppId=0&DAP=false#/BillingAccounts/partner-invitation`,
      attributes: { objectType: 'RelationshipRequest' },
    });
    expect(ms.control.resellerInvitationLink(PARTNER)).toBe(link.body.url);

    const accepted = await fetch(`${ms.url}/_control/partner-center/reseller-relationships`, {
      method: 'POST',
      body: JSON.stringify({ partnerTenantId: PARTNER, customerTenantId: OTHER_CUSTOMER }),
    });
    expect(accepted.status).toBe(200);
    const got = await pc.get(`customers/${OTHER_CUSTOMER}`);
    expect(got.status).toBe(200);
    expect(got.body.billingProfile.defaultAddress.country).toBe('GB');
    const northwind = pcClient(ms, await pcTokenFor(ms, OTHER_PARTNER, OTHER_APP, 'northwind-secret'));
    expectPcError(await northwind.get(`customers/${OTHER_CUSTOMER}`), 404, 1000);

    ms.control.endResellerRelationship(PARTNER, OTHER_CUSTOMER);
    expectPcError(await pc.get(`customers/${OTHER_CUSTOMER}`), 404, 1000);
    expect(() => ms.control.acceptResellerRelationship(PARTNER, OTHER_PARTNER)).toThrow(/not a registered customer/);
  });
});

describe('Partner Center: catalog', () => {
  let ms: MicrosoftStandIn;
  let pc: PartnerCenter;
  beforeAll(async () => {
    ms = await start();
    pc = pcClient(ms, await pcTokenFor(ms));
  });
  afterAll(() => ms.close());

  it('products need country and targetView; new-commerce products come back as OnlineServicesNCE', async () => {
    expectPcError(await pc.get('products?targetView=OnlineServices'), 400, 400);
    expectPcError(await pc.get('products?country=US'), 400, 400);
    expectPcError(await pc.get('products?country=USA&targetView=OnlineServices'), 400, 400);
    const list = await pc.get('products?country=US&targetView=OnlineServices');
    expect(list.status).toBe(200);
    expect(list.body).toEqual(expect.objectContaining({ totalCount: 2, attributes: { objectType: 'Collection' } }));
    expect(list.body.items[0]).toEqual(
      expect.objectContaining({
        id: 'CFQ7TTC0LH18',
        title: 'Microsoft 365 Business Basic',
        productType: { id: 'OnlineServicesNCE', displayName: 'OnlineServicesNCE' },
      }),
    );
    expect((await pc.get('products?country=US&targetView=Azure')).body.totalCount).toBe(0);
    expect((await pc.get('products/CFQ7TTC0LH18?country=US')).body.id).toBe('CFQ7TTC0LH18');
    expectPcError(await pc.get('products/NOPE?country=US'), 404, 400013);
  });

  it('SKUs (with isTrial and quantity limits) and 404 400018', async () => {
    const skus = await pc.get('products/CFQ7TTC0LCHC/skus?country=US');
    expect(skus.body.items.map((s: { id: string; isTrial: boolean }) => [s.id, s.isTrial])).toEqual([
      ['0002', false],
      ['0003', true],
    ]);
    const trial = await pc.get('products/CFQ7TTC0LCHC/skus/0003?country=US');
    expect(trial.body).toEqual(
      expect.objectContaining({
        minimumQuantity: 25,
        maximumQuantity: 25,
        supportedBillingCycles: ['none'],
        attributes: { objectType: 'Sku' },
      }),
    );
    expectPcError(await pc.get('products/CFQ7TTC0LCHC/skus/0009?country=US'), 404, 400018);
  });

  it('availabilities: the catalogItemId and one term per (duration, billing cycle); by id; 404 400019', async () => {
    const list = await pc.get('products/CFQ7TTC0LH18/skus/0001/availabilities?country=US');
    expect(list.body.totalCount).toBe(1);
    const a = list.body.items[0];
    expect(a).toEqual(
      expect.objectContaining({
        id: 'CFQ7TTC0K971',
        productId: 'CFQ7TTC0LH18',
        skuId: '0001',
        catalogItemId: BASIC_ITEM,
        defaultCurrency: { code: 'USD', symbol: '$' },
        country: 'US',
        segment: 'commercial',
        isPurchasable: true,
      }),
    );
    expect(a.terms.map((t: { duration: string; billingCycle: string }) => `${t.duration}/${t.billingCycle}`)).toEqual([
      'P1M/monthly',
      'P1Y/monthly',
      'P1Y/annual',
      'P3Y/monthly',
      'P3Y/annual',
      'P3Y/triennial',
    ]);
    expect(a.terms[0]).toEqual(expect.objectContaining({ id: expect.any(String), description: expect.any(String) }));
    const trial = await pc.get('products/CFQ7TTC0LCHC/skus/0003/availabilities?country=US');
    expect(trial.body.items[0].terms).toEqual([expect.objectContaining({ duration: 'P1M', billingCycle: 'none' })]);
    expect((await pc.get('products/CFQ7TTC0LH18/skus/0001/availabilities/CFQ7TTC0K971?country=US')).body.catalogItemId).toBe(BASIC_ITEM);
    expectPcError(await pc.get('products/CFQ7TTC0LH18/skus/0001/availabilities/XYZ?country=US'), 404, 400019);
    expect((await pc.get('products/CFQ7TTC0LH18/skus/0001/availabilities?country=US&targetSegment=education')).body.totalCount).toBe(0);
  });

  it('customer-scoped availabilities use the customer’s country; "SKU not available in this country" empties them', async () => {
    ms.control.acceptResellerRelationship(PARTNER, OTHER_CUSTOMER);
    const gb = await pc.get(`customers/${OTHER_CUSTOMER}/products/CFQ7TTC0LH18/skus/0001/availabilities`);
    expect(gb.body.items[0]).toEqual(expect.objectContaining({ country: 'GB', defaultCurrency: { code: 'GBP', symbol: '£' } }));
    expect((await pc.get(`customers/${OTHER_CUSTOMER}/products/CFQ7TTC0LCHC/skus/0003/availabilities`)).body.totalCount).toBe(0);

    const off = await fetch(`${ms.url}/_control/partner-center/products/CFQ7TTC0LH18/skus/0001/availability`, {
      method: 'POST',
      body: JSON.stringify({ country: 'GB', available: false }),
    });
    expect(off.status).toBe(200);
    expect((await pc.get(`customers/${OTHER_CUSTOMER}/products/CFQ7TTC0LH18/skus/0001/availabilities`)).body).toEqual(
      expect.objectContaining({ totalCount: 0, items: [] }),
    );
    expect((await pc.get('products/CFQ7TTC0LH18/skus/0001/availabilities?country=US')).body.totalCount).toBe(1);
    // A cart line for it now carries the country error.
    const created = await pc.post(`customers/${OTHER_CUSTOMER}/carts`, { lineItems: [line()] });
    expect(created.body.lineItems[0].error).toEqual({ errorCode: 800070, errorDescription: expect.stringMatching(/country/) });
    ms.control.setSkuAvailability('CFQ7TTC0LH18', '0001', 'GB', true);
    expect((await pc.get(`customers/${OTHER_CUSTOMER}/products/CFQ7TTC0LH18/skus/0001/availabilities`)).body.totalCount).toBe(1);
  });

  it('a product seeded over the control route is sold at once', async () => {
    const added = await fetch(`${ms.url}/_control/partner-center/products`, {
      method: 'POST',
      body: JSON.stringify({
        id: 'CFQ7TTC0LFLZ',
        title: 'Exchange Online (Plan 1)',
        skus: [{ id: '0001', title: 'Exchange Online (Plan 1)', availabilityId: 'CFQ7TTC0LG1F' }],
      }),
    });
    expect(added.status).toBe(200);
    expect((await pc.get('products/CFQ7TTC0LFLZ/skus/0001/availabilities?country=US')).body.items[0].catalogItemId).toBe(
      'CFQ7TTC0LFLZ:0001:CFQ7TTC0LG1F',
    );
  });
});

describe('Partner Center: carts', () => {
  let ms: MicrosoftStandIn;
  let pc: PartnerCenter;
  beforeAll(async () => {
    ms = await start();
    pc = pcClient(ms, await pcTokenFor(ms));
  });
  afterAll(() => ms.close());

  it('creates a cart: 201, create-a-cart’s shape, Active, expiring after seven days', async () => {
    const created = await pc.post(`customers/${CUSTOMER}/carts`, {
      PartnerOnRecordAttestationAccepted: true,
      lineItems: [line({ provisioningContext: {} }), line({ id: 1, catalogItemId: PREMIUM_ITEM, quantity: 3, billingCycle: 'annual' })],
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      creationTimestamp: expect.any(String),
      lastModifiedTimestamp: expect.any(String),
      expirationTimestamp: expect.any(String),
      lastModifiedUser: APP,
      status: 'Active',
      lineItems: [
        {
          id: 0,
          catalogItemId: BASIC_ITEM,
          quantity: 25,
          currencyCode: 'USD',
          billingCycle: 'monthly',
          termDuration: 'P1Y',
          provisioningContext: {},
          orderGroup: '0',
        },
        expect.objectContaining({ id: 1, catalogItemId: PREMIUM_ITEM, billingCycle: 'annual', orderGroup: '1' }),
      ],
      links: { self: { uri: `/customers/${CUSTOMER}/carts/${created.body.id}`, method: 'GET', headers: [] } },
      attributes: { objectType: 'Cart' },
    });
    const days = (Date.parse(created.body.expirationTimestamp) - Date.parse(created.body.creationTimestamp)) / 86_400_000;
    expect(days).toBe(7);
    expect((await pc.get(`customers/${CUSTOMER}/carts/${created.body.id}`)).body).toEqual(created.body);
  });

  it('refuses malformed requests with 400', async () => {
    const url = `customers/${CUSTOMER}/carts`;
    expectPcError(await pc.post(url, 'not json'), 400, 400);
    expectPcError(await pc.post(url, { lineItems: [] }), 400, 10010);
    expectPcError(await pc.post(url, { lineItems: [line({ quantity: 0 })] }), 400, 10010);
    expectPcError(await pc.post(url, { lineItems: [line({ quantity: 2.5 })] }), 400, 10010);
    expectPcError(await pc.post(url, { lineItems: [line(), line()] }), 400, 10010);
    expectPcError(await pc.post(url, { lineItems: [line({ catalogItemId: '' })] }), 400, 10010);
    expectPcError(await pc.post(url, { lineItems: [line({ billingCycle: undefined })] }), 400, 10010);
  });

  it('catalog problems become the lines’ error (cart-resources’ CartError)', async () => {
    const created = await pc.post(`customers/${CUSTOMER}/carts`, {
      lineItems: [
        line({ id: 0, catalogItemId: 'CFQ7TTC0LH18:0001:WRONG' }),
        line({ id: 1, termDuration: 'P1M', billingCycle: 'annual' }),
        line({ id: 2, quantity: 301 }),
        line({ id: 3, catalogItemId: TRIAL_ITEM, quantity: 25, billingCycle: 'none', termDuration: 'P1M', promotionId: 'XYZ' }),
        line({ id: 4, termDuration: 'P3Y', billingCycle: 'triennial' }),
      ],
    });
    expect(created.status).toBe(201);
    expect(created.body.lineItems.map((l: { error?: { errorCode: number } }) => l.error?.errorCode)).toEqual([
      10001,
      10013,
      2002,
      10014,
      undefined,
    ]);
    expect(created.body.lineItems[1].error.errorDescription).toMatch(/P1M\/monthly/);
    const checkout = await pc.post(`customers/${CUSTOMER}/carts/${created.body.id}/checkout`);
    expectPcError(checkout, 400, 800009);
    expect(ms.control.partnerCenter().orders).toEqual([]);
  });

  it('PUT replaces the lines (201, as update-a-cart answers); unknown carts are 404 800008', async () => {
    const id = await cart(pc);
    const updated = await pc.put(`customers/${CUSTOMER}/carts/${id}`, { id, lineItems: [line({ quantity: 30, billingCycle: 'annual' })] });
    expect(updated.status).toBe(201);
    expect(updated.body.lineItems[0]).toEqual(expect.objectContaining({ quantity: 30, billingCycle: 'annual' }));
    expect((await pc.get(`customers/${CUSTOMER}/carts/${id}`)).body.lineItems[0].quantity).toBe(30);
    expectPcError(await pc.get(`customers/${CUSTOMER}/carts/3e22b548-647d-4223-9675-1fcb6cb57665`), 404, 800008);
    const northwind = pcClient(ms, await pcTokenFor(ms, OTHER_PARTNER, OTHER_APP, 'northwind-secret'));
    ms.control.acceptResellerRelationship(OTHER_PARTNER, CUSTOMER);
    expectPcError(await northwind.get(`customers/${CUSTOMER}/carts/${id}`), 404, 800008);
  });

  it('a create retried with the same MS-RequestId gets the same cart, not a second one', async () => {
    const before = ms.control.partnerCenter().carts.length;
    const headers = { 'MS-RequestId': '1d6c7f31-8f4e-4b8a-9f3c-2a0e5b4c6d7e' };
    const first = await pc.post(`customers/${CUSTOMER}/carts`, { lineItems: [line()] }, headers);
    const again = await pc.post(`customers/${CUSTOMER}/carts`, { lineItems: [line()] }, headers);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    const fresh = await pc.post(`customers/${CUSTOMER}/carts`, { lineItems: [line()] });
    expect(fresh.body.id).not.toBe(first.body.id);
    expect(ms.control.partnerCenter().carts.length).toBe(before + 2);
  });

  it('an Active cart expires seven days after creation (404 800008); an ordered one can’t be changed (400 800065)', async () => {
    const ordered = await cart(pc);
    expect((await pc.post(`customers/${CUSTOMER}/carts/${ordered}/checkout`)).status).toBe(201);
    expectPcError(await pc.put(`customers/${CUSTOMER}/carts/${ordered}`, { lineItems: [line()] }), 400, 800065);
    const id = await cart(pc);
    ms.control.clock.advance('P6D');
    expect((await pc.get(`customers/${CUSTOMER}/carts/${id}`)).status).toBe(200);
    ms.control.clock.advance('P1D');
    expectPcError(await pc.get(`customers/${CUSTOMER}/carts/${id}`), 404, 800008);
    expectPcError(await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`), 404, 800008);
    expect((await pc.post(`customers/${CUSTOMER}/carts/${ordered}/checkout`)).status).toBe(201);
  });
});

describe('Partner Center: checkout, orders, subscriptions', () => {
  let ms: MicrosoftStandIn;
  let pc: PartnerCenter;
  beforeAll(async () => {
    ms = await start();
    pc = pcClient(ms, await pcTokenFor(ms));
  });
  afterAll(() => ms.close());
  beforeEach(() => ms.control.clearFaults());

  it('checkout: 201 with one order per order group; a second checkout reiterates the same answer, never a second order', async () => {
    const id = await cart(pc, [line(), line({ id: 1, catalogItemId: PREMIUM_ITEM, quantity: 5, billingCycle: 'annual' })]);
    const first = await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`);
    expect(first.status).toBe(201);
    expect(first.body.orderErrors).toEqual([]);
    expect(first.body.orders).toHaveLength(2);
    const [monthly, annual] = first.body.orders;
    expect(monthly).toEqual(
      expect.objectContaining({
        id: expect.any(String),
        referenceCustomerId: CUSTOMER,
        billingCycle: 'monthly',
        currencyCode: 'USD',
        status: 'completed',
        transactionType: 'UserPurchase',
        attributes: { objectType: 'Order' },
        lineItems: [
          expect.objectContaining({
            lineItemNumber: 0,
            offerId: BASIC_ITEM,
            subscriptionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
            quantity: 25,
            termDuration: 'P1Y',
            friendlyName: 'Microsoft 365 Business Basic',
          }),
        ],
      }),
    );
    expect(annual.billingCycle).toBe('annual');
    const again = await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect((await pc.get(`customers/${CUSTOMER}/carts/${id}`)).body.status).toBe('Ordered');
    const snap = ms.control.partnerCenter();
    expect(snap.orders).toHaveLength(2);
    expect(snap.carts.find((c) => c.id === id)?.orderingCheckouts).toBe(1);
  });

  it('orders by id and list; subscriptions by order (order_id) and by id; 404 20000 / 20003', async () => {
    const id = await cart(pc, [line({ quantity: 10, termDuration: 'P1M' })]);
    const order = (await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`)).body.orders[0];
    const got = await pc.get(`customers/${CUSTOMER}/orders/${order.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(order);
    const list = await pc.get(`customers/${CUSTOMER}/orders`);
    expect(list.body.items.map((o: { id: string }) => o.id)).toContain(order.id);
    expectPcError(await pc.get(`customers/${CUSTOMER}/orders/nope`), 404, 20000);

    const subs = await pc.get(`customers/${CUSTOMER}/subscriptions?order_id=${order.id}`);
    expect(subs.status).toBe(200);
    expect(subs.body.totalCount).toBe(1);
    const sub = subs.body.items[0];
    expect(sub).toEqual(
      expect.objectContaining({
        id: order.lineItems[0].subscriptionId,
        offerId: BASIC_ITEM,
        quantity: 10,
        unitType: 'Licenses',
        status: 'active',
        isTrial: false,
        autoRenewEnabled: true,
        billingType: 'license',
        billingCycle: 'monthly',
        termDuration: 'P1M',
        orderId: order.id,
        attributes: { etag: expect.any(String), objectType: 'Subscription' },
      }),
    );
    const start = new Date(sub.effectiveStartDate);
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate() - 1));
    expect(sub.commitmentEndDate).toBe(end.toISOString().replace('.000Z', 'Z'));
    expect((await pc.get(`customers/${CUSTOMER}/subscriptions/${sub.id}`)).body).toEqual(sub);
    expectPcError(await pc.get(`customers/${CUSTOMER}/subscriptions/4d3cf487-70a5-4419-b4a9-ef5b8a9e9e2b`), 404, 20003);
    expectPcError(await pc.get(`customers/${CUSTOMER}/subscriptions?order_id=nope`), 404, 20000);
    expect((await pc.get(`customers/${CUSTOMER}/subscriptions`)).body.totalCount).toBeGreaterThanOrEqual(1);
  });

  it('a trial: the trial SKU’s availability (P1M, billing none) in a cart gives a subscription with isTrial', async () => {
    const avail = (await pc.get(`customers/${CUSTOMER}/products/CFQ7TTC0LCHC/skus/0003/availabilities`)).body.items[0];
    const term = avail.terms[0];
    const id = await cart(pc, [
      line({ catalogItemId: avail.catalogItemId, quantity: 25, termDuration: term.duration, billingCycle: term.billingCycle }),
    ]);
    const order = (await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`)).body.orders[0];
    expect(order.billingCycle).toBe('none');
    const sub = (await pc.get(`customers/${CUSTOMER}/subscriptions?order_id=${order.id}`)).body.items[0];
    expect(sub).toEqual(expect.objectContaining({ offerId: TRIAL_ITEM, isTrial: true, autoRenewEnabled: false, quantity: 25 }));
  });

  it('checkout answers 500 once, then succeeds: exactly one order', async () => {
    const before = ms.control.partnerCenter().orders.length;
    const id = await cart(pc);
    ms.control.checkoutFault({ kind: 'error', status: 500 });
    const failed = await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`);
    expectPcError(failed, 500, 500);
    expect(failed.headers.get('ms-requestid')).toBeTruthy();
    expect((await pc.get(`customers/${CUSTOMER}/carts/${id}`)).body.status).toBe('Active');
    const ok = await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`);
    expect(ok.status).toBe(201);
    expect(ms.control.partnerCenter().orders.length).toBe(before + 1);
  });

  it('429 with Retry-After in api-throttling-guidance’s shape; the retry keeps its MS-RequestId in the log', async () => {
    const id = await cart(pc);
    ms.control.checkoutFault({ kind: 'throttle', retryAfterSeconds: 57 });
    ms.control.clearRequests();
    const headers = { 'MS-RequestId': '7b1f7c1e-5a43-4e5b-a6f5-3f9c2e1d0a11', 'MS-CorrelationId': '9c3b1a2d-4e5f-4a6b-8c7d-0e1f2a3b4c5d' };
    const throttled = await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`, undefined, headers);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('57');
    expect(throttled.body).toEqual({ statusCode: 429, message: 'Rate limit is exceeded. Try again in 57 seconds.' });
    expect(throttled.headers.get('ms-correlationid')).toBe(headers['MS-CorrelationId']);
    expect((await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`, undefined, headers)).status).toBe(201);
    expect(ms.requests.map((r) => [r.status, r.fault, r.msRequestId])).toEqual([
      [429, 'throttle', headers['MS-RequestId']],
      [201, undefined, headers['MS-RequestId']],
    ]);
  });

  it('the call times out after checkout succeeded on the server: the retry gets the same order', async () => {
    const before = ms.control.partnerCenter().orders.length;
    const id = await cart(pc);
    ms.control.checkoutFault({ kind: 'hang', afterProcessing: true });
    const lost = await networkFailure(pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`, undefined, {}, AbortSignal.timeout(300)));
    expect(lost.name).toBe('TimeoutError');
    expect((await pc.get(`customers/${CUSTOMER}/carts/${id}`)).body.status).toBe('Ordered');
    const retry = await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`);
    expect(retry.status).toBe(201);
    const snap = ms.control.partnerCenter();
    expect(snap.orders.length).toBe(before + 1);
    expect(retry.body.orders[0].id).toBe(snap.orders[snap.orders.length - 1]?.id);
    expect(snap.carts.find((c) => c.id === id)?.orderingCheckouts).toBe(1);
  });

  it('the connection drops after checkout succeeded (over the control route): the retry gets the same order', async () => {
    const id = await cart(pc);
    const armed = await fetch(`${ms.url}/_control/partner-center/checkout-fault`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'drop', afterProcessing: true }),
    });
    expect(armed.status).toBe(200);
    expect((await armed.json()) as unknown).toEqual(expect.objectContaining({ target: 'partnercenter', remaining: 1 }));
    await networkFailure(pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`));
    const first = ms.control.partnerCenter().orders.length;
    const retry = await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`);
    expect(retry.status).toBe(201);
    expect(ms.control.partnerCenter().orders.length).toBe(first);
    expect(
      ms.requests
        .filter((r) => r.kind === 'partnercenter')
        .slice(-2)
        .map((r) => r.status),
    ).toEqual(['drop', 201]);
  });

  it('a hang before processing (no afterProcessing) orders nothing; a general fault target hits carts too', async () => {
    const before = ms.control.partnerCenter().orders.length;
    const id = await cart(pc);
    ms.control.checkoutFault({ kind: 'hang' });
    await networkFailure(pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`, undefined, {}, AbortSignal.timeout(200)));
    expect((await pc.get(`customers/${CUSTOMER}/carts/${id}`)).body.status).toBe('Active');
    expect(ms.control.partnerCenter().orders.length).toBe(before);
    ms.control.fault({ kind: 'error', target: 'partnercenter', method: 'POST', path: '/carts' });
    expectPcError(await pc.post(`customers/${CUSTOMER}/carts`, { lineItems: [line()] }), 503, 503);
    ms.control.fault({ kind: 'reset', target: 'partnercenter' });
    await networkFailure(pc.get(`customers/${CUSTOMER}`));
    expect((await pc.get(`customers/${CUSTOMER}`)).status).toBe(200);
  });

  it('orderErrors (e.g. credit limit): no order, the cart stays Active, a later checkout succeeds', async () => {
    const id = await cart(pc);
    const armed = await fetch(`${ms.url}/_control/partner-center/order-errors`, {
      method: 'POST',
      body: JSON.stringify({ code: 900121, description: 'Insufficient credit limit.' }),
    });
    expect(armed.status).toBe(200);
    const refused = await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`);
    expect(refused.status).toBe(201);
    expect(refused.body).toEqual({
      orders: [],
      orderErrors: [{ orderGroupId: '0', code: 900121, description: 'Insufficient credit limit.' }],
    });
    expect((await pc.get(`customers/${CUSTOMER}/carts/${id}`)).body.status).toBe('Active');
    const ok = await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`);
    expect(ok.body.orders).toHaveLength(1);

    ms.control.orderErrorOnCheckout({ code: 2091, description: 'Offer no longer available.', times: 'always' });
    const other = await cart(pc);
    expect((await pc.post(`customers/${CUSTOMER}/carts/${other}/checkout`)).body.orderErrors).toHaveLength(1);
    expect((await pc.post(`customers/${CUSTOMER}/carts/${other}/checkout`)).body.orderErrors).toHaveLength(1);
    ms.control.clearOrderErrors();
    expect((await pc.post(`customers/${CUSTOMER}/carts/${other}/checkout`)).body.orders).toHaveLength(1);
  });
});

describe('Partner Center: orders that take time', () => {
  let ms: MicrosoftStandIn;
  afterAll(() => ms.close());

  it('with orderCompletionMs, an order is pending (no subscription ids, no subscriptions) until the clock passes it', async () => {
    ms = await start({
      freezeClock: true,
      partnerCenter: {
        products: [BASIC],
        resellers: [{ partnerTenantId: PARTNER, customerTenantId: CUSTOMER }],
        orderCompletionMs: 60_000,
      },
    });
    const pc = pcClient(ms, await pcTokenFor(ms));
    const id = await cart(pc);
    const order = (await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`)).body.orders[0];
    expect(order.status).toBe('pending');
    expect(order.lineItems[0].subscriptionId).toBeUndefined();
    expect((await pc.get(`customers/${CUSTOMER}/subscriptions?order_id=${order.id}`)).body.totalCount).toBe(0);
    await fetch(`${ms.url}/_control/clock`, { method: 'POST', body: JSON.stringify({ advance: 'PT1M' }) });
    const done = await pc.get(`customers/${CUSTOMER}/orders/${order.id}`);
    expect(done.body.status).toBe('completed');
    expect(done.body.lineItems[0].subscriptionId).toEqual(expect.any(String));
    expect((await pc.get(`customers/${CUSTOMER}/subscriptions?order_id=${order.id}`)).body.totalCount).toBe(1);
    // The checkout's own answer is replayed as it was first given (pending), as the docs say it reiterates it.
    expect((await pc.post(`customers/${CUSTOMER}/carts/${id}/checkout`)).body.orders[0].status).toBe('pending');
    const state = (await (await fetch(`${ms.url}/_control/state`)).json()) as { partnerCenter: { orders: unknown[] } };
    expect(state.partnerCenter.orders).toHaveLength(1);
    const snap = (await (await fetch(`${ms.url}/_control/partner-center`)).json()) as { carts: { status: string }[] };
    expect(snap.carts.map((c) => c.status)).toEqual(['Ordered']);
  });
});
