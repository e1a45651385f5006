/**
 * The public shape of the local stand-in of Microsoft's endpoints (Entra's token endpoint, Microsoft Graph's GDAP
 * resources, tenant information, the Microsoft 365 admin center's approval page). See stand-in/README.md.
 */
import type { KeyObject } from 'node:crypto';

/** How long each asynchronous step takes, in milliseconds of the stand-in's own clock. */
export interface StandInDelays {
  /** `created` → `approvalPending` after a `lockForApproval` request (the request itself answers 201 at once). */
  lockForApproval: number;
  /** `approved` → `activating` after the customer's Global Administrator approves. */
  approvedToActivating: number;
  /** `activating` → `active` (activatedDateTime is set then). */
  activatingToActive: number;
  /** `terminationRequested` → `terminating`. */
  terminationRequestedToTerminating: number;
  /** `terminating` → `terminated`. */
  terminatingToTerminated: number;
  /** `expiring` → `expired` (after endDateTime passed without auto-extension). */
  expiringToExpired: number;
  /** Access assignment `pending` → `active`, and `deleting` → `deleted`. */
  accessAssignment: number;
  /** A long-running operation (PATCH of an access assignment) `notStarted` → `succeeded`. */
  operation: number;
}

export interface StandInOptions {
  /** TCP port; 0 (default) lets the OS choose one. */
  port?: number;
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Start the stand-in's clock at this instant (it then moves with real time unless `freezeClock`). */
  now?: Date | string;
  /** Stop the clock: it moves only through `control.clock.advance` / `set`. */
  freezeClock?: boolean;
  /** Override some step delays (defaults: lock 0 ms, every other step 1000 ms). */
  delays?: Partial<StandInDelays>;
  /** `expires_in` of issued access tokens, in seconds (default 3599, as Entra answers). */
  tokenLifetimeSeconds?: number;
  /** Page size of a list without `$top` (default 300, Graph's documented maximum for `$top`). */
  defaultPageSize?: number;
  /** Tenants and apps to register before the server starts listening. */
  partners?: PartnerTenantInput[];
  customers?: CustomerTenantInput[];
}

/** A certificate credential of an app: msal-node signs a client assertion with the private key. */
export interface CertificateCredential {
  /** SHA-256 thumbprint (hex) as given to msal-node's `clientCertificate.thumbprintSha256` (header `x5t#S256`). */
  thumbprintSha256?: string;
  /** SHA-1 thumbprint (hex) as given to msal-node's `clientCertificate.thumbprint` (header `x5t`). */
  thumbprint?: string;
  /** The public key (PEM, or a KeyObject) that verifies the assertion's signature. */
  publicKey: string | KeyObject;
}

/** An Entra app registration in a partner's tenant, with the application permissions its admin consented to. */
export interface AppInput {
  clientId: string;
  /** A client secret value (the app may have a secret, a certificate, or both). */
  clientSecret?: string;
  certificate?: CertificateCredential;
  /**
   * Application permissions granted (default: `DelegatedAdminRelationship.ReadWrite.All` and
   * `CrossTenantInformation.ReadBasic.All`).
   */
  permissions?: string[];
}

export interface PartnerTenantInput {
  tenantId: string;
  displayName: string;
  /** Defaults to a made-up `<name>.onmicrosoft.com`. */
  defaultDomainName?: string;
  /** The partner's app (for Graph, client credentials). More apps: `control.registerApp`. */
  app?: AppInput;
}

export interface CustomerTenantInput {
  tenantId: string;
  displayName: string;
  defaultDomainName?: string;
  federationBrandName?: string | null;
}

/** What a fault does to a matching request. */
export type FaultKind =
  /** 429 Too Many Requests with `Retry-After` (Graph's throttling body; Entra's on the token route). */
  | 'throttle'
  /** A 5xx (default 503) with the service's error body, `Retry-After` only if `retryAfterSeconds` is given. */
  | 'error'
  /** Never answer: the connection stays open until the client gives up (or the stand-in closes). */
  | 'hang'
  /** Answer normally, but only after `delayMs`. */
  | 'delay'
  /** Close the connection without an answer (the client sees "socket hang up" / ECONNRESET). */
  | 'drop'
  /** Reset the TCP connection (RST) without an answer: the nearest a shared server gets to "connection refused". */
  | 'reset';

export interface FaultSpec {
  kind: FaultKind;
  /** Which endpoint family: Graph (default), the token endpoint, the admin page, or any of them. */
  target?: 'graph' | 'token' | 'admin' | 'any';
  /** How many matching requests it hits (default 1); 'always' until removed. */
  times?: number | 'always';
  /** Only requests with this method (case-insensitive). */
  method?: string;
  /** Only requests whose decoded path (without the query) contains this string, or matches this RegExp. */
  path?: string | RegExp;
  /** `throttle`: Retry-After in seconds, may be fractional (default 1); `error`: optional Retry-After. */
  retryAfterSeconds?: number;
  /** `error`: the status (500, 502, 503 (default), 504). */
  status?: number;
  /** `delay`: milliseconds before the request is handled (real time). */
  delayMs?: number;
  /**
   * `hang` / `drop` / `reset`: handle the request first (its effect happens, e.g. the relationship is created) and
   * only then lose the answer — a create that "timed out" but succeeded.
   */
  afterProcessing?: boolean;
}

