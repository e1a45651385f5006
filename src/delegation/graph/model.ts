import type { RelationshipStatus } from './schemas';
import { AccessAssignmentSchema, RelationshipRequestSchema, RelationshipSchema } from './schemas';
import type { z } from 'zod';

export type { RelationshipStatus };

/** The Entra Global Administrator role's template id: a relationship that includes it is never auto-extended. */
export const GLOBAL_ADMINISTRATOR_ROLE_ID = '62e90394-69f5-4237-9190-012177145e10';
/** Graph's auto-extend period, and "not extended". */
export const AUTO_EXTEND_DURATION = 'P180D';
export const NO_AUTO_EXTEND = 'PT0S';
export const MAX_DISPLAY_NAME = 50;
export const MAX_DURATION_DAYS = 730;

/** A delegatedAdminRelationship as the bot uses it. Dates are Graph's own ISO strings, null while not set. */
export interface GdapRelationship {
  id: string;
  displayName: string;
  status: RelationshipStatus;
  /** `@odata.etag`, for If-Match on a change or delete. */
  etag?: string;
  customerTenantId: string | null;
  /** As Entra sets it; may be null: use findTenantInformation for names. */
  customerDisplayName: string | null;
  /** Entra role template ids. */
  roleIds: string[];
  /** ISO 8601 (`P730D`). */
  duration: string;
  /** The duration in days when Graph gives it in days, else null. */
  durationDays: number | null;
  autoExtendDuration: string | null;
  autoExtends: boolean;
  createdDateTime: string | null;
  lastModifiedDateTime: string | null;
  activatedDateTime: string | null;
  /** When it ends (or is next extended): activatedDateTime + duration, re-read after each auto-extension. */
  endDateTime: string | null;
}

/** A lockForApproval or terminate request. It runs asynchronously: read the relationship's status to follow it. */
export interface GdapRelationshipRequest {
  id: string;
  action: string;
  status: z.infer<typeof RelationshipRequestSchema>['status'];
  createdDateTime: string | null;
  lastModifiedDateTime: string | null;
}

/** An access assignment: a security group of the partner's tenant and the roles it gets in the customer's tenant. */
export interface GdapAccessAssignment {
  id: string;
  status: z.infer<typeof AccessAssignmentSchema>['status'];
  etag?: string;
  securityGroupId: string;
  roleIds: string[];
  createdDateTime: string | null;
  lastModifiedDateTime: string | null;
}

export interface TenantInformation {
  tenantId: string;
  displayName: string | null;
  defaultDomainName: string | null;
}

export interface CreateRelationshipInput {
  /** Unique among all of the partner's relationships, at most 50 characters: also how a create is recovered. */
  displayName: string;
  /** Pins the relationship to this customer; without it, any tenant's Global Administrator may approve it. */
  customerTenantId?: string;
  /** Entra role template ids. */
  roleIds: string[];
  /** 1 to 730. */
  durationDays: number;
  /** Extended by 180 days at its end; never with Global Administrator, whatever is asked. */
  autoExtend: boolean;
}

export interface AccessAssignmentInput {
  securityGroupId: string;
  /** Entra role template ids, among the relationship's. */
  roleIds: string[];
}

const days = (duration: string) => {
  const m = /^P(\d+)D$/.exec(duration);
  return m ? Number(m[1]) : null;
};

const roleIdsOf = (d: { unifiedRoles: { roleDefinitionId: string }[] } | null | undefined) =>
  (d?.unifiedRoles ?? []).map((r) => r.roleDefinitionId.toLowerCase());

export function toRelationship(r: z.infer<typeof RelationshipSchema>): GdapRelationship {
  return {
    id: r.id,
    displayName: r.displayName,
    status: r.status,
    ...(r['@odata.etag'] ? { etag: r['@odata.etag'] } : {}),
    customerTenantId: r.customer?.tenantId || null,
    customerDisplayName: r.customer?.displayName || null,
    roleIds: roleIdsOf(r.accessDetails),
    duration: r.duration,
    durationDays: days(r.duration),
    autoExtendDuration: r.autoExtendDuration ?? null,
    autoExtends: !!r.autoExtendDuration && days(r.autoExtendDuration) !== null && days(r.autoExtendDuration)! > 0,
    createdDateTime: r.createdDateTime,
    lastModifiedDateTime: r.lastModifiedDateTime,
    activatedDateTime: r.activatedDateTime,
    endDateTime: r.endDateTime,
  };
}

export const toRequest = (r: z.infer<typeof RelationshipRequestSchema>): GdapRelationshipRequest => ({ ...r });

export const toAssignment = (a: z.infer<typeof AccessAssignmentSchema>): GdapAccessAssignment => ({
  id: a.id,
  status: a.status,
  ...(a['@odata.etag'] ? { etag: a['@odata.etag'] } : {}),
  securityGroupId: a.accessContainer.accessContainerId.toLowerCase(),
  roleIds: roleIdsOf(a.accessDetails),
  createdDateTime: a.createdDateTime,
  lastModifiedDateTime: a.lastModifiedDateTime,
});
