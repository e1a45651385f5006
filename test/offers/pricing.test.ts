import { formatMoney } from '../../src/cards/format';
import { loadCatalog } from '../../src/directory/catalog';
import type { Partner } from '../../src/directory/partners';
import { BILLING_MONTHS, licencePeriodCents, lineMonthlyCents, linePeriodCents, offerTotals } from '../../src/offers/pricing';
import { purchaseLines } from '../../src/offers/rules';
import type { Billing, Term } from '../../src/offers/types';
import { purchaseOffer, trialOffer } from '../support/fixtures';

const catalog = loadCatalog();
const partner: Partner = {
  tenantId: 'p1',
  name: 'Fabrikam Cloud Partners',
  programs: ['cloud-essentials'],
  authorizedServices: ['m365-business-premium', 'm365-e3'],
  cloud: 'global',
};
const usd = (cents: number) => formatMoney(cents, 'USD');

/** 25 Microsoft 365 Business Premium and 10 Microsoft 365 E3 on this term, at the default catalog's list prices. */
function offerOn(term: Term, billing: Billing) {
  const cmd = {
    lines: [
      { quantity: 25, service: 'm365-business-premium' },
      { quantity: 10, service: 'm365-e3' },
    ],
    term,
    billing,
  };
  return purchaseOffer({ term, billing, lines: purchaseLines(cmd, catalog, partner, 'ex') });
}

describe('price arithmetic, in whole cents, for every term and billing', () => {
  it.each([
    // term, billing, per licence per period (BP, E3), per line per period (BP, E3), offer per period, per month, whole term
    ['P1M', 'monthly', ['$26.40', '$43.20'], ['$660.00', '$432.00'], '$1,092.00', '$1,092.00', '$1,092.00'],
    ['P1Y', 'monthly', ['$22.00', '$36.00'], ['$550.00', '$360.00'], '$910.00', '$910.00', '$10,920.00'],
    ['P1Y', 'annual', ['$264.00', '$432.00'], ['$6,600.00', '$4,320.00'], '$10,920.00', '$910.00', '$10,920.00'],
    ['P3Y', 'monthly', ['$22.00', '$36.00'], ['$550.00', '$360.00'], '$910.00', '$910.00', '$32,760.00'],
    ['P3Y', 'annual', ['$264.00', '$432.00'], ['$6,600.00', '$4,320.00'], '$10,920.00', '$910.00', '$32,760.00'],
  ] as const)('%s billed %s', (term, billing, perLicence, perLine, perPeriod, perMonth, wholeTerm) => {
    const offer = offerOn(term, billing);
    expect(offer.lines.map((l) => usd(licencePeriodCents(l, billing)))).toEqual(perLicence);
    expect(offer.lines.map((l) => usd(linePeriodCents(l, billing)))).toEqual(perLine);
    const totals = offerTotals(offer)!;
    expect(totals).toMatchObject({ term, billing });
    expect(usd(totals.periodCents)).toBe(perPeriod);
    expect(usd(totals.monthlyCents)).toBe(perMonth);
    expect(usd(totals.termCents)).toBe(wholeTerm);
    for (const cents of [totals.periodCents, totals.monthlyCents, totals.termCents]) expect(Number.isInteger(cents)).toBe(true);
  });

  it('charges month to month 20% over the 1-year term, per the new-commerce list prices', () => {
    const monthToMonth = offerTotals(offerOn('P1M', 'monthly'))!;
    const yearly = offerTotals(offerOn('P1Y', 'monthly'))!;
    expect(monthToMonth.monthlyCents).toBe((yearly.monthlyCents * 12) / 10);
  });

  it('bills annually as 12 months of the monthly price, paid at once', () => {
    expect(BILLING_MONTHS).toEqual({ monthly: 1, annual: 12 });
    const line = { quantity: 3, unitPriceCents: 825 };
    expect(licencePeriodCents(line, 'annual')).toBe(9900);
    expect(linePeriodCents(line, 'annual')).toBe(29_700);
    expect(linePeriodCents(line, 'monthly')).toBe(2475);
    expect(lineMonthlyCents(line)).toBe(2475);
  });

  it('reads an offer stored before terms existed by its billing, and gives a trial no totals', () => {
    const { term: _term, ...stored } = purchaseOffer({ billing: 'annual' });
    expect(offerTotals(stored)).toEqual({ term: 'P1Y', billing: 'annual', periodCents: 708_000, monthlyCents: 59_000, termCents: 708_000 });
    expect(offerTotals({ ...stored, billing: 'monthly' })).toEqual({
      term: 'P1M',
      billing: 'monthly',
      periodCents: 59_000,
      monthlyCents: 59_000,
      termCents: 59_000,
    });
    expect(offerTotals(trialOffer())).toBeUndefined();
  });
});
