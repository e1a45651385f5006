/**
 * What Microsoft's side knows: tenants, app registrations, issued tokens, relationships with their requests,
 * access assignments and operations. Routes and the control surface read and change this one object.
 */
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import type { Clock } from './clock';
import type { AppInput, CustomerTenantInput, PartnerTenantInput, RelationshipStatus, StandInDelays } from './types';

export const DEFAULT_PERMISSIONS = ['DelegatedAdminRelationship.ReadWrite.All', 'CrossTenantInformation.ReadBasic.All'];

export const DEFAULT_DELAYS: StandInDelays = {
  lockForApproval: 0,
  approvedToActivating: 1000,
  activatingToActive: 1000,
  terminationRequestedToTerminating: 1000,
  terminatingToTerminated: 1000,
  expiringToExpired: 1000,
  accessAssignment: 1000,
  operation: 1000,
};

export interface Tenant {
  tenantId: string;
  displayName: string;
  defaultDomainName: string;
  federationBrandName: string | null;
  kind: 'partner' | 'customer';
  /** Partner Center: the billing country (ISO 3166 alpha-2, upper case; `US` unless registered otherwise). */
  country: string;
}

export interface App {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  certificate?: { thumbprintSha256?: string; thumbprint?: string; publicKey: KeyObject };
  permissions: string[];
}

export interface IssuedToken {
  tenantId: string;
  clientId: string;
  /** The resource of the `.default` scope, e.g. `https://graph.microsoft.com`. */
  resource: string;
  permissions: string[];
  /** Real time (Date.now()) after which Graph refuses it: msal-node caches tokens by real time too. */
  expiresAtRealMs: number;
}

export interface RelationshipRequest {
  id: string;
  action: 'lockForApproval' | 'terminate';
  status: 'created' | 'pending' | 'succeeded' | 'failed';
  createdMs: number;
  lastModifiedMs: number;
}

export type AssignmentStatus = 'pending' | 'active' | 'deleting' | 'deleted' | 'error';

export interface AccessAssignment {
  id: string;
  accessContainerId: string;
  accessContainerType: 'securityGroup';
  roles: string[];
  status: AssignmentStatus;
  statusSinceMs: number;
  createdMs: number;
  lastModifiedMs: number;
  etag: string;
}

export interface Operation {
  id: string;
  operationType: 'delegatedAdminAccessAssignmentUpdate' | 'delegatedAdminRelationshipUpdate';
  status: 'notStarted' | 'running' | 'succeeded' | 'failed';
  createdMs: number;
  lastModifiedMs: number;
  etag: string;
  /** What the operation does when it completes. */
  complete: (at: number) => void;
  /** The JSON string Graph puts in `data` (the resource after the change). */
  data: () => string;
}

export interface Relationship {
  id: string;
  partnerTenantId: string;
  displayName: string;
  duration: string;
  durationMs: number;
  customer: { tenantId: string; displayName: string | null } | null;
  roles: string[];
  autoExtendDuration: 'P0D' | 'PT0S' | 'P180D';
  status: RelationshipStatus;
  statusSinceMs: number;
  createdMs: number;
  lastModifiedMs: number;
  activatedMs: number | null;
  endMs: number | null;
  etag: string;
  /** When lockForApproval was asked (the step to approvalPending is pending while status is created). */
  lockRequestedMs: number | null;
  /** When it became approvalPending: the 90-day request expiry runs from here. */
  approvalPendingSinceMs: number | null;
  declinedMs: number | null;
  approvedByTenantId: string | null;
  terminationRequestedBy: 'partner' | 'customer' | null;
  /** Set by the control `expire`: the next end is not auto-extended. */
  forceExpiry: boolean;
  requests: RelationshipRequest[];
  assignments: AccessAssignment[];
  operations: Operation[];
}

export class World {
  readonly tenants = new Map<string, Tenant>();
  readonly apps = new Map<string, App>();
  readonly tokens = new Map<string, IssuedToken>();
  readonly relationships = new Map<string, Relationship>();
  /** The stand-in's own origin (`http://127.0.0.1:<port>`), set once it listens: it plays Graph, so `<origin>/.default` is a Graph scope too. */
  origin = '';

