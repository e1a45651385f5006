/**
 * Microsoft Graph v1.0 as the bot uses it: bearer-token check, permission check, then the GDAP and tenant
 * information routes. Every error has Graph's shape (https://learn.microsoft.com/en-us/graph/errors).
 *
 * Calls act in the partner's own tenant: "the calling principal must be in the partner tenant"
 * (https://learn.microsoft.com/en-us/graph/api/resources/delegatedadminrelationships-api-overview), so a token's
 * tenant decides which relationships it sees.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { graphErrorBody, readBody, requestIds, sendJson } from './http';
import { ODataError } from './odata';
import { progressAll } from './lifecycle';
import { handleAssignments } from './assignments';
import { handleRelationships } from './relationships';
import { handleTenantInformation } from './tenant-info';
import type { IssuedToken, Tenant, World } from './world';
import type { RequestLogEntry } from './types';

export class GraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new GraphHttpError(400, 'badRequest', message);
/** OData-level problems (unknown property, unknown segment, bad query) use Graph's PascalCase `BadRequest`. */
export const odataBadRequest = (message: string) => new GraphHttpError(400, 'BadRequest', message);
export const notFound = (message: string) => new GraphHttpError(404, 'itemNotFound', message);

export interface GraphContext {
  world: World;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** `<stand-in>/v1.0` */
  graphBase: string;
  token: IssuedToken;
  partner: Tenant;
  /** Path segments after `/v1.0/tenantRelationships/`, decoded. */
  segments: string[];
  ids: { requestId: string; clientRequestId: string };
  send(status: number, body: unknown, headers?: Record<string, string>): void;
  /** The JSON body, or a Graph 400 when it is not a JSON object. */
  body(): Promise<Record<string, unknown>>;
}

const READ = ['DelegatedAdminRelationship.Read.All', 'DelegatedAdminRelationship.ReadWrite.All'];
const WRITE = ['DelegatedAdminRelationship.ReadWrite.All'];
const TENANT_INFO = ['CrossTenantInformation.ReadBasic.All'];

