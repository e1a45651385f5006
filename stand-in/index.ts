/**
 * A local stand-in of the Microsoft endpoints the bot uses for delegated admin (GDAP): Entra's token endpoint,
 * Microsoft Graph's delegatedAdminRelationships (with requests, accessAssignments, operations) and tenant
 * information, the Microsoft 365 admin center's approval page, and Partner Center's REST API (customers, catalog,
 * carts, checkout, orders, subscriptions), on one HTTP server on 127.0.0.1, with a control
 * surface for tests and the playground. Shapes follow Microsoft's docs as collected in the research notes; each
 * route's module cites its doc page. See stand-in/README.md.
 */
import { createServer, ServerResponse, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ADMIN_PAGE_PREFIX, handleAdmin, rewriteApprovalLink } from './admin-page';
import { Clock } from './clock';
import { createControl, handleControl } from './control';
import { faultAnswer, Faults } from './faults';
import { handleGraph } from './graph';
import { handlePartnerCenter, PARTNER_CENTER_PREFIX, pcIds } from './partner-center';
import { PartnerCenterState } from './pc-state';
import { BodyTooLarge, sendJson } from './http';
import { handleToken, TOKEN_PATH } from './token';
import { DEFAULT_DELAYS, World } from './world';
import type { MicrosoftStandIn, RequestLogEntry, StandInOptions } from './types';

export type * from './types';
export { rewriteApprovalLink } from './admin-page';
export { parseIsoDuration } from './clock';
export { GLOBAL_ADMINISTRATOR, roleName } from './roles';
export { resellerInvitationLink } from './partner-center';
export { DEFAULT_TERMS, TRIAL_TERMS } from './pc-state';

/** Where msal-node would send a client-credentials request if not told otherwise (kept as the authority). */
export const MICROSOFT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

function classify(pathname: string): RequestLogEntry['kind'] | 'control' {
  if (/^\/_control(\/|$)/.test(pathname)) return 'control';
  if (TOKEN_PATH.test(pathname)) return 'token';
  if (/^\/v1\.0(\/|$)/i.test(pathname)) return 'graph';
  if (pathname.toLowerCase() === PARTNER_CENTER_PREFIX || pathname.toLowerCase().startsWith(`${PARTNER_CENTER_PREFIX}/`))
    return 'partnercenter';
  if (/^\/AdminPortal(\/|$)/i.test(pathname) || pathname.toLowerCase().startsWith(ADMIN_PAGE_PREFIX.toLowerCase().slice(0, 7)))
    return 'admin';
  return 'other';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startMicrosoftStandIn(options: StandInOptions = {}): Promise<MicrosoftStandIn> {
  const clock = new Clock(options.now, options.freezeClock ?? false);
  const world = new World(
    clock,
    { ...DEFAULT_DELAYS, ...options.delays },
    options.tokenLifetimeSeconds ?? 3599,
    options.defaultPageSize ?? 300,
  );
  for (const p of options.partners ?? []) world.registerPartner(p);
  for (const c of options.customers ?? []) world.registerCustomer(c);
  const pc = new PartnerCenterState(options.partnerCenter?.orderCompletionMs ?? 0);
  for (const p of options.partnerCenter?.products ?? []) pc.addProduct(p);
  for (const r of options.partnerCenter?.resellers ?? []) pc.addReseller(r.partnerTenantId, r.customerTenantId);
  const faults = new Faults();
  const log = { entries: [] as RequestLogEntry[] };
  const control = createControl(world, faults, log, pc);
  const sockets = new Set<Socket>();
  let base = '';

  const dispatch = async (kind: RequestLogEntry['kind'], req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry) => {
    if (kind === 'token') return handleToken(world, req, res, url, entry);
    if (kind === 'graph') return handleGraph(world, req, res, url, entry);
    if (kind === 'admin') return handleAdmin(world, control, req, res, url, entry);
    if (kind === 'partnercenter') return handlePartnerCenter(world, pc, req, res, url, entry);
    return sendJson(res, 404, { error: { code: 'NotFound', message: `Nothing is served at ${url.pathname} by the Microsoft stand-in.` } });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    const kind = classify(url.pathname);
    if (kind === 'control') return handleControl(control, world, log, req, res, url);
    const method = req.method ?? 'GET';
    const entry: RequestLogEntry = { at: clock.now().toISOString(), method, path: `${url.pathname}${url.search}`, kind };
    log.entries.push(entry);
    if (kind === 'partnercenter') {
      // Logged even when a fault answers: a client's retries should keep MS-RequestId (Partner Center's headers page).
      const ids = pcIds(req);
      if (ids.sentRequestId) entry.msRequestId = ids.sentRequestId;
      if (ids.sentCorrelationId) entry.msCorrelationId = ids.sentCorrelationId;
    }
    res.on('finish', () => {
      if (entry.status === undefined) entry.status = res.statusCode;
    });
    const fault = faults.take(kind, method, decodeURIComponent(url.pathname));
    if (fault) {
      entry.fault = fault.kind;
      if (fault.kind === 'throttle' || fault.kind === 'error') {
        req.resume();
        const answer = faultAnswer(fault, kind, req, clock.now());
        return sendJson(res, answer.status, answer.body, answer.headers);
      }
      if (fault.kind === 'delay') await sleep(fault.spec.delayMs ?? 0);
      else {
        // hang, drop, reset: optionally do the work first, then lose the answer.
        if (fault.spec.afterProcessing) await dispatch(kind, req, new ServerResponse(req), url, entry);
        else req.resume();
        entry.status = fault.kind;
        if (fault.kind === 'drop') req.socket.destroy();
        else if (fault.kind === 'reset') req.socket.resetAndDestroy();
        return; // hang: the socket stays open until the client gives up or close()
      }
    }
    await dispatch(kind, req, res, url, entry);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof BodyTooLarge) {
        if (!res.headersSent) sendJson(res, 413, { error: { code: 'RequestEntityTooLarge', message: e.message } }, { Connection: 'close' });
        return;
      }
      console.error('stand-in: request failed', e);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'generalException', message: 'An unspecified error has occurred.' } });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  base = `http://${host}:${address.port}`;
  world.origin = base;
  const tokenEndpoint = (tenantId: string) => `${base}/${tenantId}/oauth2/v2.0/token`;

  return {
    url: base,
    graphBaseUrl: `${base}/v1.0`,
    partnerCenterBaseUrl: `${base}${PARTNER_CENTER_PREFIX}`,
    authorityHost: MICROSOFT_AUTHORITY_HOST,
    tokenEndpoint,
    authorityMetadata: (tenantId) =>
      JSON.stringify({
        token_endpoint: tokenEndpoint(tenantId),
        authorization_endpoint: `${base}/${tenantId}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/${tenantId}/oauth2/v2.0/logout`,
        issuer: `${MICROSOFT_AUTHORITY_HOST}/${tenantId}/v2.0`,
        jwks_uri: `${base}/${tenantId}/discovery/v2.0/keys`,
      }),
    adminCenterLink: (relationshipId) => `${base}${ADMIN_PAGE_PREFIX}${relationshipId}`,
    rewriteApprovalLink: (link) => rewriteApprovalLink(link, base),
    control,
    get requests() {
      return log.entries.map((e) => ({ ...e }));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      }),
  };
}
