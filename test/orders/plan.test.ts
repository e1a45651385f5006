import type { Offer } from '../../src/offers/types';
import type { PartnerCenterApi, PcAvailability } from '../../src/orders/partner-center';
import { partnerCenterTerm, planLines, PlanProblem } from '../../src/orders/plan';
import { backoffMs, customerCheckMs, orderCheckMs } from '../../src/orders/policy';
import { purchaseOffer, trialOffer } from '../support/fixtures';

/** What Partner Center sells here: Business Premium on every new-commerce term in the US, its trial, nothing else. */
const catalog: Record<string, PcAvailability[]> = {
  'CFQ7TTC0LCHC:0002': [
    {
      id: 'CFQ7TTC0K5T9',
      catalogItemId: 'CFQ7TTC0LCHC:0002:CFQ7TTC0K5T9',
      terms: [
        { duration: 'P1M', billingCycle: 'monthly' },
        { duration: 'P1Y', billingCycle: 'monthly' },
        { duration: 'P1Y', billingCycle: 'annual' },
      ],
    },
  ],
  'CFQ7TTC0LCHC:0003': [{ id: 'TRL1', catalogItemId: 'CFQ7TTC0LCHC:0003:TRL1', terms: [{ duration: 'P1M', billingCycle: 'none' }] }],
};
const pc = {
  availabilities: async (_c: string, p: string, s: string) => catalog[`${p}:${s}`] ?? [],
  sku: async () => ({ id: '0003', isTrial: true, minimumQuantity: 25, maximumQuantity: 25 }),
} as unknown as PartnerCenterApi;
const ids: Record<string, { productId: string; skuId: string; trialSkuId?: string }> = {
  'm365-business-premium': { productId: 'CFQ7TTC0LCHC', skuId: '0002', trialSkuId: '0003' },
  'm365-business-basic': { productId: 'CFQ7TTC0LH18', skuId: '0001' },
};
const plan = (offer: Offer) =>
  planLines({ offer, idsOf: (id) => ids[id], termOf: partnerCenterTerm, pc, customerTenantId: 'c', country: 'US' });

const premium = { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', quantity: 25, unitPriceCents: 2200 };

describe('an accepted offer as Partner Center cart lines', () => {
  it('buys each service’s SKU on the offer’s term and billing, at the availability Partner Center sells it', async () => {
    await expect(plan(purchaseOffer({ lines: [premium], term: 'P1Y', billing: 'annual' }))).resolves.toEqual([
      expect.objectContaining({
        catalogItemId: 'CFQ7TTC0LCHC:0002:CFQ7TTC0K5T9',
        quantity: 25,
        termDuration: 'P1Y',
        billingCycle: 'annual',
      }),
    ]);
    await expect(plan(purchaseOffer({ lines: [premium], term: 'P1Y', billing: 'monthly' }))).resolves.toEqual([
      expect.objectContaining({ termDuration: 'P1Y', billingCycle: 'monthly' }),
    ]);
    await expect(plan(purchaseOffer({ lines: [premium], term: 'P1M', billing: 'monthly' }))).resolves.toEqual([
      expect.objectContaining({ termDuration: 'P1M', billingCycle: 'monthly' }),
    ]);
    // An offer made before terms existed: its billing names the term too.
    const { term: _t, ...old } = purchaseOffer({ lines: [premium], billing: 'monthly' });
    await expect(plan(old)).resolves.toEqual([expect.objectContaining({ termDuration: 'P1M', billingCycle: 'monthly' })]);
    // Here Partner Center sells no three-year term of it.
    await expect(plan(purchaseOffer({ lines: [premium], term: 'P3Y', billing: 'annual' }))).rejects.toThrow(
      'does not sell Microsoft 365 Business Premium on a 3-year term, billed annually, in US',
    );
  });

  it('a trial buys the trial SKU, one month billed nothing, with the SKU’s own seat count', async () => {
    const trial = trialOffer({
      lines: [{ serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', trialDays: 30 }],
    });
    await expect(plan(trial)).resolves.toEqual([
      expect.objectContaining({
        skuId: '0003',
        catalogItemId: 'CFQ7TTC0LCHC:0003:TRL1',
        quantity: 25,
        termDuration: 'P1M',
        billingCycle: 'none',
      }),
    ]);
  });

  it('collects every problem for the partner: no ids in the catalog, no trial SKU, not sold in the country', async () => {
    const offer = purchaseOffer({
      term: 'P1Y',
      billing: 'annual',
      lines: [
        premium,
        { serviceId: 'm365-business-basic', serviceName: 'Microsoft 365 Business Basic', quantity: 5, unitPriceCents: 600 },
        { serviceId: 'exchange-online-p1', serviceName: 'Exchange Online (Plan 1)', quantity: 5, unitPriceCents: 400 },
      ],
    });
    const problem = await plan(offer).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(problem).toBeInstanceOf(PlanProblem);
    expect((problem as PlanProblem).lines.map((l) => l.serviceName)).toEqual(['Microsoft 365 Business Basic', 'Exchange Online (Plan 1)']);
    expect((problem as PlanProblem).message).toContain('does not sell Microsoft 365 Business Basic (CFQ7TTC0LH18:0001) in US');
    expect((problem as PlanProblem).message).toContain('no Partner Center product and SKU ids for Exchange Online (Plan 1)');
    const noTrial = trialOffer({
      lines: [{ serviceId: 'm365-business-basic', serviceName: 'Microsoft 365 Business Basic', trialDays: 30 }],
    });
    await expect(plan(noTrial)).rejects.toThrow('names no trial SKU for Microsoft 365 Business Basic');
  });
});

describe('when the fulfilment job looks again', () => {
  const at = new Date('2026-12-01T10:00:00Z');
  const ago = (ms: number) => new Date(at.getTime() - ms).toISOString();
  it('checks for the customer’s acceptance often at first, then less often', () => {
    expect([0, 30 * 60_000, 5 * 3_600_000, 3 * 86_400_000].map((ms) => customerCheckMs({ waitingSince: ago(ms) }, at))).toEqual([
      20_000, 60_000, 600_000, 3_600_000,
    ]);
    expect([0, 3_600_000, 2 * 86_400_000].map((ms) => orderCheckMs({ placedAt: ago(ms) }, at))).toEqual([15_000, 300_000, 3_600_000]);
  });
  it('backs off exponentially from 10 s to 30 minutes with jitter, and never sooner than Retry-After', () => {
    expect([1, 2, 3, 12].map((n) => backoffMs(n, undefined, () => 1))).toEqual([10_000, 20_000, 40_000, 1_800_000]);
    expect(backoffMs(1, undefined, () => 0)).toBe(5_000);
    expect(backoffMs(1, 45_000, () => 1)).toBe(45_000);
  });
});
