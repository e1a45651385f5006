import type { z } from 'zod';
import type { MicrosoftApp } from '../../directory/microsoft';
import type { Logger } from '../../log';
import type { CredentialSources } from './credentials';
import { GraphError, isGraphError } from './errors';
import { GraphHttp } from './http';
import {
  AUTO_EXTEND_DURATION,
  GLOBAL_ADMINISTRATOR_ROLE_ID,
  MAX_DISPLAY_NAME,
  MAX_DURATION_DAYS,
  NO_AUTO_EXTEND,
  toAssignment,
  toRelationship,
  toRequest,
  type AccessAssignmentInput,
  type CreateRelationshipInput,
  type GdapAccessAssignment,
  type GdapRelationship,
  type GdapRelationshipRequest,
  type TenantInformation,
} from './model';
import { AccessAssignmentSchema, pageOf, RelationshipRequestSchema, RelationshipSchema, TenantInformationSchema } from './schemas';
import { TokenSource } from './token';

export interface GraphClientOptions {
  /** MICROSOFT_AUTHORITY_HOST. */
  authorityHost: string;
  /** MICROSOFT_GRAPH_BASE_URL. */
  graphBaseUrl: string;
  log: Logger;
  /** One Graph request, answer included. Default 30 s. */
  timeoutMs?: number;
  /** One token request. Default 30 s. */
  tokenTimeoutMs?: number;
  /** Where partners' secrets are read from at every use: `secretSources(process.env)` from the composition root. */
  sources: CredentialSources;
}

/** Graph's GDAP endpoints for one partner, with that partner's Entra app. Every method throws GraphError. */
export interface GdapClient {
  /** POST a relationship (status `created`). After a timeout or 5xx it may exist anyway: see createOrRecover. */
  createRelationship(input: CreateRelationshipInput): Promise<GdapRelationship>;
  /**
   * Creates the relationship, or finds the one an earlier attempt created: when the create times out, fails with
   * 5xx, or is refused as a duplicate, the partner's relationships are searched by display name before giving up.
   */
  createOrRecover(input: CreateRelationshipInput): Promise<{ relationship: GdapRelationship; recovered: boolean }>;
  /** The partner's relationship with exactly this display name (the newest live one if several), or null. */
  findByDisplayName(displayName: string, options?: { customerTenantId?: string }): Promise<GdapRelationship | null>;
  getRelationship(id: string): Promise<GdapRelationship>;
  /** Only while `created`, with the latest etag. */
  deleteRelationship(id: string, etag: string): Promise<void>;
  /** `created` → `approvalPending` (asynchronously: read the relationship to see it). */
  lockForApproval(id: string): Promise<GdapRelationshipRequest>;
  /** `active` → `terminationRequested` → `terminating` → `terminated` (asynchronously). */
  terminate(id: string): Promise<GdapRelationshipRequest>;
  /** Once `active`: a security group of the partner's tenant gets roles (status `pending`, then `active`). */
  createAccessAssignment(relationshipId: string, input: AccessAssignmentInput): Promise<GdapAccessAssignment>;
  getAccessAssignment(relationshipId: string, assignmentId: string): Promise<GdapAccessAssignment>;
  listAccessAssignments(relationshipId: string): Promise<GdapAccessAssignment[]>;
  /** A tenant's display name and default domain (CrossTenantInformation.ReadBasic.All). */
  findTenantInformation(tenantId: string): Promise<TenantInformation>;
}

export interface GraphClient {
  /** The client for one partner's app (cheap: the token cache and HTTP settings are shared). */
  forPartner(app: MicrosoftApp): GdapClient;
}

const RELATIONSHIPS = '/tenantRelationships/delegatedAdminRelationships';
/** Graph's largest page for relationships and assignments. */
const PAGE = 300;
/** A relationship still worth following, when a display name matches more than one. */
const LIVE = new Set(['created', 'approvalPending', 'approved', 'activating', 'active', 'expiring']);

