import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ConfidentialClientApplication, ServerError } from '@azure/msal-node';
import type { MicrosoftStandIn } from '../../stand-in';
import {
  APP,
  CUSTOMER,
  expectGraphError,
  GRAPH_SCOPE,
  graphClient,
  OTHER_PARTNER,
  PARTNER,
  REL,
  requestToken,
  SECRET,
  startStandIn,
} from './support';

/** msal-node as the bot configures it for the stand-in: Entra's authority string, endpoints from authorityMetadata. */
function msalApp(ms: MicrosoftStandIn, auth: Record<string, unknown>, tenant = PARTNER): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: { clientId: APP, authority: `${ms.authorityHost}/${tenant}`, authorityMetadata: ms.authorityMetadata(tenant), ...auth },
  });
}

describe('Entra token endpoint (client credentials)', () => {
  let ms: MicrosoftStandIn;
  beforeAll(async () => {
    ms = await startStandIn();
  });
  afterAll(() => ms.close());
  beforeEach(() => ms.control.clearRequests());

  it('gives msal-node a token with the secret, which Graph accepts; the second call comes from msal’s cache', async () => {
    const app = msalApp(ms, { clientSecret: SECRET });
    const first = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    expect(first).toEqual(expect.objectContaining({ accessToken: expect.any(String), tokenType: 'Bearer', fromCache: false }));
    const second = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    expect(second?.fromCache).toBe(true);
    expect(second?.accessToken).toBe(first?.accessToken);

    const list = await graphClient(ms, first?.accessToken).get(REL);
    expect(list.status).toBe(200);
    expect(list.body.value).toEqual([]);
    // One token request (msal's query string and all), then the Graph call made with the token of the partner's tenant.
    expect(ms.requests.map((r) => [r.kind, r.method, r.status, r.tenantId, r.clientId])).toEqual([
      ['token', 'POST', 200, PARTNER, APP],
      ['graph', 'GET', 200, PARTNER, APP],
    ]);
    expect(ms.requests[0]?.path).toMatch(new RegExp(`^/${PARTNER}/oauth2/v2\\.0/token(\\?client-request-id=.+)?$`));
    expect(JSON.stringify(ms.requests)).not.toContain(SECRET);
    expect(JSON.stringify(ms.requests)).not.toContain(first?.accessToken);
  });

  it('refuses a wrong secret as Entra does: invalid_client, AADSTS7000215, 401', async () => {
    const app = msalApp(ms, { clientSecret: 'not-the-secret' });
    const err = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).errorCode).toBe('invalid_client');
    expect((err as ServerError).errorMessage).toContain('7000215');

    const raw = await requestToken(ms, { client_id: APP, client_secret: 'wrong', grant_type: 'client_credentials', scope: GRAPH_SCOPE });
    expect(raw.status).toBe(401);
    expect(raw.body).toEqual({
      error: 'invalid_client',
      error_description: expect.stringMatching(/^AADSTS7000215: Invalid client secret provided\./),
      error_codes: [7000215],
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      trace_id: expect.any(String),
      correlation_id: expect.any(String),
    });
    expect(JSON.stringify(ms.requests)).not.toContain('not-the-secret');
  });

  it('signs in with a certificate: msal-node’s client assertion (PS256, x5t#S256) is verified against the registered key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const thumbprintSha256 = randomBytes(32).toString('hex');
    ms.control.registerApp(PARTNER, {
      clientId: 'cert-app',
      certificate: { thumbprintSha256, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const good = msalApp(ms, { clientId: 'cert-app', clientCertificate: { thumbprintSha256, privateKey: pem } });
    const result = await good.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    expect((await graphClient(ms, result?.accessToken).get(REL)).status).toBe(200);

    // The same thumbprint with another key: the signature does not verify.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const bad = msalApp(ms, { clientId: 'cert-app', clientCertificate: { thumbprintSha256, privateKey: other } });
    await expect(bad.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] })).rejects.toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining('700027'),
    });
  });

  it.each([
    ['an unknown tenant', { tenant: '99999999-0000-4000-8000-000000000000' }, 400, 'invalid_request', 90002],
    ['an app of another tenant', { tenant: OTHER_PARTNER }, 400, 'unauthorized_client', 700016],
    ['a customer tenant (the app is in the partner’s)', { tenant: CUSTOMER }, 400, 'unauthorized_client', 700016],
    ['no credential', { form: { client_secret: '' } }, 401, 'invalid_client', 7000216],
    [
      'a scope without /.default',
      { form: { scope: 'https://graph.microsoft.com/DelegatedAdminRelationship.ReadWrite.All' } },
      400,
      'invalid_scope',
      1002012,
    ],
    ['an unknown resource', { form: { scope: 'https://example.com/.default' } }, 400, 'invalid_resource', 500011],
    ['another grant type', { form: { grant_type: 'password' } }, 400, 'unsupported_grant_type', 70003],
    ['no client_id', { form: { client_id: '' } }, 400, 'invalid_request', 900144],
  ] as const)('refuses %s with Entra’s error', async (_name, change, status, error, code) => {
    const form: Record<string, string> = { client_id: APP, client_secret: SECRET, grant_type: 'client_credentials', scope: GRAPH_SCOPE };
    Object.assign(form, 'form' in change ? change.form : {});
    const a = await requestToken(ms, form, 'tenant' in change ? change.tenant : PARTNER);
    expect({ status: a.status, error: a.body.error, codes: a.body.error_codes }).toEqual({ status, error, codes: [code] });
    expect(a.body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
  });

  it('accepts the tenant’s domain in the path, ignores the query and unknown fields, and answers Entra’s success shape', async () => {
    const res = await fetch(`${ms.url}/fabrikam.onmicrosoft.com/oauth2/v2.0/token?client-request-id=abc`, {
      method: 'POST',
      body: new URLSearchParams({
        client_id: APP,
        client_secret: SECRET,
        grant_type: 'client_credentials',
        scope: GRAPH_SCOPE,
        'x-client-SKU': 'msal.js.node',
        'x-ms-lib-capability': 'retry-after, h429',
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(await res.json()).toEqual({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: expect.any(String) });
  });

  it('issues Partner Center tokens, which Graph refuses for their audience', async () => {
    const a = await requestToken(ms, {
      client_id: APP,
      client_secret: SECRET,
      grant_type: 'client_credentials',
      scope: 'https://api.partnercenter.microsoft.com/.default',
    });
    expect(a.status).toBe(200);
    const list = await graphClient(ms, a.body.access_token).get(REL);
    expectGraphError(list, 401, 'InvalidAuthenticationToken');
    expect(list.body.error.message).toBe('Access token validation failure. Invalid audience.');
  });

  it('accepts the stand-in’s own origin as Graph’s resource (a client that scopes to its configured Graph base URL)', async () => {
    const a = await requestToken(ms, {
      client_id: APP,
      client_secret: SECRET,
      grant_type: 'client_credentials',
      scope: `${ms.url}/.default`,
    });
    expect(a.status).toBe(200);
    expect((await graphClient(ms, a.body.access_token).get(REL)).status).toBe(200);
  });
});

describe('Graph without a good token', () => {
  let ms: MicrosoftStandIn;
  beforeAll(async () => {
    ms = await startStandIn();
  });
  afterAll(() => ms.close());

  it.each([
    ['no Authorization header', undefined, 'Access token is empty.'],
    ['a token the stand-in never issued', 'eyJ0eXAiOiJKV1QifQ', 'IDX14100: JWT is not well formed, there are no dots (.).'],
  ])('%s → 401 InvalidAuthenticationToken with Graph’s error body', async (_name, token, message) => {
    const a = await graphClient(ms, token).get(REL, { 'client-request-id': 'my-request-1' });
    expectGraphError(a, 401, 'InvalidAuthenticationToken');
    expect(a.body.error.message).toBe(message);
    expect(a.body.error.innerError['client-request-id']).toBe('my-request-1');
    expect(a.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('an expired token → 401 "Lifetime validation failed, the token is expired."', async () => {
    const a = await requestToken(ms, { client_id: APP, client_secret: SECRET, grant_type: 'client_credentials', scope: GRAPH_SCOPE });
    ms.control.expireTokens();
    const list = await graphClient(ms, a.body.access_token).get(REL);
    expectGraphError(list, 401, 'InvalidAuthenticationToken');
    expect(list.body.error.message).toBe('Lifetime validation failed, the token is expired.');
  });

  it('an app without the GDAP permission → 403 accessDenied; with read only, reads but cannot write', async () => {
    ms.control.registerApp(PARTNER, { clientId: 'reader', clientSecret: 'r', permissions: ['DelegatedAdminRelationship.Read.All'] });
    const a = await requestToken(ms, { client_id: 'reader', client_secret: 'r', grant_type: 'client_credentials', scope: GRAPH_SCOPE });
    const graph = graphClient(ms, a.body.access_token);
    expect((await graph.get(REL)).status).toBe(200);
    expectGraphError(await graph.post(REL, {}), 403, 'accessDenied');
    expectGraphError(await graph.get(`findTenantInformationByTenantId(tenantId='${CUSTOMER}')`), 403, 'accessDenied');
  });
});
