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
}

export interface Catalog {
  currency: string;
  services: Service[];
  /** By id or display name, case-insensitive. */
  find(idOrName: string): Service | undefined;
  /** Closest ids to something that matched nothing, best first. */
  suggest(idOrName: string, max?: number): Service[];
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
  return {
    currency,
    services,
    find: (key) => byKey.get(key.trim().toLowerCase()),
    suggest: (key, max = 3) => {
      const k = key.trim().toLowerCase();
      const scored = services
        .map((s) => ({ s, d: Math.min(distance(k, s.id), distance(k, s.name.toLowerCase())) }))
        .filter((x) => x.d <= Math.max(2, Math.floor(k.length / 3)))
        .sort((a, b) => a.d - b.d);
      // Only the best matches: one clear typo should not drag in everything vaguely alike.
      const best = scored[0]?.d ?? 0;
      return scored
        .filter((x) => x.d <= best + 1)
        .slice(0, max)
        .map((x) => x.s);
    },
  };
}
