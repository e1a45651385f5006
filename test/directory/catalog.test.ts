import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../src/directory/catalog';
import { termsOffered } from '../../src/offers/terms';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'catalog-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A partner's own catalog file with one service, `fields` on top of its id, name and limits. */
function catalogFile(fields: Record<string, unknown>): string {
  const path = join(dir, `catalog-${++n}.json`);
  const service = { id: 'backup-pro', name: 'Backup Pro', trialDays: 14, minQuantity: 1, maxQuantity: 50, ...fields };
  writeFileSync(path, JSON.stringify({ currency: 'EUR', services: [service] }));
  return path;
}

const problem = (fields: Record<string, unknown>): string => {
  try {
    loadCatalog(catalogFile(fields));
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the catalog loaded');
};

describe('the default catalog', () => {
  const catalog = loadCatalog();

  it('prices every service per term in cents: a 1-month term 20% over the 1-year term, a 3-year term at the 1-year price', () => {
    for (const s of catalog.services) {
      expect(s.priceCents.P1Y).toBeGreaterThan(0);
      if (s.priceCents.P1M !== undefined) expect(s.priceCents.P1M).toBe((s.priceCents.P1Y! * 12) / 10);
      if (s.priceCents.P3Y !== undefined) expect(s.priceCents.P3Y).toBe(s.priceCents.P1Y);
    }
    expect(catalog.find('m365-business-premium')?.priceCents).toEqual({ P1M: 2640, P1Y: 2200, P3Y: 2200 });
    expect(catalog.find('m365-apps-business')?.priceCents).toEqual({ P1M: 990, P1Y: 825 });
    expect(termsOffered(catalog.find('copilot-m365')!)).toEqual(['P1Y']);
  });

  it("names every service's Partner Center product and SKU, and a trial SKU only for some", () => {
    for (const s of catalog.services) {
      expect(s.partnerCenter?.productId).toMatch(/^[A-Z0-9]{12}$/);
      expect(s.partnerCenter?.skuId).toMatch(/^[A-Z0-9]{4}$/);
    }
    expect(catalog.find('m365-business-premium')?.partnerCenter).toEqual({ productId: 'CFQ7TTC0LCHC', skuId: '0002', trialSkuId: '0004' });
    expect(catalog.find('exchange-online-p1')?.partnerCenter?.trialSkuId).toBeUndefined();
  });
});

describe("a partner's own catalog file", () => {
  it('takes list prices per term, in the currency, as cents', () => {
    const [s] = loadCatalog(catalogFile({ listPrices: { P1Y: 4.5, P3Y: 4.05 } })).services;
    expect(s!.priceCents).toEqual({ P1Y: 450, P3Y: 405 });
    expect(termsOffered(s!)).toEqual(['P1Y', 'P3Y']);
    expect(s!.partnerCenter).toBeUndefined();
  });

  it('still reads the older listPriceMonthly: the price of the 1-month and the 1-year term alike, and no 3-year term', () => {
    const [s] = loadCatalog(catalogFile({ listPriceMonthly: 8.25 })).services;
    expect(s!.priceCents).toEqual({ P1M: 825, P1Y: 825 });
    expect(termsOffered(s!)).toEqual(['P1M', 'P1Y']);
  });

  it('takes Partner Center ids, a trial SKU optional', () => {
    const [s] = loadCatalog(
      catalogFile({ listPrices: { P1M: 6 }, partnerCenter: { productId: 'CFQ7TTC0ABCD', skuId: '000A', trialSkuId: '0011' } }),
    ).services;
    expect(s!.partnerCenter).toEqual({ productId: 'CFQ7TTC0ABCD', skuId: '000A', trialSkuId: '0011' });
  });

  it.each([
    [{}, 'needs its prices: listPrices per term'],
    [{ listPrices: { P1Y: 4 }, listPriceMonthly: 4 }, 'not both'],
    [{ listPrices: {} }, 'needs the price of at least one term: P1M, P1Y or P3Y'],
    [{ listPrices: { P2Y: 4 } }, 'terms are P1M, P1Y and P3Y'],
    [{ listPrices: { P1Y: -1 } }, 'services.0.listPrices.P1Y'],
    [
      { listPrices: { P1Y: 4 }, partnerCenter: { productId: 'cfq7ttc0lchc', skuId: '0002' } },
      'a Partner Center product id is 12 capital letters',
    ],
    [{ listPrices: { P1Y: 4 }, partnerCenter: { productId: 'CFQ7TTC0LCHC', skuId: '2' } }, 'a Partner Center SKU id is 4 capital letters'],
    [{ listPrices: { P1Y: 4 }, partnerCenter: { productId: 'CFQ7TTC0LCHC' } }, 'services.0.partnerCenter.skuId'],
  ])('refuses %j at startup, saying what is wrong', (fields, message) => {
    const text = problem(fields);
    expect(text).toMatch(/^Service catalog .*catalog-\d+\.json is invalid: /);
    expect(text).toContain(message);
  });
});
