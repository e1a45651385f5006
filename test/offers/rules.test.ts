import { assertPartnerFeaturesAvailable } from '../../src/directory/sovereign';
import { loadCatalog } from '../../src/directory/catalog';
import type { Partner } from '../../src/directory/partners';
import { applyDecision, close, expiryFrom, isExpired, pendingKey, purchaseLines, trialLines } from '../../src/offers/rules';
import { termOf } from '../../src/offers/types';
import { errorOf } from '../support/errors';
import { purchaseOffer, trialOffer } from '../support/fixtures';

const catalog = loadCatalog();
const partner: Partner = {
  tenantId: 'p1',
  name: 'Fabrikam Cloud Partners',
  programs: ['cloud-essentials'],
  authorizedServices: ['m365-business-premium', 'teams-essentials', 'exchange-online-p1', 'copilot-m365'],
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

describe('reading a typed service name against the default catalog', () => {
  const ids = (typed: string) => {
    const m = catalog.match(typed);
    return { kind: m.kind, ids: (m.kind === 'one' ? [m.service] : m.kind === 'several' ? m.services : m.closest).map((s) => s.id) };
  };

  it.each([
    ['m365-business-premium', 'm365-business-premium'],
    ['MICROSOFT 365 BUSINESS PREMIUM', 'm365-business-premium'],
    ['Business Premium', 'm365-business-premium'],
    ['business prem', 'm365-business-premium'],
    ['Business Basic', 'm365-business-basic'],
    ['business standard', 'm365-business-standard'],
    ['Teams Essentials', 'teams-essentials'],
    ['E5', 'm365-e5'],
    ['Microsoft E3', 'm365-e3'],
    ['Exchange Online Plan 2', 'exchange-online-p2'],
    // "Microsoft" is not in these names: dropped because the name as typed fits nothing.
    ['Microsoft Office 365 E3', 'office-365-e3'],
    ['Microsoft SharePoint Plan 1', 'sharepoint-online-p1'],
  ])('reads %j as the one service it fits', (typed, id) => {
    expect(ids(typed)).toEqual({ kind: 'one', ids: [id] });
  });

  it.each([
    [
      'business',
      ['m365-business-basic', 'm365-business-standard', 'm365-business-premium', 'm365-apps-business', 'onedrive-p1', 'defender-business'],
    ],
    ['Premium', ['m365-business-premium', 'teams-premium']],
    ['E3', ['m365-e3', 'office-365-e3']],
    ['teams', ['teams-essentials', 'teams-premium', 'teams-phone-standard']],
    ['exchange online', ['exchange-online-p1', 'exchange-online-p2']],
  ])('gives every service %j fits when it fits several', (typed, candidates) => {
    expect(ids(typed)).toEqual({ kind: 'several', ids: candidates });
  });

  it.each([
    ['Busness Premium', ['m365-business-premium']],
    ['premum', ['m365-business-premium', 'teams-premium']],
    // A word cut short in the middle is a typo, not a guess: only the last word may be unfinished.
    ['m365-busines-premium', ['m365-business-premium']],
    ['dynamics 365', []],
  ])('fits nothing to %j, offering the closest by spelling if any is close', (typed, closest) => {
    expect(ids(typed)).toEqual({ kind: 'none', ids: closest });
  });
});

describe('offer rules', () => {
  it('resolves trial services by id or name with their trial length', () => {
    expect(trialLines({ services: ['Microsoft Teams Essentials', 'm365-business-premium'] }, catalog, partner, 'ex')).toEqual([
      { serviceId: 'teams-essentials', serviceName: 'Microsoft Teams Essentials', trialDays: 30 },
      { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', trialDays: 30 },
    ]);
  });

  it('takes part of a name when it fits one service', () => {
    expect(trialLines({ services: ['Business Premium'] }, catalog, partner, 'ex')).toEqual([
      { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', trialDays: 30 },
    ]);
  });

  it('asks which one when part of a name fits several, listing at most five by name and id', () => {
    const err = errorOf(() => trialLines({ services: ['business'] }, catalog, partner, 'ex'));
    expect(err.title).toBe('Which service?');
    expect(err.message).toBe(
      [
        '"business" fits 6 services. Which one do you mean?',
        '- Microsoft 365 Business Basic: m365-business-basic',
        '- Microsoft 365 Business Standard: m365-business-standard',
        '- Microsoft 365 Business Premium: m365-business-premium',
        '- Microsoft 365 Apps for business: m365-apps-business',
        '- OneDrive for business (Plan 1): onedrive-p1',
        '- and 1 more: type more of the name to narrow it down',
        '',
        'Type its id or its full name, like: trial ‹customer-email› m365-business-basic',
      ].join('\n'),
    );
    const cmd = { lines: [{ quantity: 25, service: 'E3' }], term: 'P1Y' as const, billing: 'annual' as const };
    expect(message(() => purchaseLines(cmd, catalog, partner, 'ex'))).toBe(
      [
        '"E3" fits 2 services. Which one do you mean?',
        '- Microsoft 365 E3: m365-e3',
        '- Office 365 E3: office-365-e3',
        '',
        'Type its id or its full name, like: offer ‹customer-email› 25 m365-e3 annual',
      ].join('\n'),
    );
  });

  it('suggests the closest service for a typo', () => {
    expect(message(() => trialLines({ services: ['teams-esentials'] }, catalog, partner, 'ex'))).toBe(
      'I don\'t know the service "teams-esentials". Did you mean teams-essentials? Use a catalog id or the service\'s full name.',
    );
    expect(message(() => trialLines({ services: ['Busness Premium'] }, catalog, partner, 'ex'))).toBe(
      'I don\'t know the service "Busness Premium". Did you mean m365-business-premium? Use a catalog id or the service\'s full name.',
    );
  });

  it('refuses services the partner is not authorized for, listing what it may offer', () => {
    expect(message(() => trialLines({ services: ['m365-e5'] }, catalog, partner, 'ex'))).toBe(
      'Fabrikam Cloud Partners is not authorized to provide Microsoft 365 E5. You can offer: m365-business-premium, teams-essentials, exchange-online-p1, copilot-m365.',
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
      term: 'P1Y' as const,
      billing: 'annual' as const,
      lines: [{ quantity, service: 'm365-business-premium' }],
    });
    expect(purchaseLines(cmd(300), catalog, partner, 'ex')[0]).toMatchObject({ quantity: 300, unitPriceCents: 2200 });
    expect(message(() => purchaseLines(cmd(301), catalog, partner, 'ex'))).toBe(
      'Microsoft 365 Business Premium is sold in quantities of 1 to 300; you asked for 301.',
    );
  });

  it.each([
    ['P1M', 'monthly', 2640],
    ['P1Y', 'monthly', 2200],
    ['P1Y', 'annual', 2200],
    ['P3Y', 'monthly', 2200],
    ['P3Y', 'annual', 2200],
  ] as const)("prices a line at the catalog's list price for the term (%s, billed %s)", (term, billing, unitPriceCents) => {
    const lines = purchaseLines({ lines: [{ quantity: 25, service: 'm365-business-premium' }], term, billing }, catalog, partner, 'ex');
    expect(lines).toEqual([
      { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', quantity: 25, unitPriceCents },
    ]);
  });

  it('refuses a term the service is not sold on, naming the terms it is, with an example on one of them', () => {
    const copilot = errorOf(() =>
      purchaseLines({ lines: [{ quantity: 5, service: 'copilot-m365' }], term: 'P1M', billing: 'monthly' }, catalog, partner, 'ex'),
    );
    expect(copilot.title).toBe('Term not offered');
    expect(copilot.message).toBe('Microsoft 365 Copilot is not sold on a 1-month term. It is sold on a 1-year term.');
    expect(copilot.example).toBe('offer ‹customer-email› 5 copilot-m365 term 1 year billing monthly');
    const exchange = errorOf(() =>
      purchaseLines(
        {
          lines: [
            { quantity: 25, service: 'm365-business-premium' },
            { quantity: 10, service: 'exchange-online-p1' },
          ],
          term: 'P3Y',
          billing: 'annual',
        },
        catalog,
        partner,
        'ex',
      ),
    );
    expect(exchange.message).toBe('Exchange Online (Plan 1) is not sold on a 3-year term. It is sold on 1-month and 1-year terms.');
    expect(exchange.example).toBe('offer ‹customer-email› 10 exchange-online-p1 annual');
  });

  it('reads the term of an offer stored before terms existed from its billing: monthly a 1-month term, annual a 1-year term', () => {
    const { term: _term, ...stored } = purchaseOffer();
    expect(termOf({ ...stored, billing: 'monthly' })).toBe('P1M');
    expect(termOf({ ...stored, billing: 'annual' })).toBe('P1Y');
    expect(termOf(purchaseOffer({ term: 'P3Y', billing: 'monthly' }))).toBe('P3Y');
    expect(termOf(trialOffer())).toBeUndefined();
  });

  it('keeps the duplicate key of an offer stored before terms existed: the short forms meant those terms', () => {
    const { term: _term, ...annual } = purchaseOffer({ billing: 'annual' });
    expect(pendingKey({ ...annual, term: 'P1Y' })).toBe(pendingKey(annual));
    const monthly = { ...annual, billing: 'monthly' as const };
    expect(pendingKey({ ...monthly, term: 'P1M' })).toBe(pendingKey(monthly));
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