  constructor(
    readonly clock: Clock,
    readonly delays: StandInDelays,
    readonly tokenLifetimeSeconds: number,
    readonly defaultPageSize: number,
  ) {}

  registerPartner(input: PartnerTenantInput): void {
    this.addTenant({ ...input, federationBrandName: null }, 'partner');
    if (input.app) this.registerApp(input.tenantId, input.app);
  }

  registerCustomer(input: CustomerTenantInput): void {
    this.addTenant(input, 'customer');
  }

  registerApp(tenantId: string, app: AppInput): void {
    const tenant = this.tenants.get(tenantId.toLowerCase());
    if (!tenant || tenant.kind !== 'partner') throw new Error(`Register the partner tenant ${tenantId} before its app`);
    if (!app.clientId) throw new Error('An app needs a clientId');
    if (!app.clientSecret && !app.certificate) throw new Error(`App ${app.clientId} needs a clientSecret or a certificate`);
    this.apps.set(appKey(tenant.tenantId, app.clientId), {
      tenantId: tenant.tenantId,
      clientId: app.clientId.toLowerCase(),
      ...(app.clientSecret ? { clientSecret: app.clientSecret } : {}),
      ...(app.certificate
        ? {
            certificate: {
              ...(app.certificate.thumbprintSha256 ? { thumbprintSha256: app.certificate.thumbprintSha256.toLowerCase() } : {}),
              ...(app.certificate.thumbprint ? { thumbprint: app.certificate.thumbprint.toLowerCase() } : {}),
              publicKey:
                typeof app.certificate.publicKey === 'string' ? createPublicKey(app.certificate.publicKey) : app.certificate.publicKey,
            },
          }
        : {}),
      permissions: app.permissions ?? DEFAULT_PERMISSIONS,
    });
  }

  /** Whether a token's resource is Microsoft Graph: Graph's own ids, or the stand-in's origin standing in for it. */
  isGraphResource(resource: string): boolean {
    const r = resource.replace(/\/+$/, '').toLowerCase();
    return (
      r === 'https://graph.microsoft.com' ||
      r === '00000003-0000-0000-c000-000000000000' ||
      (this.origin !== '' && r === this.origin.toLowerCase())
    );
  }

  app(tenantId: string, clientId: string): App | undefined {
    return this.apps.get(appKey(tenantId, clientId));
  }

  /** A tenant by id, or by its default domain (Entra accepts either in the token URL). */
  tenant(idOrDomain: string): Tenant | undefined {
    const key = idOrDomain.toLowerCase();
    return this.tenants.get(key) ?? [...this.tenants.values()].find((t) => t.defaultDomainName.toLowerCase() === key);
  }

  private addTenant(input: CustomerTenantInput, kind: Tenant['kind']): void {
    if (!input.tenantId || !input.displayName) throw new Error('A tenant needs a tenantId and a displayName');
    if (input.country !== undefined && !/^[A-Za-z]{2}$/.test(input.country))
      throw new Error(`Not an ISO 3166 alpha-2 country: ${input.country}`);
    const tenantId = input.tenantId.toLowerCase();
    const existing = this.tenants.get(tenantId);
    if (existing && existing.kind !== kind) throw new Error(`Tenant ${tenantId} is already registered as a ${existing.kind}`);
    this.tenants.set(tenantId, {
      tenantId,
      displayName: input.displayName,
      defaultDomainName:
        input.defaultDomainName ?? `${input.displayName.replace(/[^a-z0-9]/gi, '').toLowerCase() || 'tenant'}.onmicrosoft.com`,
      federationBrandName: input.federationBrandName ?? null,
      kind,
      country: (input.country ?? existing?.country ?? 'US').toUpperCase(),
    });
  }
}

const appKey = (tenantId: string, clientId: string) => `${tenantId.toLowerCase()}|${clientId.toLowerCase()}`;