/** Where the customer's Global Administrator reviews and approves a relationship (Graph's GDAP overview). */
export const MICROSOFT_ADMIN_CENTER = 'https://admin.microsoft.com';
export const approvalLink = (relationshipId: string, adminCenter = MICROSOFT_ADMIN_CENTER): string =>
  `${adminCenter.replace(/\/+$/, '')}/AdminPortal/Home#/partners/invitation/granularAdminRelationships/${encodeURIComponent(relationshipId)}`;

/** The POST body of a relationship, checked: Global Administrator is never auto-extended (Microsoft refuses it). */
export function relationshipBody(input: CreateRelationshipInput): Record<string, unknown> {
  const name = input.displayName.trim();
  const problem =
    !name || name.length > MAX_DISPLAY_NAME
      ? `displayName must be 1 to ${MAX_DISPLAY_NAME} characters (it is ${name.length})`
      : !Number.isInteger(input.durationDays) || input.durationDays < 1 || input.durationDays > MAX_DURATION_DAYS
        ? `durationDays must be a whole number from 1 to ${MAX_DURATION_DAYS}`
        : input.roleIds.length === 0
          ? 'name at least one role'
          : undefined;
  if (problem) throw new GraphError({ kind: 'invalid' }, `Not sent to Graph: ${problem}`, { operation: 'createRelationship' });
  const roleIds = [...new Set(input.roleIds.map((r) => r.toLowerCase()))];
  const autoExtend = input.autoExtend && !roleIds.includes(GLOBAL_ADMINISTRATOR_ROLE_ID);
  return {
    displayName: name,
    duration: `P${input.durationDays}D`,
    ...(input.customerTenantId ? { customer: { tenantId: input.customerTenantId } } : {}),
    accessDetails: { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
    autoExtendDuration: autoExtend ? AUTO_EXTEND_DURATION : NO_AUTO_EXTEND,
  };
}

/** An OData string literal: single quotes doubled. */
const odataString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const seg = encodeURIComponent;

export function createGraphClient(opts: GraphClientOptions): GraphClient {
  const tokens = new TokenSource({
    authorityHost: opts.authorityHost,
    graphBaseUrl: opts.graphBaseUrl,
    log: opts.log,
    ...(opts.tokenTimeoutMs ? { timeoutMs: opts.tokenTimeoutMs } : {}),
    sources: opts.sources,
  });
  const http = new GraphHttp({
    graphBaseUrl: opts.graphBaseUrl,
    tokens,
    log: opts.log,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
  return { forPartner: (app) => partnerClient(app, http, opts.log) };
}

function partnerClient(app: MicrosoftApp, http: GraphHttp, log: Logger): GdapClient {
  const relationship = (id: string) => `${RELATIONSHIPS}/${seg(id)}`;

  /** Every page of a collection, following `@odata.nextLink` (at most 100 pages). */
  async function listAll<S extends z.ZodType, T>(operation: string, first: string, item: S, map: (x: z.output<S>) => T): Promise<T[]> {
    const schema = pageOf(item);
    const found: T[] = [];
    let path: string | null | undefined = first;
    for (let pages = 0; path && pages < 100; pages++) {
      const page: z.output<typeof schema> = await http.call(app, { operation, method: 'GET', path }, schema);
      found.push(...page.value.map(map));
      path = page['@odata.nextLink'];
    }
    return found;
  }

  const listRelationships = (filter: string | undefined) =>
    listAll(
      'findByDisplayName',
      `${RELATIONSHIPS}?$top=${PAGE}${filter ? `&$filter=${encodeURIComponent(filter)}` : ''}`,
      RelationshipSchema,
      toRelationship,
    );

  const client: GdapClient = {
    async createRelationship(input) {
      const body = relationshipBody(input);
      return toRelationship(
        await http.call(app, { operation: 'createRelationship', method: 'POST', path: RELATIONSHIPS, body }, RelationshipSchema),
      );
    },

    async createOrRecover(input) {
      try {
        return { relationship: await client.createRelationship(input), recovered: false };
      } catch (err) {
        // Timed out or 5xx: it may have been created. Refused as invalid or conflict: perhaps a duplicate name,
        // from an earlier attempt whose answer was lost (Graph's code for a duplicate is not documented).
        const mayExist =
          isGraphError(err) &&
          (err.kind === 'transient' || ((err.kind === 'conflict' || err.kind === 'invalid') && err.details.status !== undefined));
        if (!mayExist) throw err;
        const found = await client.findByDisplayName(
          input.displayName,
          input.customerTenantId ? { customerTenantId: input.customerTenantId } : {},
        );
        if (!found) throw err;
        log.info(
          { partnerTenantId: app.tenantId, relationshipId: found.id, after: err.kind },
          'Graph relationship found by its display name after a failed create',
        );
        return { relationship: found, recovered: true };
      }
    },

    async findByDisplayName(displayName, options = {}) {
      const name = displayName.trim();
      let all: GdapRelationship[];
      try {
        all = await listRelationships(
          options.customerTenantId
            ? `customer/tenantId eq ${odataString(options.customerTenantId)}`
            : `displayName eq ${odataString(name)}`,
        );
      } catch (err) {
        // Which properties $filter takes is not documented: without a filter, every page is read.
        if (!isGraphError(err, 'invalid') || err.details.status !== 400) throw err;
        all = await listRelationships(undefined);
      }
      const matches = all
        .filter((r) => r.displayName === name)
        .sort(
          (a, b) =>
            Number(LIVE.has(b.status)) - Number(LIVE.has(a.status)) || (b.createdDateTime ?? '').localeCompare(a.createdDateTime ?? ''),
        );
      return matches[0] ?? null;
    },

    async getRelationship(id) {
      return toRelationship(
        await http.call(app, { operation: 'getRelationship', method: 'GET', path: relationship(id) }, RelationshipSchema),
      );
    },

    async deleteRelationship(id, etag) {
      await http.call(app, { operation: 'deleteRelationship', method: 'DELETE', path: relationship(id), ifMatch: etag });
    },

    async lockForApproval(id) {
      const path = `${relationship(id)}/requests`;
      return toRequest(
        await http.call(
          app,
          { operation: 'lockForApproval', method: 'POST', path, body: { action: 'lockForApproval' } },
          RelationshipRequestSchema,
        ),
      );
    },

    async terminate(id) {
      const path = `${relationship(id)}/requests`;
      return toRequest(
        await http.call(app, { operation: 'terminate', method: 'POST', path, body: { action: 'terminate' } }, RelationshipRequestSchema),
      );
    },

    async createAccessAssignment(relationshipId, input) {
      const body = {
        accessContainer: { accessContainerId: input.securityGroupId, accessContainerType: 'securityGroup' },
        accessDetails: {
          unifiedRoles: [...new Set(input.roleIds.map((r) => r.toLowerCase()))].map((roleDefinitionId) => ({ roleDefinitionId })),
        },
      };
      const path = `${relationship(relationshipId)}/accessAssignments`;
      return toAssignment(
        await http.call(app, { operation: 'createAccessAssignment', method: 'POST', path, body }, AccessAssignmentSchema),
      );
    },

    async getAccessAssignment(relationshipId, assignmentId) {
      const path = `${relationship(relationshipId)}/accessAssignments/${seg(assignmentId)}`;
      return toAssignment(await http.call(app, { operation: 'getAccessAssignment', method: 'GET', path }, AccessAssignmentSchema));
    },

    async listAccessAssignments(relationshipId) {
      return listAll(
        'listAccessAssignments',
        `${relationship(relationshipId)}/accessAssignments?$top=${PAGE}`,
        AccessAssignmentSchema,
        toAssignment,
      );
    },

    async findTenantInformation(tenantId) {
      const path = `/tenantRelationships/findTenantInformationByTenantId(tenantId=${odataString(seg(tenantId))})`;
      const info = await http.call(app, { operation: 'findTenantInformation', method: 'GET', path }, TenantInformationSchema);
      return {
        tenantId: info.tenantId ?? tenantId,
        displayName: info.displayName ?? null,
        defaultDomainName: info.defaultDomainName ?? null,
      };
    },
  };
  return client;
}
