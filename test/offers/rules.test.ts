import { assertPartnerFeaturesAvailable } from '../../src/directory/sovereign';
import { loadCatalog } from '../../src/directory/catalog';
import type { Partner } from '../../src/directory/partners';
import {
  applyDecision,
  close,
  expiryFrom,
  isExpired,
  lineTotalCents,
  pendingKey,
  purchaseLines,
  totalCents,
  trialLines,
} from '../../src/offers/rules';
import { errorOf } from '../support/errors';
import { purchaseOffer, trialOffer } from '../support/fixtures';

const catalog = loadCatalog();
const partner: Partner = {
  tenantId: 'p1',
  name: 'Fabrikam Cloud Partners',
  programs: ['cloud-essentials'],
  authorizedServices: ['m365-business-premium', 'teams-essentials', 'exchange-online-p1'],
  cloud: 'global',
};
/** The message of the UserInputError `fn` throws. */
const message = (fn: () => unknown): string => errorOf(fn).message;

describe('the default catalog', () => {
  it('covers every service id used in the documentation and examples', () => {
    for (const id of ['m365-business-premium', 'teams-essentials', 'exchange-online-p1', 'm365-e3', 'copilot-m365']) {
      expect(catalog.find(id)?.id).toBe(id);
    }
    expect(catalog.find('microsoft 365 business premium')?.id).toBe('m365-business-premium');
  });
});

describe('offer rules', () => {
  it('resolves trial services by id or name with their trial length', () => {
    expect(trialLines({ services: ['Microsoft Teams Essentials', 'm365-business-premium'] }, catalog, partner, 'ex')).toEqual([
      { serviceId: 'teams-essentials', serviceName: 'Microsoft Teams Essentials', trialDays: 30 },
      { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', trialDays: 30 },
    ]);
  });

  it('suggests the closest service for a typo', () => {
    expect(message(() => trialLines({ services: ['teams-esentials'] }, catalog, partner, 'ex'))).toBe(
      'I don\'t know the service "teams-esentials". Did you mean teams-essentials? Use a catalog id or the service\'s full name.',
    );
  });

  it('refuses services the partner is not authorized for, listing what it may offer', () => {
    expect(message(() => trialLines({ services: ['m365-e5'] }, catalog, partner, 'ex'))).toBe(
      'Fabrikam Cloud Partners is not authorized to provide Microsoft 365 E5. You can offer: m365-business-premium, teams-essentials, exchange-online-p1.',
    );
  });

  it('refuses a service named twice', () => {
    expect(message(() => trialLines({ services: ['teams-essentials', 'Microsoft Teams Essentials'] }, catalog, partner, 'ex'))).toBe(
      'teams-essentials is listed twice. Name each service once.',
    );
  });

  it('keeps purchase quantities within the catalog limits', () => {
    const cmd = (quantity: number) => ({
      kind: 'purchase' as const,
      approverEmail: 'a@b.c',
      billing: 'annual' as const,
      lines: [{ quantity, service: 'm365-business-premium' }],
    });
    expect(purchaseLines(cmd(300), catalog, partner, 'ex')[0]).toMatchObject({ quantity: 300, unitPriceCents: 2200 });
    expect(message(() => purchaseLines(cmd(301), catalog, partner, 'ex'))).toBe(
      'Microsoft 365 Business Premium is sold in quantities of 1 to 300; you asked for 301.',
    );
  });

  it('totals per billing period in whole cents', () => {
    const offer = purchaseOffer();
    expect(lineTotalCents(offer.lines[0]!, 'annual')).toBe(25 * 2200 * 12);
    expect(totalCents(offer.lines, 'annual')).toBe(708_000);
    expect(totalCents(offer.lines, 'monthly')).toBe(59_000);
    expect(totalCents([{ serviceId: 'x', serviceName: 'x', quantity: 3, unitPriceCents: 825 }], 'monthly')).toBe(2475);
  });

  it('gives identical offers the same duplicate key regardless of line order, and different offers different keys', () => {
    const a = purchaseOffer();
    const reordered = { ...a, lines: [...a.lines].reverse() };
    expect(pendingKey(reordered)).toBe(pendingKey(a));
    expect(pendingKey({ ...a, billing: 'monthly' })).not.toBe(pendingKey(a));
    expect(pendingKey({ ...a, approverEmail: 'other@contoso.com' })).not.toBe(pendingKey(a));
    expect(pendingKey({ ...a, lines: [{ ...a.lines[0]!, quantity: 26 }, a.lines[1]!] })).not.toBe(pendingKey(a));
    expect(pendingKey({ ...a, partnerTenantId: 'p2' })).not.toBe(pendingKey(a));
  });

  it('expires offers 30 days after they are sent, at the exact instant', () => {
    const now = new Date('2026-11-25T09:00:00.000Z');
    const offer = trialOffer({ expiresAt: expiryFrom(now) });
    expect(offer.expiresAt).toBe('2026-12-25T09:00:00.000Z');
    expect(isExpired(offer, new Date('2026-12-25T08:59:59.999Z'))).toBe(false);
    expect(isExpired(offer, new Date('2026-12-25T09:00:00.000Z'))).toBe(true);
    expect(isExpired({ ...offer, state: 'accepted' }, new Date('2027-01-01T00:00:00.000Z'))).toBe(false);
  });

  it('records a decision: new state, decision time, trial end, no duplicate key, next version', () => {
    const now = new Date('2026-11-26T10:00:00.000Z');
    const accepted = applyDecision(trialOffer(), 'accepted', now);
    expect(accepted).toMatchObject({
      state: 'accepted',
      decidedAt: now.toISOString(),
      trialEndsAt: '2026-12-26T10:00:00.000Z',
      version: 3,
    });
    expect(accepted.pendingKey).toBeUndefined();
    expect(applyDecision(purchaseOffer(), 'declined', now).trialEndsAt).toBeUndefined();
    expect(close(trialOffer(), 'withdrawn', now)).toMatchObject({ state: 'withdrawn', withdrawnAt: now.toISOString(), version: 3 });
  });

  it('refuses partner features in Office 365 operated by 21Vianet', () => {
    expect(message(() => assertPartnerFeaturesAvailable({ ...partner, cloud: '21vianet' }, []))).toMatch(
      /not available in Office 365 operated by 21Vianet/,
    );
    expect(message(() => assertPartnerFeaturesAvailable(partner, ['p1']))).toMatch(/21Vianet/);
    expect(() => assertPartnerFeaturesAvailable(partner, [])).not.toThrow();
  });
});
