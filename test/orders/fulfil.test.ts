import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { MicrosoftApp } from '../../src/directory/microsoft';
import { applyDecision } from '../../src/offers/rules';
import type { Offer } from '../../src/offers/types';
import { createFulfilment, newFulfilment } from '../../src/orders/fulfil';
import {
  PartnerCenterError,
  type PartnerCenterApi,
  type PartnerCenterClient,
  type PcCheckout,
  type PcOrder,
} from '../../src/orders/partner-center';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/types';
import { purchaseOffer } from '../support/fixtures';

/**
 * The fulfilment job's decisions where Partner Center answers what the stand-in cannot be made to answer: a placed
 * order that cannot be read back, a cart gone after a checkout whose answer was lost, a checkout answer that is not
 * what Partner Center documents. A real SQLite store; Partner Center is a scripted client.
 */

const PARTNER = '00000000-0000-0000-0000-0000000000001';
const app: MicrosoftApp = { tenantId: PARTNER, clientId: 'c', credential: { kind: 'secretEnv', name: 'X' }, securityGroups: [] };
const order = (status: string, subscriptionId?: string): PcOrder => ({
  id: 'order-1',
  status,
  createdAt: '2026-11-25T09:00:00.000Z',
  lines: [{ number: 0, catalogItemId: 'CFQ7TTC0LCHC:0002:A', quantity: 25, ...(subscriptionId ? { subscriptionId } : {}) }],
});
const refused = (kind: 'notFound' | 'invalid', status: number) =>
  new PartnerCenterError({ kind }, `Partner Center refused: HTTP ${status}`, { operation: 'x', status });

let dir: string;
let store: Store;
const clock = { now: new Date('2026-11-25T09:00:00.000Z') };

/** Partner Center as a script: the customer exists, Business Premium is sold, and the rest is what the test says. */
function partnerCenter(script: { checkout: () => Promise<PcCheckout>; getOrder?: () => Promise<PcOrder> }) {
  const carts: string[] = [];
  const api = {
    getCustomer: async (tenantId: string) => ({ tenantId, country: 'US' }),
    resellerInvitationLink: async () => 'https://example.test/invite',
    availabilities: async () => [{ id: 'A', catalogItemId: 'CFQ7TTC0LCHC:0002:A', terms: [{ duration: 'P1Y', billingCycle: 'annual' }] }],
    sku: async () => ({ id: '0002', isTrial: false }),
    createCart: async (_c: string, _l: unknown, requestId: string) => {
      carts.push(requestId);
      return { id: `cart-${carts.length}`, status: 'Active', lines: [] };
    },
    checkout: script.checkout,
    getOrder: script.getOrder ?? (async () => order('completed', 'sub-1')),
  } satisfies PartnerCenterApi;
  const client: PartnerCenterClient = { forPartner: () => api };
  return { client, carts };
}

