import { readFileSync } from 'node:fs';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { TERMS } from '../offers/terms';
import type { Term } from '../offers/types';
import defaultCatalog from './default-catalog.json';

/** A list price in the catalog's currency, per licence per month. */
const Price = z.number().min(0).max(1_000_000);

const ServiceSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'ids are lower-case letters, digits and dashes'),
    name: z.string().min(1).max(120),
    trialDays: z.number().int().min(1).max(365),
    minQuantity: z.number().int().min(1),
    maxQuantity: z.number().int().min(1),
    /** Per licence per month, for each term the service is sold on (a 1-month term costs more than a 1-year one). */
    listPrices: z
      .strictObject({ P1M: Price.optional(), P1Y: Price.optional(), P3Y: Price.optional() }, { error: 'terms are P1M, P1Y and P3Y' })
      .refine((p) => Object.values(p).some((v) => v !== undefined), 'needs the price of at least one term: P1M, P1Y or P3Y')
      .optional(),
    /**
     * Catalogs written before terms: one price per licence per month, which the bot then charged for monthly and annual
     * offers alike. It stays exactly that: the price of the 1-month and the 1-year term; no 3-year term.
     */
    listPriceMonthly: Price.optional(),
    partnerCenter: z
      .strictObject({
        productId: z.string().regex(/^[A-Z0-9]{12}$/, 'a Partner Center product id is 12 capital letters and digits, like CFQ7TTC0LCHC'),
        skuId: z.string().regex(/^[A-Z0-9]{4}$/, 'a Partner Center SKU id is 4 capital letters and digits, like 0002'),
        trialSkuId: z
          .string()
          .regex(/^[A-Z0-9]{4}$/, 'a Partner Center SKU id is 4 capital letters and digits, like 0002')
          .optional(),
      })
      .optional(),
  })
  .refine((s) => s.minQuantity <= s.maxQuantity, 'minQuantity must not exceed maxQuantity')
  .refine((s) => (s.listPrices === undefined) !== (s.listPriceMonthly === undefined), {
    error: 'needs its prices: listPrices per term (like { "P1M": 26.4, "P1Y": 22.0 }), or the older listPriceMonthly, not both',
  });

const CatalogSchema = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/),
  services: z.array(ServiceSchema).min(1),
});

/** A service's Partner Center ids: what an order or a trial is placed for. */
export interface PartnerCenterIds {
  productId: string;
  skuId: string;
  /** Only where Microsoft offers a trial of the service. */
  trialSkuId?: string;
}

export interface Service {
  id: string;
  name: string;
  trialDays: number;
  minQuantity: number;
  maxQuantity: number;
  /**
   * List price per licence per month for each term the service is sold on, in cents (money is counted in integers);
   * a term missing here is not sold.
   */
  priceCents: Partial<Record<Term, number>>;
  partnerCenter?: PartnerCenterIds;
}

/** Catalog prices are in currency units; the bot counts cents. */
const cents = (price: number): number => Math.round(price * 100);

export interface Catalog {
  currency: string;
  services: Service[];
  /** By id or display name, case-insensitive. */
  find(idOrName: string): Service | undefined;
  /** Closest services to something that matched nothing, best first. */
  suggest(idOrName: string, max?: number): Service[];
  /** What a person typed, read as an id, a full name, or part of a name. */
  match(typed: string): ServiceMatch;
}

/**
 * `several` lists every service the words fit, in catalog order; `none` carries the closest by spelling, if any
 * are close.
 */
export type ServiceMatch =
  { kind: 'one'; service: Service } | { kind: 'several'; services: Service[] } | { kind: 'none'; closest: Service[] };

/** Words people add to a service's name that the catalog's names may lack ("Microsoft Exchange Online (Plan 1)"). */
const FILLER = new Set(['microsoft', 'ms', 'msft', 'the', 'a', 'an', 'for', 'of', 'licence', 'licences', 'license', 'licenses']);

const wordsOf = (s: string): string[] =>
  s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

/**
 * A service's name read as a person might type part of it: each of its words, and each run of words to the end
 * ("business premium", "premium"), so that a misspelt short name is still close to something.
 */
function keysOf(s: Service): { words: string[]; tails: string[] } {
  const nameWords = wordsOf(s.name);
  const tails = nameWords.slice(1).map((_, i) => nameWords.slice(i + 1).join(' '));
  return { words: [...new Set([...nameWords, ...wordsOf(s.id)])], tails: [s.id, s.name.toLowerCase(), ...tails] };
}

export function loadCatalog(file?: string): Catalog {
  const raw: unknown = file ? JSON.parse(readFileSync(file, 'utf8')) : defaultCatalog;
  const parsed = CatalogSchema.safeParse(raw);
  if (!parsed.success) {
    const where = file ?? 'the built-in catalog';
    throw new Error(
      `Service catalog ${where} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  }
  return createCatalog(
    parsed.data.currency,
    parsed.data.services.map(({ listPrices, listPriceMonthly, partnerCenter, ...s }): Service => {
      const priceCents: Service['priceCents'] = {};
      if (listPrices) for (const t of TERMS) if (listPrices[t] !== undefined) priceCents[t] = cents(listPrices[t]);
      if (listPriceMonthly !== undefined) priceCents.P1M = priceCents.P1Y = cents(listPriceMonthly);
      return { ...s, priceCents, ...(partnerCenter ? { partnerCenter } : {}) };
    }),
  );
}

export function createCatalog(currency: string, services: Service[]): Catalog {
  const byKey = new Map<string, Service>();
  for (const s of services) {
    if (byKey.has(s.id)) throw new Error(`Service catalog lists ${s.id} twice`);
    byKey.set(s.id, s);
    byKey.set(s.name.toLowerCase(), s);
  }
  const keyed = services.map((s) => ({ s, ...keysOf(s) }));
  const find = (key: string) => byKey.get(key.trim().toLowerCase());

  // Every typed word is a word of the name or id, the last one perhaps cut short as people do while typing:
  // "business prem" is Microsoft 365 Business Premium. Cut words elsewhere are typos ("m365-busines-premium"),
  // which get a suggestion rather than a silent guess.
  const fitting = (typed: string[]) => {
    const last = typed.length - 1;
    const fits = (words: string[]) => typed.every((t, i) => words.some((w) => w === t || (i === last && w.startsWith(t))));
    return typed.length === 0 ? [] : keyed.filter((k) => fits(k.words)).map((k) => k.s);
  };

  const suggest = (key: string, max = 2) => {
    const k = key.trim().toLowerCase().replace(/\s+/g, ' ');
    const scored = keyed
      .map(({ s, tails }) => ({ s, d: Math.min(...tails.map((t) => distance(k, t))) }))
      .filter((x) => x.d <= Math.max(1, Math.floor(k.length / 3)))
      .sort((a, b) => a.d - b.d);
    // Only the best matches: one clear typo should not drag in everything vaguely alike.
    const best = scored[0]?.d ?? 0;
    return scored
      .filter((x) => x.d <= best + 1)
      .slice(0, max)
      .map((x) => x.s);
  };

  return {
    currency,
    services,
    find,
    suggest,
    match: (typed) => {
      const exact = find(typed);
      if (exact) return { kind: 'one', service: exact };
      const words = wordsOf(typed);
      let found = fitting(words);
      // "Microsoft" and the like are dropped only when the name as typed fits nothing.
      if (found.length === 0) found = fitting(words.filter((w) => !FILLER.has(w)));
      if (found.length === 1) return { kind: 'one', service: found[0]! };
      if (found.length > 1) return { kind: 'several', services: found };
      return { kind: 'none', closest: suggest(typed) };
    },
  };
}