export async function handleGraph(world: World, req: IncomingMessage, res: ServerResponse, url: URL, log: RequestLogEntry): Promise<void> {
  const ids = requestIds(req);
  const graphBase = `${url.origin}/v1.0`;
  const headers = { 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId };
  const send = (status: number, body: unknown, extra: Record<string, string> = {}) =>
    sendJson(res, status, body, {
      ...headers,
      ...extra,
      ...(body === undefined
        ? {}
        : { 'Content-Type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8' }),
    });
  const fail = (e: GraphHttpError) => send(e.status, graphErrorBody(e.code, e.message, ids, world.clock.now(), e.innerCode), e.headers);
  try {
    const token = authenticate(world, req);
    log.tenantId = token.tenantId;
    log.clientId = token.clientId;
    const partner = world.tenant(token.tenantId);
    if (!partner || partner.kind !== 'partner')
      throw new GraphHttpError(403, 'accessDenied', 'The calling principal must be in the partner tenant.');
    progressAll(world);
    const path = decodeURIComponent(url.pathname).replace(/^\/v1\.0\/?/i, '');
    const segments = path.split('/').filter(Boolean);
    if (segments[0]?.toLowerCase() !== 'tenantrelationships' || segments.length < 2)
      throw odataBadRequest(`Resource not found for the segment '${segments[0] ?? ''}'.`);
    const rest = segments.slice(1);
    const ctx: GraphContext = {
      world,
      req,
      res,
      url,
      graphBase,
      token,
      partner,
      segments: rest,
      ids,
      send,
      body: async () => {
        const text = await readBody(req);
        let parsed: unknown;
        try {
          parsed = text.trim() === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw odataBadRequest(
            'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
          );
        return parsed as Record<string, unknown>;
      },
    };
    const first = rest[0] ?? '';
    if (/^findTenantInformationByTenantId\(/i.test(first)) {
      requirePermission(token, TENANT_INFO);
      return handleTenantInformation(ctx);
    }
    if (first.toLowerCase() !== 'delegatedadminrelationships') throw odataBadRequest(`Resource not found for the segment '${first}'.`);
    requirePermission(token, req.method === 'GET' ? READ : WRITE);
    if (rest[2]?.toLowerCase() === 'accessassignments') return await handleAssignments(ctx);
    return await handleRelationships(ctx);
  } catch (e) {
    if (e instanceof GraphHttpError) return fail(e);
    if (e instanceof ODataError) return fail(odataBadRequest(e.message));
    if (e instanceof URIError) return fail(odataBadRequest('The request URI is not valid.'));
    console.error('stand-in: Graph handler failed', e);
    return fail(new GraphHttpError(500, 'generalException', 'An unspecified error has occurred.'));
  }
}

/** 401 InvalidAuthenticationToken, with the messages Graph gives for each case. */
function authenticate(world: World, req: IncomingMessage): IssuedToken {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const unauthorized = (message: string) =>
    new GraphHttpError(401, 'InvalidAuthenticationToken', message, undefined, {
      'WWW-Authenticate':
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
    });
  if (!m?.[1]) throw unauthorized('Access token is empty.');
  const token = world.tokens.get(m[1]);
  if (!token) throw unauthorized('IDX14100: JWT is not well formed, there are no dots (.).');
  if (Date.now() >= token.expiresAtRealMs) throw unauthorized('Lifetime validation failed, the token is expired.');
  if (!world.isGraphResource(token.resource)) throw unauthorized('Access token validation failure. Invalid audience.');
  return token;
}

function requirePermission(token: IssuedToken, anyOf: string[]): void {
  if (!anyOf.some((p) => token.permissions.includes(p)))
    throw new GraphHttpError(
      403,
      'accessDenied',
      `Insufficient privileges to complete the operation. Requires one of: ${anyOf.join(', ')}.`,
    );
}

/**
 * `If-Match` is required on PATCH and DELETE (https://learn.microsoft.com/en-us/graph/api/delegatedadminrelationship-update,
 * .../delegatedadminrelationship-delete, .../delegatedadminaccessassignment-update, .../delegatedadminaccessassignment-delete).
 * Missing, malformed or stale → 412 Precondition Failed. The exact code Graph gives a missing If-Match is not
 * documented; `resourceModified`/`entityTagDoesNotMatch` and `malformedEntityTag` are from the errors page.
 * `*` is refused too: the docs ask for the object's etag, so a client must send the one it read.
 */
export function checkIfMatch(req: IncomingMessage, etag: string): void {
  const header = req.headers['if-match'];
  if (header === undefined || header.trim() === '')
    throw new GraphHttpError(
      412,
      'preconditionFailed',
      'The If-Match header is required for this request. Send the @odata.etag of the object.',
    );
  const tags = header.split(',').map((t) => t.trim());
  if (tags.some((t) => !/^(W\/)?"[^"]*"$/.test(t)))
    throw new GraphHttpError(412, 'preconditionFailed', 'ETag header is malformed. ETags must be quoted strings.', 'malformedEntityTag');
  const opaque = (t: string) => t.replace(/^W\//, '');
  if (!tags.some((t) => opaque(t) === opaque(etag)))
    throw new GraphHttpError(
      412,
      'resourceModified',
      'The resource has been modified since it was last read (the If-Match etag does not match). Read it again and retry.',
      'entityTagDoesNotMatch',
    );
}

export function methodNotAllowed(): GraphHttpError {
  return new GraphHttpError(405, 'BadRequest', 'Specified HTTP method is not allowed for the request uri.');
}

/** Refuse properties the type does not have, as OData does; `allowed` are the writable ones, `ignored` read-only ones. */
export function checkProperties(body: Record<string, unknown>, type: string, allowed: string[], ignored: string[] = []): void {
  for (const key of Object.keys(body)) {
    if (key.startsWith('@odata.') || allowed.includes(key) || ignored.includes(key)) continue;
    throw odataBadRequest(
      `The property '${key}' does not exist on type 'microsoft.graph.${type}'. Make sure to only use property names that are defined by the type.`,
    );
  }
}
