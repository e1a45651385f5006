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
  /** Partner Center: catalog, reseller relationships, and how long a new order stays `pending` (ms, default 0). */
  partnerCenter?: {
    products?: PartnerCenterProductInput[];
    resellers?: { partnerTenantId: string; customerTenantId: string }[];
    orderCompletionMs?: number;
  };
}

/** A term of an availability (new commerce): `duration` ISO 8601 (`P1M`, `P1Y`, `P3Y`), `billingCycle` as carts spell it. */
export interface PartnerCenterTermInput {
  duration: string;
  /** `monthly`, `annual`, `triennial`, `none` (trials), ... */
  billingCycle: string;
  description?: string;
}

export interface PartnerCenterSkuInput {
  /** Unique within its product, e.g. `0001`. */
  id: string;
  title: string;
  description?: string;
  /** A trial SKU (default terms then: `P1M` / `none`; quantity 25..25). */
  isTrial?: boolean;
  minimumQuantity?: number;
  maximumQuantity?: number;
  /** The availability id (third part of the catalogItemId); made up when absent. */
  availabilityId?: string;
  /** ISO 3166 alpha-2 countries where it is available (default `['US']`). */
  countries?: string[];
  /** Default: every new-commerce (duration, billing) pair; trials: `P1M` / `none`. */
  terms?: PartnerCenterTermInput[];
}

export interface PartnerCenterProductInput {
  /** e.g. `CFQ7TTC0LH18` */
  id: string;
  title: string;
  description?: string;
  skus?: PartnerCenterSkuInput[];
}

/** What Partner Center holds, for assertions (`control.partnerCenter()`). */
export interface PartnerCenterSnapshot {
  resellers: { partnerTenantId: string; customerTenantId: string }[];
  carts: {
    id: string;
    partnerTenantId: string;
    customerTenantId: string;
    status: 'Active' | 'Ordered';
    /** Checkouts of this cart that created orders: never more than 1. */
    orderingCheckouts: number;
    json: Record<string, unknown>;
  }[];
  /** Orders as `GET customers/{id}/orders/{id}` answers them. */
  orders: Record<string, unknown>[];
  /** Subscriptions as `GET customers/{id}/subscriptions/{id}` answers them. */
  subscriptions: Record<string, unknown>[];
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
  /** Partner Center: the customer's billing country (ISO 3166 alpha-2, default `US`). */
  country?: string;
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
  /** Which endpoint family: Graph (default), the token endpoint, the admin page, Partner Center, or any of them. */
  target?: 'graph' | 'token' | 'admin' | 'partnercenter' | 'any';
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
  kind: 'token' | 'graph' | 'admin' | 'partnercenter' | 'other';
  /** The HTTP status answered; 'hang', 'drop' or 'reset' when no answer was sent; undefined while in progress. */
  status?: number | 'hang' | 'drop' | 'reset';
  /** Token route: the tenant in the path. Graph: the tenant of the bearer token, when it is a token the stand-in issued. */
  tenantId?: string;
  /** Token route: the client_id sent. Graph: the app the token was issued to. */
  clientId?: string;
  /** The fault applied to this request, if any. */
  fault?: FaultKind;
  /** Partner Center: the `MS-RequestId` / `MS-CorrelationId` the client sent (absent when it sent none). */
  msRequestId?: string;
  msCorrelationId?: string;
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

  // Partner Center
  /** The customer accepts the partner's reseller relationship invitation now: Partner Center knows it as a customer. */
  acceptResellerRelationship(partnerTenantId: string, customerTenantId: string): void;
  /** The relationship ends (the customer disappears from the partner's Partner Center again). */
  endResellerRelationship(partnerTenantId: string, customerTenantId: string): void;
  /** The partner's reseller invitation link, as `GET customers/relationshiprequests` answers it (DAP=false). */
  resellerInvitationLink(partnerTenantId: string): string;
  /** Add (or replace) a product and its SKUs in the catalog. */
  addProduct(product: PartnerCenterProductInput): void;
  /** Make a SKU available, or not, in a country ("SKU not available in this country"). */
  setSkuAvailability(productId: string, skuId: string, country: string, available: boolean): void;
  /** Arm a fault on `POST customers/{id}/carts/{id}/checkout` (target `partnercenter`, method POST). */
  checkoutFault(spec: Omit<FaultSpec, 'target' | 'method' | 'path'>): Fault;
  /**
   * The next checkouts (default 1, or 'always' until cleared) create no order and answer `orderErrors` with this code
   * and description (e.g. 900121 insufficient credit limit); the cart stays `Active` and may be checked out again.
   */
  orderErrorOnCheckout(opts: { code: number; description: string; times?: number | 'always' }): void;
  clearOrderErrors(): void;
  /** Carts, orders and subscriptions (brings orders up to the stand-in clock). */
  partnerCenter(): PartnerCenterSnapshot;
}

export interface MicrosoftStandIn {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `<url>/v1.0`, the Graph base URL the client is configured with. */
  graphBaseUrl: string;
  /** `<url>/partnercenter/v1`: what `https://api.partnercenter.microsoft.com/v1` is here. */
  partnerCenterBaseUrl: string;
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
