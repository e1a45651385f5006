import { readFileSync } from 'node:fs';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import defaultCatalog from './default-catalog.json';

const ServiceSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'ids are lower-case letters, digits and dashes'),
    name: z.string().min(1).max(120),
    trialDays: z.number().int().min(1).max(365),
    minQuantity: z.number().int().min(1),
    maxQuantity: z.number().int().min(1),
    listPriceMonthly: z.number().min(0),
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
  .refine((s) => s.minQuantity <= s.maxQuantity, 'minQuantity must not exceed maxQuantity');

const CatalogSchema = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/),
  services: z.array(ServiceSchema).min(1),
});

export interface Service {
  id: string;
  name: string;
  trialDays: number;
  minQuantity: number;
  maxQuantity: number;
  /** List price per licence per month, in cents: money is counted in integers. */
  priceCentsMonthly: number;
  partnerCenter?: PartnerCenterIds;
}

/** A service's Partner Center ids: what an order or a trial is placed for. */
export interface PartnerCenterIds {
  productId: string;
  skuId: string;
  /** Only where Microsoft offers a trial of the service. */
  trialSkuId?: string;
}

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
    parsed.data.services.map((s) => ({ ...s, priceCentsMonthly: Math.round(s.listPriceMonthly * 100) })),
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
