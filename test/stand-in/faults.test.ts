import { ConfidentialClientApplication, ServerError } from '@azure/msal-node';
import type { MicrosoftStandIn } from '../../stand-in';
import {
  APP,
  expectGraphError,
  GRAPH_SCOPE,
  graphClient,
  PARTNER,
  REL,
  relationshipBody,
  SECRET,
  startStandIn,
  tokenFor,
  type Graph,
} from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The error a fetch rejects with, and the network code under it (ECONNRESET, UND_ERR_SOCKET, ...). */
async function networkFailure(p: Promise<unknown>): Promise<{ name: string; code: string | undefined }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error & { cause?: { code?: string } },
  );
  if (!err) throw new Error('expected the request to fail');
  return { name: err.name, code: err.cause?.code };
}

describe('faults a client must survive', () => {
  let ms: MicrosoftStandIn;
  let graph: Graph;
  beforeAll(async () => {
    ms = await startStandIn();
    graph = graphClient(ms, await tokenFor(ms));
  });
  afterAll(() => ms.close());
  beforeEach(() => {
    ms.control.clearFaults();
    ms.control.clearRequests();
  });

  it('429 with a fractional Retry-After for the next 3 Graph calls, Graph’s throttling body, then normal answers', async () => {
    ms.control.fault({ kind: 'throttle', times: 3, retryAfterSeconds: 2.128 });
    for (let i = 0; i < 3; i++) {
      const a = await graph.get(REL);
      expect(a.status).toBe(429);
      expect(a.headers.get('retry-after')).toBe('2.128');
      expect(a.body).toEqual({
        error: {
          code: 'TooManyRequests',
          message: 'Please retry again later.',
          innerError: expect.objectContaining({
            code: '429',
            message: 'Please retry after',
            status: '429',
            'request-id': expect.any(String),
            date: expect.any(String),
          }),
        },
      });
    }
    expect((await graph.get(REL)).status).toBe(200);
    expect(ms.requests.map((r) => [r.status, r.fault])).toEqual([
      [429, 'throttle'],
      [429, 'throttle'],
      [429, 'throttle'],
      [200, undefined],
    ]);
    expect(ms.control.faults()).toEqual([]);
  });

  it('a fault can be limited to a method and a path: only the lockForApproval POST is throttled', async () => {
    const id = (await graph.post(REL, relationshipBody({ displayName: 'Throttled lock' }))).body.id;
    ms.control.fault({ kind: 'throttle', method: 'POST', path: '/requests', retryAfterSeconds: 1 });
    expect((await graph.get(`${REL}/${id}`)).status).toBe(200);
    expect((await graph.post(`${REL}/${id}/requests`, { action: 'lockForApproval' })).status).toBe(429);
    expect((await graph.get(`${REL}/${id}`)).body.status).toBe('created');
    expect((await graph.post(`${REL}/${id}/requests`, { action: 'lockForApproval' })).status).toBe(201);
    expect((await graph.get(`${REL}/${id}`)).body.status).toBe('approvalPending');
  });

  it.each([
    [503, 'serviceNotAvailable', 5],
    [500, 'generalException', undefined],
    [502, 'badGateway', undefined],
    [504, 'gatewayTimeout', undefined],
  ])('%s → %s with Graph’s error body (Retry-After only when given)', async (status, code, retryAfterSeconds) => {
    ms.control.fault({ kind: 'error', status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
    const a = await graph.get(REL);
    expectGraphError(a, status, code);
    expect(a.headers.get('retry-after')).toBe(retryAfterSeconds === undefined ? null : String(retryAfterSeconds));
    expect((await graph.get(REL)).status).toBe(200);
  });

  it('hang: no answer at all, so the client’s own timeout fires; the next call is answered', async () => {
    ms.control.fault({ kind: 'hang' });
    const started = Date.now();
    expect((await networkFailure(graph.get(REL, {}, AbortSignal.timeout(300)))).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect((await graph.get(REL)).status).toBe(200);
    expect(ms.requests.map((r) => r.status)).toEqual(['hang', 200]);
  });

  it('delay: the answer comes after the delay', async () => {
    ms.control.fault({ kind: 'delay', delayMs: 400 });
    const started = Date.now();
    expect((await graph.get(REL)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('drop and reset: the connection ends without an answer', async () => {
    ms.control.fault({ kind: 'drop' });
    expect((await networkFailure(graph.get(REL))).name).toBe('TypeError'); // fetch failed
    ms.control.fault({ kind: 'reset' });
    expect(await networkFailure(graph.get(REL))).toEqual({ name: 'TypeError', code: 'ECONNRESET' });
    expect((await graph.get(REL)).status).toBe(200);
    expect(ms.requests.map((r) => r.status)).toEqual(['drop', 'reset', 200]);
  });

  it('a create that times out but happened (afterProcessing) is found by its display name, not created twice', async () => {
    ms.control.fault({ kind: 'hang', method: 'POST', path: 'delegatedAdminRelationships', afterProcessing: true });
    const body = relationshipBody({ displayName: 'Created while the client gave up' });
    expect((await networkFailure(graph.post(REL, body, {}, AbortSignal.timeout(300)))).name).toBe('TimeoutError');
    const found = await graph.get(`${REL}?$filter=${encodeURIComponent("displayName eq 'Created while the client gave up'")}`);
    expect(found.body.value).toHaveLength(1);
    expect(found.body.value[0].status).toBe('created');
    // Creating it again is refused: the name is taken.
    expectGraphError(await graph.post(REL, body), 400, 'badRequest');
  });

  it('faults armed over HTTP under /_control/ work the same, and "always" lasts until removed', async () => {
    const res = await fetch(`${ms.url}/_control/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'error', status: 503, times: 'always', pathRegex: 'findTenantInformation' }),
    });
    expect(res.status).toBe(200);
    const fault = (await res.json()) as { id: string };
    expect(fault).toEqual(expect.objectContaining({ id: expect.any(String), kind: 'error', target: 'graph', remaining: 'always' }));
    for (let i = 0; i < 3; i++) expect((await graph.get(`findTenantInformationByTenantId(tenantId='${PARTNER}')`)).status).toBe(503);
    expect((await graph.get(REL)).status).toBe(200);
    expect((await fetch(`${ms.url}/_control/faults/${fault.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await graph.get(`findTenantInformationByTenantId(tenantId='${PARTNER}')`)).status).toBe(200);
    const bad = await fetch(`${ms.url}/_control/faults`, { method: 'POST', body: JSON.stringify({ kind: 'explode' }) });
    expect(bad.status).toBe(400);
  });
});

describe('token endpoint down, as msal-node sees it', () => {
  let ms: MicrosoftStandIn;
  beforeAll(async () => {
    ms = await startStandIn();
  });
  afterAll(() => ms.close());

  const msal = () =>
    new ConfidentialClientApplication({
      auth: {
        clientId: APP,
        clientSecret: SECRET,
        authority: `${ms.authorityHost}/${PARTNER}`,
        authorityMetadata: ms.authorityMetadata(PARTNER),
      },
    });
  const tokenRequests = () => ms.requests.filter((r) => r.kind === 'token').length;

  it('5xx with Retry-After: msal fails with the server’s error, holds off for Retry-After, then gets a token once it is up', async () => {
    ms.control.tokenEndpointDown({ status: 503, retryAfterSeconds: 1 });
    const app = msal();
    const err = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ errorCode: 'temporarily_unavailable', status: 503 });
    const before = tokenRequests();
    ms.control.tokenEndpointUp();
    // Within Retry-After msal answers from its throttle cache without asking the endpoint.
    await expect(app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] })).rejects.toBeInstanceOf(ServerError);
    expect(tokenRequests()).toBe(before);
    await sleep(1100);
    const ok = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    expect(ok?.accessToken).toEqual(expect.any(String));
    expect(tokenRequests()).toBe(before + 1);
  });

  it('connection reset: msal fails with a network error; once up, the next call gets a token', async () => {
    ms.control.tokenEndpointDown({ mode: 'reset' });
    const app = msal();
    await expect(app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] })).rejects.toThrow();
    expect(ms.requests.at(-1)).toEqual(expect.objectContaining({ kind: 'token', status: 'reset', fault: 'reset' }));
    ms.control.tokenEndpointUp();
    expect((await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }))?.accessToken).toEqual(expect.any(String));
  });

  it('Graph keeps answering while the token endpoint is down', async () => {
    const token = await tokenFor(ms);
    ms.control.tokenEndpointDown();
    expect((await graphClient(ms, token).get(REL)).status).toBe(200);
    ms.control.tokenEndpointUp();
  });
});
