import { z } from 'zod';
import { findRole } from '../delegation/roles';

/**
 * A partner's own Entra app for Microsoft Graph, as the partners file names it. The file says where the secret or
 * certificate is (an environment variable's name, a file's path), never the secret itself: it is read when a token is
 * needed, and never logged or stored.
 */
export interface MicrosoftApp {
  /** The partner tenant the app is registered in (the token's authority): usually the partner's own tenant id. */
  tenantId: string;
  clientId: string;
  credential: MicrosoftCredentialSource;
  /** Security groups of the partner's tenant that get access once a customer approves, each with its roles. */
  securityGroups: SecurityGroupAccess[];
}

export type MicrosoftCredentialSource =
  | { kind: 'secretEnv'; name: string }
  | { kind: 'secretFile'; path: string }
  /** A PEM file with the private key (and the certificate, when the thumbprint is not given). */
  | { kind: 'certificate'; path: string; thumbprint?: string };

export interface SecurityGroupAccess {
  groupId: string;
  /** Entra role template ids, as Graph's accessDetails take them. */
  roleIds: string[];
}

const TENANT_ID = /^[0-9a-zA-Z-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const SecurityGroupSchema = z
  .object({
    groupId: z.guid('must be the object id (a GUID) of a security group in the partner tenant'),
    roles: z.array(z.string().trim().min(1)).min(1, 'name at least one role'),
  })
  .strict();

/** Which Entra app, and where its credential is: shared by the Graph entry and the Partner Center entry. */
const AppCredentialFields = {
  tenantId: z.string().min(1).max(64).regex(TENANT_ID, 'must be an Entra tenant id').optional(),
  clientId: z.guid("must be the Entra app registration's Application (client) ID, a GUID"),
  clientSecretEnv: z
    .string()
    .regex(ENV_NAME, 'must be the NAME of the environment variable that holds the secret (letters, digits and _), not the secret')
    .optional(),
  clientSecretFile: z.string().min(1).optional(),
  certificateFile: z.string().min(1).optional(),
  certificateThumbprint: z
    .string()
    .transform((t) => t.replace(/:/g, ''))
    .pipe(z.string().regex(/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/, 'must be the certificate thumbprint in hex (SHA-256, or SHA-1)'))
    .optional(),
};

type CredentialFieldValues = {
  clientSecretEnv?: string | undefined;
  clientSecretFile?: string | undefined;
  certificateFile?: string | undefined;
  certificateThumbprint?: string | undefined;
};

/** Exactly one place to read the credential from. */
function checkCredentialSource(app: CredentialFieldValues, ctx: z.RefinementCtx): void {
  const sources = (['clientSecretEnv', 'clientSecretFile', 'certificateFile'] as const).filter((k) => app[k] !== undefined);
  if (sources.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message:
        sources.length === 0
          ? 'needs one of clientSecretEnv (an environment variable name), clientSecretFile or certificateFile (a file path)'
          : `names ${sources.join(' and ')}: give only one place to read the credential from`,
    });
  }
  if (app.certificateThumbprint && !app.certificateFile) {
    ctx.addIssue({ code: 'custom', path: ['certificateThumbprint'], message: 'goes with certificateFile' });
  }
}

export const MicrosoftAppSchema = z
  .object({ ...AppCredentialFields, securityGroups: z.array(SecurityGroupSchema).optional() })
  .strict()
  .superRefine((app, ctx) => {
    checkCredentialSource(app, ctx);
    for (const [i, group] of (app.securityGroups ?? []).entries()) {
      for (const [j, role] of group.roles.entries()) {
        if (!roleId(role)) {
          ctx.addIssue({
            code: 'custom',
            path: ['securityGroups', i, 'roles', j],
            message: `"${role.slice(0, 60)}" is not an Entra built-in role name this bot knows, nor a role template id (GUID)`,
          });
        }
      }
    }
  });

/**
 * The partner's Entra app registered in Partner Center (Account settings, App management) for its API. Often the same
 * app as the Graph one, but named separately: Partner Center needs the app registered there, Graph does not.
 */
export const PartnerCenterAppSchema = z.object(AppCredentialFields).strict().superRefine(checkCredentialSource);
export type PartnerCenterAppEntry = z.infer<typeof PartnerCenterAppSchema>;

