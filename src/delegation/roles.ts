import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import rolesFile from './entra-roles.json';

export const EntraRoleSchema = z.object({
  /** The role template id Microsoft Graph uses for this built-in role. */
  id: z.guid(),
  name: z.string().min(1),
  /** One plain-language sentence a customer admin can judge the request by. */
  allows: z.string().min(1),
});
export type EntraRole = z.infer<typeof EntraRoleSchema>;

/** The list says where it comes from and when, so whoever refreshes it can diff against the same page. */
export const EntraRolesFileSchema = z.object({
  source: z.url(),
  retrieved: z.iso.date(),
  note: z.string().min(1),
  roles: z.array(EntraRoleSchema).min(1),
});

/** Parsed once: a broken list must fail at startup, not when a partner first types a role. */
export const ENTRA_ROLES: readonly EntraRole[] = EntraRolesFileSchema.parse(rolesFile).roles;

export const GLOBAL_ADMINISTRATOR = 'Global Administrator';

const byName = new Map(ENTRA_ROLES.map((r) => [r.name.toLowerCase(), r]));

export const findRole = (name: string): EntraRole | undefined => byName.get(name.trim().replace(/\s+/g, ' ').toLowerCase());

/** The closest role names to what was typed, best first, for "did you mean". */
export function suggestRoles(typed: string, max = 3): string[] {
  const t = typed.trim().replace(/\s+/g, ' ').toLowerCase();
  return ENTRA_ROLES.map((r) => {
    const name = r.name.toLowerCase();
    // A typed fragment of a name ("exchange") is closer than its edit distance says. Whole words only: "AI
    // Administrator" must not match every word with "ai" in it.
    const d = name.includes(t) || ` ${t} `.includes(` ${name.replace(/ administrator$/, '')} `) ? 0 : distance(t, name);
    return { name: r.name, d };
  })
    .filter((x) => x.d <= Math.max(3, Math.floor(t.length / 2)))
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((x) => x.name);
}