async function acceptedWithJob(): Promise<Offer> {
  const sent = purchaseOffer({
    state: 'sent',
    partnerTenantId: PARTNER,
    lines: [{ serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', quantity: 25, unitPriceCents: 2200 }],
  });
  await store.offers.create(sent, []);
  const accepted = applyDecision(sent, 'accepted', clock.now);
  const response = {
    id: `${sent.id}/offer`,
    subjectKind: 'offer' as const,
    subjectId: sent.id,
    slot: 'offer' as const,
    decision: 'accepted' as const,
    by: { aadObjectId: sent.approver!.aadObjectId, name: sent.approver!.name, tenantId: sent.approver!.tenantId },
    at: clock.now.toISOString(),
    conversationId: 'a:1',
    activityId: '1:1',
    customerTenantId: sent.approver!.tenantId,
  };
  await store.offers.decide(accepted, sent.version, response, [], newFulfilment(accepted, clock.now));
  return accepted;
}

function job(client: PartnerCenterClient) {
  return createFulfilment({
    store,
    partnerCenter: client,
    apps: new Map([[PARTNER, app]]),
    idsOf: () => ({ productId: 'CFQ7TTC0LCHC', skuId: '0002' }),
    termOf: () => ({ termDuration: 'P1Y', billingCycle: 'annual' }),
    clock: () => clock.now,
    log: pino({ level: 'silent' }),
    random: () => 1,
  });
}

const later = (ms: number) => (clock.now = new Date(clock.now.getTime() + ms));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fulfil-'));
  store = openSqliteStore(join(dir, 'store.sqlite'), () => clock.now);
  clock.now = new Date('2026-11-25T09:00:00.000Z');
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the fulfilment job where Partner Center answers the unexpected', () => {
  it('a placed order that cannot be read back stays placed and is read again later: never failed, never a Retry', async () => {
    let reads = 0;
    const { client } = partnerCenter({
      checkout: async () => ({ orders: [order('pending')], errors: [] }),
      getOrder: async () => {
        reads++;
        if (reads === 1) throw refused('notFound', 404);
        return order('completed', 'sub-1');
      },
    });
    const fulfil = job(client);
    const offer = await acceptedWithJob();
    expect(await fulfil.advance(offer.id)).toBe(true);
    expect(await store.fulfilments.get(offer.id)).toMatchObject({ state: 'placed', dueAt: expect.any(String) });
    later(60_000);
    await fulfil.advance(offer.id);
    const f = (await store.fulfilments.get(offer.id))!;
    expect(f).toMatchObject({ state: 'placed', attempts: 1, retrying: { reason: expect.stringContaining('404') } });
    expect(f.failure).toBeUndefined();
    expect((await fulfil.retry(offer.id)).kind).toBe('notFailed');
    later(60 * 60_000);
    await fulfil.advance(offer.id);
    const done = (await store.fulfilments.get(offer.id))!;
    expect(done).toMatchObject({ state: 'placed', attempts: 0, orders: [{ status: 'completed' }] });
    expect(done.retrying).toBeUndefined();
    expect(done.dueAt).toBeUndefined();
    expect((await store.responses.forSubject(offer.id)).map((r) => r.slot)).toEqual(['offer', 'order', 'subscriptions']);
  });

  it('a cart gone after a checkout whose answer was lost is not replaced: the partner checks first, then Retry builds a new cart', async () => {
    let checkouts = 0;
    const { client, carts } = partnerCenter({
      checkout: async () => {
        checkouts++;
        if (checkouts === 1) throw new PartnerCenterError({ kind: 'transient' }, 'no answer within 30 s', { operation: 'checkout' });
        if (checkouts === 2) throw refused('notFound', 404);
        return { orders: [order('completed', 'sub-1')], errors: [] };
      },
    });
    const fulfil = job(client);
    const offer = await acceptedWithJob();
    await fulfil.advance(offer.id);
    expect(await store.fulfilments.get(offer.id)).toMatchObject({
      state: 'ordering',
      cartId: 'cart-1',
      checkoutAttemptedAt: expect.any(String),
    });
    later(8 * 86_400_000);
    await fulfil.advance(offer.id);
    const stopped = (await store.fulfilments.get(offer.id))!;
    expect(stopped).toMatchObject({
      state: 'failed',
      failure: { stage: 'cart', reason: expect.stringContaining('Look in Partner Center for an order') },
    });
    expect(carts).toHaveLength(1);
    expect((await fulfil.retry(offer.id)).kind).toBe('retrying');
    await fulfil.advance(offer.id);
    expect(carts).toHaveLength(2);
    expect(carts[1]).not.toBe(carts[0]);
    expect(await store.fulfilments.get(offer.id)).toMatchObject({ state: 'placed', cartId: 'cart-2' });
  });

  it('a checkout answer that is not what Partner Center documents leaves the outcome unknown: retried, not failed', async () => {
    let checkouts = 0;
    const { client } = partnerCenter({
      checkout: async () => {
        checkouts++;
        if (checkouts === 1) throw refused('invalid', 201);
        return { orders: [order('completed', 'sub-1')], errors: [] };
      },
    });
    const fulfil = job(client);
    const offer = await acceptedWithJob();
    await fulfil.advance(offer.id);
    expect(await store.fulfilments.get(offer.id)).toMatchObject({ state: 'ordering', attempts: 1 });
    later(60_000);
    await fulfil.advance(offer.id);
    expect(await store.fulfilments.get(offer.id)).toMatchObject({ state: 'placed', orders: [{ id: 'order-1' }] });
    expect(checkouts).toBe(2);
  });
});
