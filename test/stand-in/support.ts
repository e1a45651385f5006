import { startMicrosoftStandIn, type MicrosoftStandIn, type StandInOptions } from '../../stand-in';

export const PARTNER = 'f1a2b3c4-0000-4000-8000-00000000fab1';
export const OTHER_PARTNER = 'f1a2b3c4-0000-4000-8000-0000000000a2';
export const CUSTOMER = 'c0c0c0c0-0000-4000-8000-0000000c0501';
export const OTHER_CUSTOMER = 'c0c0c0c0-0000-4000-8000-0000000c0502';
export const APP = '0a0a0a0a-1111-4222-8333-444444444444';
export const OTHER_APP = '0b0b0b0b-1111-4222-8333-444444444444';
export const SECRET = 'fab~secret-value-not-the-id';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export const EXCHANGE_ADMIN = '29232cdf-9323-42fd-ade2-1d097af3e4de';
export const INTUNE_ADMIN = '3a2c62db-5318-420d-8d74-23affee5d9d5';
export const GLOBAL_READER = 'f2ef992c-3afb-46b9-b7cf-a126ee74c451';
export const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
export const GROUP = '869713c9-0b28-4d08-8949-ae07ae1bf528';

/** Fabrikam (partner, with an app), Northwind (another partner), Contoso and Litware (customers). */
export function startStandIn(options: StandInOptions = {}): Promise<MicrosoftStandIn> {
  return startMicrosoftStandIn({
    partners: [
      {
        tenantId: PARTNER,
        displayName: 'Fabrikam Cloud Partners',
        defaultDomainName: 'fabrikam.onmicrosoft.com',
        app: { clientId: APP, clientSecret: SECRET },
      },
      { tenantId: OTHER_PARTNER, displayName: 'Northwind Traders', app: { clientId: OTHER_APP, clientSecret: 'northwind-secret' } },
    ],
    customers: [
      { tenantId: CUSTOMER, displayName: 'Contoso, Ltd', defaultDomainName: 'CONTOSO18839.onmicrosoft.com' },
      { tenantId: OTHER_CUSTOMER, displayName: 'Litware Inc', defaultDomainName: 'litware.onmicrosoft.com' },
    ],
    ...options,
  });
}

export interface Answer {
  status: number;
  headers: Headers;
  /** The parsed JSON (JSON.parse's type), the text when it is not JSON, undefined when empty. */
  body: ReturnType<typeof JSON.parse>;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

/** A client-credentials token straight from the token endpoint (what msal-node does, without msal). */
export async function requestToken(ms: MicrosoftStandIn, form: Record<string, string>, tenant = PARTNER): Promise<Answer> {
  return answer(await fetch(ms.tokenEndpoint(tenant), { method: 'POST', body: new URLSearchParams(form) }));
}

export async function tokenFor(ms: MicrosoftStandIn, tenant = PARTNER, clientId = APP, secret = SECRET): Promise<string> {
  const a = await requestToken(
    ms,
    { client_id: clientId, client_secret: secret, grant_type: 'client_credentials', scope: GRAPH_SCOPE },
    tenant,
  );
  if (a.status !== 200) throw new Error(`token: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body.access_token as string;
}

export type Graph = ReturnType<typeof graphClient>;

/** A minimal Graph client: relative paths under /v1.0/tenantRelationships/, absolute URLs (nextLink, Location) as they are. */
export function graphClient(ms: MicrosoftStandIn, token: string | undefined) {
  const url = (path: string) => (path.startsWith('http') ? path : `${ms.graphBaseUrl}/tenantRelationships/${path}`);
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    answer(
      await fetch(url(path), {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      }),
    );
  return {
    get: (path: string, headers?: Record<string, string>, signal?: AbortSignal) => call('GET', path, undefined, headers, signal),
    post: (path: string, body: unknown, headers?: Record<string, string>, signal?: AbortSignal) =>
      call('POST', path, body, headers, signal),
    patch: (path: string, body: unknown, headers?: Record<string, string>) => call('PATCH', path, body, headers),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
  };
}

export const REL = 'delegatedAdminRelationships';

export function relationshipBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    displayName: 'Fabrikam admin for Contoso',
    duration: 'P730D',
    customer: { tenantId: CUSTOMER, displayName: 'Contoso subsidiary Inc' },
    accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE_ADMIN }, { roleDefinitionId: INTUNE_ADMIN }] },
    autoExtendDuration: 'P180D',
    ...overrides,
  };
}

/** Create and lock a relationship; returns its id once it is approvalPending. */
export async function pendingRelationship(ms: MicrosoftStandIn, graph: Graph, overrides: Record<string, unknown> = {}): Promise<string> {
  const created = await graph.post(REL, relationshipBody(overrides));
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const lock = await graph.post(`${REL}/${id}/requests`, { action: 'lockForApproval' });
  if (lock.status !== 201) throw new Error(`lock: ${lock.status} ${JSON.stringify(lock.body)}`);
  ms.control.settle();
  return id;
}

/** Create, lock, approve and settle: an active relationship. */
export async function activeRelationship(ms: MicrosoftStandIn, graph: Graph, overrides: Record<string, unknown> = {}): Promise<string> {
  const id = await pendingRelationship(ms, graph, overrides);
  ms.control.approve(id, { tenantId: CUSTOMER });
  ms.control.settle();
  return id;
}

/** Graph's error body: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
export function expectGraphError(a: Answer, status: number, code: string): void {
  expect({ status: a.status, code: a.body?.error?.code }).toEqual({ status, code });
  expect(a.body.error).toEqual({
    code,
    message: expect.any(String),
    innerError: expect.objectContaining({
      date: expect.any(String),
      'request-id': expect.any(String),
      'client-request-id': expect.any(String),
    }),
  });
}

export const PC_SCOPE = 'https://api.partnercenter.microsoft.com/.default';

/** A Partner Center token straight from the token endpoint (client credentials, Partner Center's scope). */
export async function pcTokenFor(ms: MicrosoftStandIn, tenant = PARTNER, clientId = APP, secret = SECRET): Promise<string> {
  const a = await requestToken(
    ms,
    { client_id: clientId, client_secret: secret, grant_type: 'client_credentials', scope: PC_SCOPE },
    tenant,
  );
  if (a.status !== 200) throw new Error(`token: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body.access_token as string;
}

export type PartnerCenter = ReturnType<typeof pcClient>;

/** A minimal Partner Center client: paths relative to `<url>/partnercenter/v1/`. */
export function pcClient(ms: MicrosoftStandIn, token: string | undefined) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    answer(
      await fetch(`${ms.partnerCenterBaseUrl}/${path}`, {
        method,
        headers: {
          Accept: 'application/json',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      }),
    );
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>, signal?: AbortSignal) =>
      call('POST', path, body, headers, signal),
    put: (path: string, body: unknown, headers?: Record<string, string>) => call('PUT', path, body, headers),
  };
}

/** Partner Center's error body (error-codes page): `{ code, description, data, source }` plus errorName/isRetryable. */
export function expectPcError(a: Answer, status: number, code: number): void {
  expect({ status: a.status, code: a.body?.code }).toEqual({ status, code });
  expect(a.body).toEqual(
    expect.objectContaining({ code, description: expect.any(String), data: [], source: 'PartnerFD', isRetryable: status >= 500 }),
  );
}