export interface Fault extends Required<Pick<FaultSpec, 'kind' | 'target'>> {
  id: string;
  spec: FaultSpec;
  /** How many more requests it hits ('always' until removed). */
  remaining: number | 'always';
}

/** One request the stand-in received (control routes excluded). Never holds a secret, a token or a body. */
export interface RequestLogEntry {
  /** Stand-in clock time of arrival (ISO 8601). */
  at: string;
  method: string;
  /** Path and query string as received. */
  path: string;
  kind: 'token' | 'graph' | 'admin' | 'other';
  /** The HTTP status answered; 'hang', 'drop' or 'reset' when no answer was sent; undefined while in progress. */
  status?: number | 'hang' | 'drop' | 'reset';
  /** Token route: the tenant in the path. Graph: the tenant of the bearer token, when it is a token the stand-in issued. */
  tenantId?: string;
  /** Token route: the client_id sent. Graph: the app the token was issued to. */
  clientId?: string;
  /** The fault applied to this request, if any. */
  fault?: FaultKind;
}

/** Statuses exactly as Graph's delegatedAdminRelationshipStatus enum. */
export type RelationshipStatus =
  | 'activating'
  | 'active'
  | 'approvalPending'
  | 'approved'
  | 'created'
  | 'expired'
  | 'expiring'
  | 'terminated'
  | 'terminating'
  | 'terminationRequested';

/** A relationship as the control surface sees it: Graph's JSON plus what only Microsoft's side knows. */
export interface RelationshipSnapshot {
  /** Exactly what `GET /v1.0/tenantRelationships/delegatedAdminRelationships/{id}` answers (without @odata.context). */
  graph: Record<string, unknown>;
  id: string;
  status: RelationshipStatus;
  partnerTenantId: string;
  /** Set when the customer's Global Administrator declined on the admin page (Graph shows nothing of it). */
  declinedDateTime: string | null;
  /** Who asked for termination, when it was asked outside Graph or through it. */
  terminationRequestedBy: 'partner' | 'customer' | null;
  /** The tenant whose Global Administrator approved. */
  approvedByTenantId: string | null;
  accessAssignments: Record<string, unknown>[];
}

export interface StandInClock {
  /** The stand-in's current time. */
  now(): Date;
  /** Jump to an instant (the clock keeps moving from there unless frozen). */
  set(instant: Date | string): void;
  /** Move forward by milliseconds or an ISO 8601 duration (`P90D`, `PT5S`). */
  advance(by: number | string): void;
  freeze(): void;
  unfreeze(): void;
}

export interface StandInControl {
  registerPartner(input: PartnerTenantInput): void;
  registerApp(tenantId: string, app: AppInput): void;
  registerCustomer(input: CustomerTenantInput): void;
  /** The customer's Global Administrator approves now (approvalPending → approved → activating → active). */
  approve(relationshipId: string, opts?: { tenantId?: string }): RelationshipSnapshot;
  /** The customer's admin declines: Graph has no declined status, so the relationship stays approvalPending. */
  decline(relationshipId: string, opts?: { tenantId?: string }): RelationshipSnapshot;
  /** Terminated outside the bot: from the admin center (customer) or Partner Center (partner). */
  terminate(relationshipId: string, opts?: { by?: 'customer' | 'partner' }): RelationshipSnapshot;
  /** Make it lapse now: approvalPending → expired (the 90-day request expiry); active → expiring → expired (no auto-extension). */
  expire(relationshipId: string): RelationshipSnapshot;
  /** Finish every in-progress step now (lock, activation, termination, access assignments, operations). */
  settle(): void;
  relationship(relationshipId: string): RelationshipSnapshot | undefined;
  relationships(): RelationshipSnapshot[];
  /** Arm a fault; returns it (with its id to remove it). */
  fault(spec: FaultSpec): Fault;
  removeFault(id: string): void;
  clearFaults(): void;
  faults(): Fault[];
  /** The token route answers 5xx (`mode: 'error'`, default) or resets connections (`'reset'`) until `tokenEndpointUp`. */
  tokenEndpointDown(opts?: { mode?: 'error' | 'reset'; status?: number; retryAfterSeconds?: number }): Fault;
  tokenEndpointUp(): void;
  /** Every access token issued so far stops being accepted by Graph (401 InvalidAuthenticationToken). */
  expireTokens(): void;
  clearRequests(): void;
  clock: StandInClock;
}

export interface MicrosoftStandIn {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `<url>/v1.0`, the Graph base URL the client is configured with. */
  graphBaseUrl: string;
  /**
   * The authority host to configure msal-node with: `https://login.microsoftonline.com` (msal-node refuses an http
   * authority); pass `authorityMetadata(tenantId)` so its only request goes to `tokenEndpoint(tenantId)`.
   */
  authorityHost: string;
  /** `<url>/<tenantId>/oauth2/v2.0/token` */
  tokenEndpoint(tenantId: string): string;
  /** JSON string for msal-node's `auth.authorityMetadata` pointing the token endpoint at the stand-in. */
  authorityMetadata(tenantId: string): string;
  /** The stand-in's approval page for a relationship (what Microsoft's admin center link becomes here). */
  adminCenterLink(relationshipId: string): string;
  /** Microsoft's documented approval link → the stand-in's page; other links are returned unchanged. */
  rewriteApprovalLink(link: string): string;
  control: StandInControl;
  /** A copy of the request log, in order of arrival. */
  readonly requests: RequestLogEntry[];
  close(): Promise<void>;
}
