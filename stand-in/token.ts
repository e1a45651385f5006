/**
 * Entra's token endpoint for the client credentials grant, as msal-node calls it:
 * POST /{tenant}/oauth2/v2.0/token, form body client_id, scope, grant_type=client_credentials and client_secret or
 * client_assertion + client_assertion_type (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
 * msal-node adds `?client-request-id=...` and telemetry fields (x-client-SKU, ...): the query and unknown fields are
 * ignored. The access token is an opaque random string the stand-in remembers; nobody is meant to parse it.
 * Error codes and texts are Entra's (AADSTS...), with the shape of the doc's error response.
 */
import { createHash, timingSafeEqual, verify, constants, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { entraErrorBody, newOpaqueToken, readBody, sendJson } from './http';
import type { App, Tenant, World } from './world';
import type { RequestLogEntry } from './types';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Partner Center's resource: a token for it is issued, but Graph refuses it (wrong audience). */
const PARTNER_CENTER = /^https:\/\/api\.partnercenter\.microsoft\.com\/?$/i;
const OIDC_SCOPES = ['openid', 'profile', 'offline_access'];

class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    description: string,
  ) {
    super(description);
  }
}

export const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token\/?$/i;

export async function handleToken(world: World, req: IncomingMessage, res: ServerResponse, url: URL, log: RequestLogEntry): Promise<void> {
  const tenantSegment = decodeURIComponent(TOKEN_PATH.exec(url.pathname)?.[1] ?? '');
  log.tenantId = tenantSegment;
  const headers = { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' };
  try {
    if (req.method !== 'POST') throw new EntraError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    const form = new URLSearchParams(await readBody(req));
    const field = (name: string) => {
      const v = form.get(name);
      if (v === null || v === '')
        throw new EntraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
      return v;
    };
    const grantType = field('grant_type');
    if (grantType !== 'client_credentials')
      throw new EntraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    const clientId = field('client_id');
    log.clientId = clientId;
    const tenant = world.tenant(tenantSegment);
    if (!tenant)
      throw new EntraError(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    log.tenantId = tenant.tenantId;
    const app = world.app(tenant.tenantId, clientId);
    if (!app)
      throw new EntraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    await authenticateClient(app, tenant, form, url);
    const resource = readScope(world, form.get('scope') ?? '', tenant);
    const token = newOpaqueToken();
    world.tokens.set(token, {
      tenantId: tenant.tenantId,
      clientId: app.clientId,
      resource,
      permissions: app.permissions,
      expiresAtRealMs: Date.now() + world.tokenLifetimeSeconds * 1000,
    });
    sendJson(
      res,
      200,
      { token_type: 'Bearer', expires_in: world.tokenLifetimeSeconds, ext_expires_in: world.tokenLifetimeSeconds, access_token: token },
      headers,
    );
  } catch (e) {
    if (!(e instanceof EntraError)) {
      console.error('stand-in: token handler failed', e);
      sendJson(
        res,
        500,
        entraErrorBody('server_error', 90033, 'A transient error has occurred. Please try again.', world.clock.now()),
        headers,
      );
      return;
    }
    sendJson(res, e.status, entraErrorBody(e.error, e.code, e.message, world.clock.now()), headers);
  }
}

function readScope(world: World, scope: string, tenant: Tenant): string {
  const scopes = scope.split(/\s+/).filter((s) => s && !OIDC_SCOPES.includes(s.toLowerCase()));
  if (scopes.length === 0)
    throw new EntraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
  if (scopes.length > 1 || !scopes[0]?.endsWith('/.default'))
    throw new EntraError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  const resource = scopes[0].slice(0, -'/.default'.length);
  // Graph (https://graph.microsoft.com, its app id, or the stand-in's own origin, which plays Graph here) or Partner Center.
  if (!world.isGraphResource(resource) && !PARTNER_CENTER.test(resource))
    throw new EntraError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant.displayName}.`,
    );
  return resource;
}

async function authenticateClient(app: App, tenant: Tenant, form: URLSearchParams, url: URL): Promise<void> {
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (secret) {
    if (!app.clientSecret || !sameSecret(secret, app.clientSecret))
      throw new EntraError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      );
    return;
  }
  if (assertion) {
    if (form.get('client_assertion_type') !== ASSERTION_TYPE)
      throw new EntraError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_assertion_type'.",
      );
    verifyAssertion(app, tenant, assertion, url);
    return;
  }
  throw new EntraError(
    401,
    'invalid_client',
    7000216,
    "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
  );
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * A certificate credential: a JWT signed with the certificate's key (RS256 with `x5t`, or PS256 with `x5t#S256`,
 * as msal-node makes it), aud = the token endpoint, iss = sub = client id, within nbf..exp
 * (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials).
 */
function verifyAssertion(app: App, tenant: Tenant, jwt: string, url: URL): void {
  const malformed = () => new EntraError(400, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
  const parts = jwt.split('.');
  if (parts.length !== 3) throw malformed();
  const [h = '', p = '', s = ''] = parts;
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw malformed();
  }
  const cert = app.certificate;
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? Buffer.from(header['x5t#S256'], 'base64url').toString('hex') : undefined;
  const x5t = typeof header.x5t === 'string' ? Buffer.from(header.x5t, 'base64url').toString('hex') : undefined;
  const known = cert && ((x5tS256 !== undefined && x5tS256 === cert.thumbprintSha256) || (x5t !== undefined && x5t === cert.thumbprint));
  if (!cert || !known)
    throw new EntraError(
      401,
      'invalid_client',
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${(x5tS256 ?? x5t ?? '').toUpperCase()}']`,
    );
  if (!signatureValid(String(header.alg), `${h}.${p}`, Buffer.from(s, 'base64url'), cert.publicKey))
    throw new EntraError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
  if (payload.iss !== payload.sub || String(payload.sub).toLowerCase() !== app.clientId)
    throw new EntraError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
  const aud = typeof payload.aud === 'string' ? payload.aud.toLowerCase() : '';
  const okAud = [`/${tenant.tenantId}/oauth2/v2.0/token`, `/${tenant.defaultDomainName.toLowerCase()}/oauth2/v2.0/token`].some((end) =>
    aud.endsWith(end),
  );
  if (!okAud)
    throw new EntraError(
      401,
      'invalid_client',
      700016,
      `The client assertion's audience claim does not match Realm issuer. Expected ${url.origin}${url.pathname}.`,
    );
  const nowSeconds = Date.now() / 1000;
  const exp = Number(payload.exp);
  const nbf = payload.nbf === undefined ? 0 : Number(payload.nbf);
  if (!(exp > nowSeconds - 300) || nbf > nowSeconds + 300)
    throw new EntraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
}

function signatureValid(alg: string, signingInput: string, signature: Buffer, key: KeyObject): boolean {
  const data = Buffer.from(signingInput);
  if (alg === 'RS256') return verify('sha256', data, key, signature);
  if (alg === 'PS256')
    return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature);
  return false;
}
