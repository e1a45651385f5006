import { findRole } from '../delegation/roles';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Catalog } from './catalog';
import {
  literalSecretMessage,
  literalSecretPaths,
  MicrosoftAppSchema,
  PartnerCenterAppSchema,
  toMicrosoftApp,
  toPartnerCenterApp,
  type MicrosoftApp,
} from './microsoft';

export const PROGRAMS = ['cloud-essentials', 'cloud-accelerate', 'cloud-deployment'] as const;

export const PartnerSchema = z.object({
  tenantId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[0-9a-zA-Z-]+$/, 'must be an Entra tenant id'),
  name: z.string().min(1).max(120),
  programs: z.array(z.enum(PROGRAMS)).default([]),
  authorizedServices: z.array(z.string()).min(1, 'a partner needs at least one authorized service'),
  adminAgents: z.array(z.string()).optional(),
  /**
   * The Entra roles a delegated-admin request asks for when the partner names none (`delegate` without roles, an
   * offer's `with admin`); the least-privileged default set when absent. Checked against the built-in roles at startup.
   */
  defaultAdminRoles: z.array(z.string().trim().min(1)).min(1).optional(),
  /** Office 365 operated by 21Vianet: partner features are not available there. */
  cloud: z.enum(['global', '21vianet']).default('global'),
});

/** A marketplace listing to create for a partner that has none yet (never overwrites one edited in Teams). */
export const ListingSeedSchema = z.object({
  headline: z.string(),
  description: z.string().default(''),
  services: z.array(z.string()),
  expertise: z.array(z.string()).default([]),
  countries: z.array(z.string()),
  languages: z.array(z.string()).default([]),
  contact: z.object({ name: z.string(), email: z.string() }),
  published: z.boolean().default(false),
});
export type ListingSeed = z.infer<typeof ListingSeedSchema>;
export type Partner = z.infer<typeof PartnerSchema>;

/**
 * `microsoft`: the partner's own Entra app for Microsoft Graph (GDAP); `partnerCenter`: its app for the Partner Center
 * API (orders and trials). They stay with the file's entry and are never part of the stored partner record; a partner
 * without one keeps the record-only behaviour for that capability.
 */
const PartnersFileSchema = z.object({
  partners: z.array(
    PartnerSchema.extend({
      listing: ListingSeedSchema.optional(),
      microsoft: MicrosoftAppSchema.optional(),
      partnerCenter: PartnerCenterAppSchema.optional(),
    }),
  ),
});
type PartnerFileEntry = z.infer<typeof PartnersFileSchema>['partners'][number];
export type PartnerEntry = Omit<PartnerFileEntry, 'microsoft' | 'partnerCenter'> & {
  microsoft?: MicrosoftApp;
  partnerCenter?: MicrosoftApp;
};

/**
 * Reads the partner registry seed; every service id must exist in the catalog so a typo fails at startup, and a file
 * that holds a secret itself (not where to read it) is refused.
 */
export function readPartnersFile(file: string, catalog: Catalog): PartnerEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the partners file ${file} (PARTNERS_FILE): ${(err as Error).message}`, { cause: err });
  }
  const secrets = literalSecretPaths(raw);
  if (secrets.length) throw new Error(literalSecretMessage(file, secrets));
  const parsed = PartnersFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`Partners file ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  for (const p of parsed.data.partners) {
    const unknown = p.authorizedServices.filter((id) => !catalog.services.some((s) => s.id === id));
    if (unknown.length) throw new Error(`Partners file ${file}: ${p.name} lists unknown services ${unknown.join(', ')}`);
    const roles = (p.defaultAdminRoles ?? []).filter((name) => !findRole(name));
    if (roles.length)
      throw new Error(`Partners file ${file}: ${p.name} names unknown Entra roles in defaultAdminRoles: ${roles.join(', ')}`);
  }
  return parsed.data.partners.map(({ microsoft, partnerCenter, ...entry }) => {
    // Role names as Entra spells them, so requests and cards show them the same way.
    const named = entry.defaultAdminRoles ? { ...entry, defaultAdminRoles: entry.defaultAdminRoles.map((n) => findRole(n)!.name) } : entry;
    return {
      ...named,
      ...(microsoft ? { microsoft: toMicrosoftApp(entry.tenantId, microsoft) } : {}),
      ...(partnerCenter ? { partnerCenter: toPartnerCenterApp(entry.tenantId, partnerCenter) } : {}),
    };
  });
}

/** The partners that connected their Partner Center app, by partner tenant id. */
export function partnerCenterApps(entries: PartnerEntry[]): Map<string, MicrosoftApp> {
  return new Map(entries.flatMap((e) => (e.partnerCenter ? [[e.tenantId, e.partnerCenter] as const] : [])));
}

/** The partners that connected their Microsoft credentials, by partner tenant id. */
export function microsoftApps(entries: PartnerEntry[]): Map<string, MicrosoftApp> {
  return new Map(entries.flatMap((e) => (e.microsoft ? [[e.tenantId, e.microsoft] as const] : [])));
}