export type MicrosoftAppEntry = z.infer<typeof MicrosoftAppSchema>;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A role name from the built-in list, or a role template id (any GUID: Graph knows more roles than the list). */
function roleId(role: string): string | undefined {
  return GUID.test(role) ? role.toLowerCase() : findRole(role)?.id;
}

/** The entry as the Graph client uses it: one credential source, role names turned into template ids. */
export function toMicrosoftApp(partnerTenantId: string, entry: MicrosoftAppEntry): MicrosoftApp {
  return {
    ...toApp(partnerTenantId, entry),
    securityGroups: (entry.securityGroups ?? []).map((g) => ({
      groupId: g.groupId.toLowerCase(),
      roleIds: [...new Set(g.roles.map((r) => roleId(r)!))],
    })),
  };
}

/** The Partner Center entry as the token source takes it (no security groups: Partner Center grants none). */
export function toPartnerCenterApp(partnerTenantId: string, entry: PartnerCenterAppEntry): MicrosoftApp {
  return { ...toApp(partnerTenantId, entry), securityGroups: [] };
}

function toApp(partnerTenantId: string, entry: PartnerCenterAppEntry): Omit<MicrosoftApp, 'securityGroups'> {
  const credential: MicrosoftCredentialSource = entry.clientSecretEnv
    ? { kind: 'secretEnv', name: entry.clientSecretEnv }
    : entry.clientSecretFile
      ? { kind: 'secretFile', path: entry.clientSecretFile }
      : {
          kind: 'certificate',
          path: entry.certificateFile!,
          ...(entry.certificateThumbprint ? { thumbprint: entry.certificateThumbprint.toLowerCase() } : {}),
        };
  return { tenantId: entry.tenantId ?? partnerTenantId, clientId: entry.clientId.toLowerCase(), credential };
}

/** Keys that would hold a secret itself; the two that name where a secret is are fine. */
const SECRET_KEY = /secret|passw(or)?d|^pwd$|private.?key|api.?key|access.?token|^token$|client.?assertion|^key$|^certificate$/i;
const NAMES_A_PLACE = new Set(['clientSecretEnv', 'clientSecretFile', 'certificateFile', 'certificateThumbprint']);
/** A PEM private key, or an Entra client secret (40 characters, "Q~" after the first four). */
const SECRET_VALUE = [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, /^[A-Za-z0-9_.~-]{3}\dQ~[A-Za-z0-9_.~-]{30,40}$/];

/**
 * Where a parsed partners file holds something that looks like a secret (a key named like one, or a value shaped like a
 * client secret or a private key), as paths such as `partners.0.microsoft.clientSecret`. The values are never returned.
 */
export function literalSecretPaths(raw: unknown, path: string[] = []): string[] {
  if (Array.isArray(raw)) return raw.flatMap((v, i) => literalSecretPaths(v, [...path, String(i)]));
  if (raw && typeof raw === 'object') {
    return Object.entries(raw as Record<string, unknown>).flatMap(([k, v]) => {
      const here = [...path, k];
      if (SECRET_KEY.test(k) && !NAMES_A_PLACE.has(k) && v !== null && v !== '') return [here.join('.')];
      return literalSecretPaths(v, here);
    });
  }
  if (typeof raw === 'string' && SECRET_VALUE.some((re) => re.test(raw.trim()))) return [path.join('.')];
  return [];
}

/** What to tell the operator: where the secret is, and how to keep it out of the file (no value is repeated). */
export function literalSecretMessage(file: string, paths: string[]): string {
  return (
    `Partners file ${file} contains what looks like a secret at ${paths.join(', ')}. ` +
    'The partners file only names where a Microsoft credential is, never the credential itself: put the client secret in an ' +
    'environment variable and set "clientSecretEnv": "<VARIABLE_NAME>" in the partner\'s "microsoft" entry, or in a file only ' +
    'the bot can read and set "clientSecretFile": "<path>" (a certificate: "certificateFile": "<path to the PEM file>"). ' +
    'Remove the value from this file, and since it has been written to a file, create a new secret in Entra and delete the old one.'
  );
}
