import type { MicrosoftApp } from '../../../src/directory/microsoft';
import { approvalLink, createGraphClient, GraphError, relationshipBody, type GdapClient } from '../../../src/delegation/graph';
import { freePort } from '../../support/free-port';
import { capturingLogger, tinyServer, tokenEndpoint, type Reply, type Seen, failure } from './tiny-server';

const PARTNER = '8a1b2c3d-0000-4000-8000-00000000f001';
const CUSTOMER = '4b827261-d21f-4aa9-b7db-7fa1f56fb163';
const SECRET = 'graph-client-test-secret';
const EXCHANGE = '29232cdf-9323-42fd-ade2-1d097af3e4de';
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const REL_ID = '5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836';
const BASE = '/v1.0/tenantRelationships/delegatedAdminRelationships';

const app: MicrosoftApp = {
  tenantId: PARTNER,
  clientId: '11111111-1111-1111-1111-111111111111',
  credential: { kind: 'secretEnv', name: 'GRAPH_SECRET' },
  securityGroups: [],
};

/** Graph's documented create answer (docs example), with overrides. */
const relationshipJson = (over: Record<string, unknown> = {}) => ({
  '@odata.type': '#microsoft.graph.delegatedAdminRelationship',
  '@odata.context': 'https://graph.microsoft.com/v1.0/tenantRelationships/$metadata#delegatedAdminRelationships/$entity',
  '@odata.etag': 'W/"JyIxODAwZTY4My0wMDAwLTAyMDAtMDAwMC02MTU0OWFmMDAwMDAiJw=="',
  id: REL_ID,
  displayName: 'Partner Offers D-4K7P2Q',
  duration: 'P730D',
  customer: { tenantId: CUSTOMER, displayName: 'Contoso subsidiary Inc' },
  accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE }] },
  status: 'created',
  autoExtendDuration: 'P180D',
  createdDateTime: '2022-02-10T11:24:42.3148266Z',
  lastModifiedDateTime: '2022-02-10T11:24:42.3148266Z',
  activatedDateTime: '',
  endDateTime: '2024-02-10T11:24:42.3148266Z',
  ...over,
});

type GraphHandler = (req: Seen, body: Record<string, unknown>) => Reply | Promise<Reply>;

async function rig(graph: GraphHandler, opts: { timeoutMs?: number } = {}) {
  let tokenCount = 0;
  const server = await tinyServer((req) => {
    const token = tokenEndpoint(SECRET, () => `eyJ.token-${++tokenCount}.sig`)(req);
    if (token) return token;
    return graph(req, req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {});
  });
  const { log, lines } = capturingLogger();
  const graphClient = createGraphClient({
    authorityHost: server.url,
    graphBaseUrl: `${server.url}/v1.0`,
    log,
    timeoutMs: opts.timeoutMs ?? 5_000,
    sources: { env: { GRAPH_SECRET: SECRET }, readFile: () => '' },
  });
  const graphCalls = () => server.seen.filter((s) => s.url.pathname.startsWith('/v1.0/'));
  return { server, client: graphClient.forPartner(app), lines, graphCalls, tokenCount: () => tokenCount };
}

async function using<T>(r: Awaited<ReturnType<typeof rig>>, run: (client: GdapClient) => Promise<T>): Promise<T> {
  try {
    return await run(r.client);
  } finally {
    await r.server.close();
  }
}

describe('Graph GDAP client: requests as Microsoft documents them', () => {
  it('creates a relationship: duration in days, roles as template ids, the customer pinned, auto-extend P180D', async () => {
    const r = await rig(() => ({
      status: 201,
      headers: { 'request-id': 'graph-req-1', location: `https://graph.microsoft.com${BASE}/${REL_ID}` },
      body: relationshipJson(),
    }));
    await using(r, async (client) => {
      const created = await client.createRelationship({
        displayName: 'Partner Offers D-4K7P2Q',
        customerTenantId: CUSTOMER,
        roleIds: [EXCHANGE.toUpperCase(), EXCHANGE],
        durationDays: 730,
        autoExtend: true,
      });
      const [call] = r.graphCalls();
      expect(call!.method).toBe('POST');
      expect(call!.url.pathname).toBe(BASE);
      expect(call!.headers.authorization).toMatch(/^Bearer eyJ\.token-1\.sig$/);
      expect(call!.headers['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse(call!.body)).toEqual({
        displayName: 'Partner Offers D-4K7P2Q',
        duration: 'P730D',
        customer: { tenantId: CUSTOMER },
        accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE }] },
        autoExtendDuration: 'P180D',
      });
      expect(created).toEqual({
        id: REL_ID,
        displayName: 'Partner Offers D-4K7P2Q',
        status: 'created',
        etag: 'W/"JyIxODAwZTY4My0wMDAwLTAyMDAtMDAwMC02MTU0OWFmMDAwMDAiJw=="',
        customerTenantId: CUSTOMER,
        customerDisplayName: 'Contoso subsidiary Inc',
        roleIds: [EXCHANGE],
        duration: 'P730D',
        durationDays: 730,
        autoExtendDuration: 'P180D',
        autoExtends: true,
        createdDateTime: '2022-02-10T11:24:42.3148266Z',
        lastModifiedDateTime: '2022-02-10T11:24:42.3148266Z',
        activatedDateTime: null,
        endDateTime: '2024-02-10T11:24:42.3148266Z',
      });
      expect(r.lines.join('\n')).toContain('graph-req-1');
    });
  });

  it('never auto-extends Global Administrator, and checks the body before sending it', () => {
    const body = relationshipBody({ displayName: 'x', roleIds: [GLOBAL_ADMIN, EXCHANGE], durationDays: 31, autoExtend: true });
    expect(body).toMatchObject({ duration: 'P31D', autoExtendDuration: 'PT0S' });
    expect(body).not.toHaveProperty('customer');
    expect(relationshipBody({ displayName: 'x', roleIds: [EXCHANGE], durationDays: 1, autoExtend: false })).toMatchObject({
      autoExtendDuration: 'PT0S',
    });
    const bad = (over: object) => () =>
      relationshipBody({ displayName: 'x', roleIds: [EXCHANGE], durationDays: 30, autoExtend: false, ...over });
    expect(bad({ displayName: 'x'.repeat(51) })).toThrow(/displayName must be 1 to 50 characters \(it is 51\)/);
    expect(bad({ durationDays: 731 })).toThrow(/durationDays must be a whole number from 1 to 730/);
    expect(bad({ durationDays: 0 })).toThrow(GraphError);
    expect(bad({ roleIds: [] })).toThrow(/at least one role/);
  });

  it('reads not-yet-set dates as null whether Graph sends "", null or nothing, and unknown statuses as unknownFutureValue', async () => {
    const answers = [
      relationshipJson({ status: 'approvalPending', activatedDateTime: null, endDateTime: null }),
      relationshipJson({ status: 'approvalPending', activatedDateTime: undefined, endDateTime: '' }),
      relationshipJson({
        status: 'active',
        activatedDateTime: '2022-02-11T10:00:00Z',
        endDateTime: '2024-02-11T10:00:00Z',
        autoExtendDuration: 'PT0S',
      }),
      relationshipJson({ status: 'somethingNew', customer: null, accessDetails: null }),
    ];
    let i = 0;
    const r = await rig(() => ({ status: 200, body: answers[i++] }));
    await using(r, async (client) => {
      expect(await client.getRelationship(REL_ID)).toMatchObject({ status: 'approvalPending', activatedDateTime: null, endDateTime: null });
      expect(await client.getRelationship(REL_ID)).toMatchObject({ activatedDateTime: null, endDateTime: null });
      expect(await client.getRelationship(REL_ID)).toMatchObject({
        status: 'active',
        activatedDateTime: '2022-02-11T10:00:00Z',
        endDateTime: '2024-02-11T10:00:00Z',
        autoExtends: false,
      });
      expect(await client.getRelationship(REL_ID)).toMatchObject({ status: 'unknownFutureValue', customerTenantId: null, roleIds: [] });
      expect(r.graphCalls()[0]!.url.pathname).toBe(`${BASE}/${REL_ID}`);
    });
  });

  it('locks for approval and terminates through the requests collection', async () => {
    const r = await rig((req, body) => ({
      status: 201,
      body: {
        id: '5a6666c9-7282-0a41-67aa-25a5a3fbf339',
        action: body.action,
        status: 'created',
        createdDateTime: '2022-02-10T10:55:47.1180588Z',
        lastModifiedDateTime: '2022-02-10T10:55:47.1180588Z',
      },
    }));
    await using(r, async (client) => {
      expect(await client.lockForApproval(REL_ID)).toMatchObject({ action: 'lockForApproval', status: 'created' });
      expect(await client.terminate(REL_ID)).toMatchObject({ action: 'terminate' });
      expect(r.graphCalls().map((c) => [c.method, c.url.pathname, JSON.parse(c.body)])).toEqual([
        ['POST', `${BASE}/${REL_ID}/requests`, { action: 'lockForApproval' }],
        ['POST', `${BASE}/${REL_ID}/requests`, { action: 'terminate' }],
      ]);
    });
  });

  it('creates, reads and lists access assignments, following nextLink pages', async () => {
    const GROUP = '869713c9-0b28-4d08-8949-ae07ae1bf528';
    const assignment = (id: string, status = 'pending') => ({
      '@odata.etag': 'W/"a"',
      id,
      status,
      accessContainer: { accessContainerId: GROUP, accessContainerType: 'securityGroup' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE }] },
      createdDateTime: '2022-02-11T10:00:00Z',
      lastModifiedDateTime: '2022-02-11T10:00:00Z',
    });
    let base = '';
    const r = await rig((req) => {
      if (req.method === 'POST') return { status: 201, body: assignment('a1') };
      if (req.url.pathname.endsWith('/a1')) return { status: 200, body: assignment('a1', 'active') };
      return req.url.searchParams.get('$skiptoken')
        ? { status: 200, body: { value: [assignment('a2', 'active')] } }
        : { status: 200, body: { value: [assignment('a1', 'active')], '@odata.nextLink': `${base}${req.url.pathname}?$skiptoken=2` } };
    });
    base = r.server.url;
    await using(r, async (client) => {
      expect(await client.createAccessAssignment(REL_ID, { securityGroupId: GROUP, roleIds: [EXCHANGE] })).toEqual({
        id: 'a1',
        status: 'pending',
        etag: 'W/"a"',
        securityGroupId: GROUP,
        roleIds: [EXCHANGE],
        createdDateTime: '2022-02-11T10:00:00Z',
        lastModifiedDateTime: '2022-02-11T10:00:00Z',
      });
      expect(JSON.parse(r.graphCalls()[0]!.body)).toEqual({
        accessContainer: { accessContainerId: GROUP, accessContainerType: 'securityGroup' },
        accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE }] },
      });
      expect((await client.getAccessAssignment(REL_ID, 'a1')).status).toBe('active');
      expect((await client.listAccessAssignments(REL_ID)).map((a) => a.id)).toEqual(['a1', 'a2']);
      expect(r.graphCalls().map((c) => c.url.pathname)).toEqual([
        `${BASE}/${REL_ID}/accessAssignments`,
        `${BASE}/${REL_ID}/accessAssignments/a1`,
        `${BASE}/${REL_ID}/accessAssignments`,
        `${BASE}/${REL_ID}/accessAssignments`,
      ]);
    });
  });

  it('finds a relationship by display name: filtered by customer or by name, every page read when $filter is refused', async () => {
    let filterWorks = true;
    const rows = [
      relationshipJson({
        id: 'old',
        displayName: 'Partner Offers D-4K7P2Q',
        status: 'terminated',
        createdDateTime: '2021-01-01T00:00:00Z',
      }),
      relationshipJson({ id: 'other', displayName: 'Partner Offers D-AAAAAA' }),
      relationshipJson({ id: 'live', displayName: 'Partner Offers D-4K7P2Q', status: 'approvalPending' }),
    ];
    let base = '';
    const r = await rig((req) => {
      if (req.url.searchParams.has('$filter') && !filterWorks) {
        return { status: 400, body: { error: { code: 'badRequest', message: 'Filter not supported.' } } };
      }
      const page = Number(req.url.searchParams.get('page') ?? '0');
      return {
        status: 200,
        body: {
          value: rows.slice(page, page + 1),
          ...(page < rows.length - 1 ? { '@odata.nextLink': `${base}${BASE}?page=${page + 1}` } : {}),
        },
      };
    });
    base = r.server.url;
    await using(r, async (client) => {
      expect((await client.findByDisplayName('Partner Offers D-4K7P2Q', { customerTenantId: CUSTOMER }))?.id).toBe('live');
      expect(r.graphCalls()[0]!.url.searchParams.get('$filter')).toBe(`customer/tenantId eq '${CUSTOMER}'`);
      expect(r.graphCalls()[0]!.url.searchParams.get('$top')).toBe('300');
      const before = r.graphCalls().length;
      await client.findByDisplayName("O'Brien admin");
      expect(r.graphCalls()[before]!.url.searchParams.get('$filter')).toBe("displayName eq 'O''Brien admin'");

      filterWorks = false;
      expect((await client.findByDisplayName('Partner Offers D-AAAAAA'))?.id).toBe('other');
      expect(await client.findByDisplayName('Partner Offers D-ZZZZZZ')).toBeNull();
    });
  });

  it('recovers a create whose answer never came by its display name instead of creating it twice', async () => {
    const created: Record<string, unknown>[] = [];
    const r = await rig(
      (req, body) => {
        if (req.method === 'POST') {
          created.push(relationshipJson({ id: `rel-${created.length}`, displayName: body.displayName }));
          return { status: 201, hang: true };
        }
        return { status: 200, body: { value: created } };
      },
      { timeoutMs: 1_500 },
    );
    await using(r, async (client) => {
      const input = {
        displayName: 'Partner Offers D-4K7P2Q',
        customerTenantId: CUSTOMER,
        roleIds: [EXCHANGE],
        durationDays: 30,
        autoExtend: false,
      };
      const { relationship, recovered } = await client.createOrRecover(input);
      expect(recovered).toBe(true);
      expect(relationship).toMatchObject({ id: 'rel-0', displayName: 'Partner Offers D-4K7P2Q' });
      expect(created).toHaveLength(1);
      expect(r.graphCalls().map((c) => c.method)).toEqual(['POST', 'GET']);

      const plain = await failure(client.createRelationship({ ...input, displayName: 'Partner Offers D-BBBBBB' }));
      expect(plain.kind).toBe('transient');
      expect(plain.message).toMatch(/Graph did not answer createRelationship: no answer within/);
    });
  });

  it('maps Graph’s answers to what the caller does: throttled, transient, conflict, preconditionFailed, notFound, invalid, unauthorized', async () => {
    const answers: Reply[] = [
      {
        status: 429,
        headers: { 'retry-after': '2.128' },
        body: { error: { code: 'TooManyRequests', message: 'Please retry again later.', innerError: { code: '429' } } },
      },
      { status: 503, headers: { 'retry-after': '3' }, body: { error: { code: 'serviceNotAvailable', message: 'Try later' } } },
      { status: 503, body: '<html>busy</html>' },
      { status: 500, body: { error: { code: 'generalException', message: 'Oops' } } },
      {
        status: 404,
        headers: { 'request-id': 'graph-404' },
        body: { error: { code: 'itemNotFound', message: 'The passed in delegatedAdminRelationshipId is invalid.' } },
      },
      { status: 409, body: { error: { code: 'conflict', message: 'Already exists' } } },
      { status: 400, body: { error: { code: 'badRequest', message: 'Global Administrator cannot be auto-extended.' } } },
      {
        status: 403,
        body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } },
      },
    ];
    let i = 0;
    const r = await rig(() => answers[i++]!);
    await using(r, async (client) => {
      const seen = [];
      for (let n = 0; n < answers.length; n++) {
        const e = await failure(client.getRelationship(REL_ID));
        seen.push({ kind: e.kind, retryAfterMs: e.retryAfterMs, code: e.details.code, status: e.details.status });
        if (n === 4) expect(e.details.requestId).toBe('graph-404');
        if (n === 6)
          expect(e.message).toBe('Graph refused getRelationship: HTTP 400 badRequest: Global Administrator cannot be auto-extended.');
      }
      expect(seen).toEqual([
        { kind: 'throttled', retryAfterMs: 2128, code: 'TooManyRequests', status: 429 },
        { kind: 'throttled', retryAfterMs: 3000, code: 'serviceNotAvailable', status: 503 },
        { kind: 'transient', retryAfterMs: undefined, code: undefined, status: 503 },
        { kind: 'transient', retryAfterMs: undefined, code: 'generalException', status: 500 },
        { kind: 'notFound', retryAfterMs: undefined, code: 'itemNotFound', status: 404 },
        { kind: 'conflict', retryAfterMs: undefined, code: 'conflict', status: 409 },
        { kind: 'invalid', retryAfterMs: undefined, code: 'badRequest', status: 400 },
        { kind: 'unauthorized', retryAfterMs: undefined, code: 'Authorization_RequestDenied', status: 403 },
      ]);
    });
  });

  it('sends the ETag as If-Match and reports a stale one as preconditionFailed', async () => {
    const r = await rig((req) =>
      req.headers['if-match'] === 'W/"fresh"'
        ? { status: 204 }
        : { status: 412, body: { error: { code: 'resourceModified', message: 'ETag mismatch' } } },
    );
    await using(r, async (client) => {
      expect((await failure(client.deleteRelationship(REL_ID, 'W/"stale"'))).kind).toBe('preconditionFailed');
      await expect(client.deleteRelationship(REL_ID, 'W/"fresh"')).resolves.toBeUndefined();
      expect(r.graphCalls().map((c) => [c.method, c.headers['if-match']])).toEqual([
        ['DELETE', 'W/"stale"'],
        ['DELETE', 'W/"fresh"'],
      ]);
    });
  });

  it('asks for a fresh token once when Graph refuses a cached one; refused again, it is unauthorized', async () => {
    let refuse = 1;
    const r = await rig(() =>
      refuse-- > 0
        ? { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired.' } } }
        : { status: 200, body: relationshipJson() },
    );
    await using(r, async (client) => {
      await expect(client.getRelationship(REL_ID)).resolves.toMatchObject({ id: REL_ID });
      expect(r.tokenCount()).toBe(2);
      expect(r.graphCalls().map((c) => c.headers.authorization)).toEqual(['Bearer eyJ.token-1.sig', 'Bearer eyJ.token-2.sig']);
      refuse = 2;
      const e = await failure(client.getRelationship(REL_ID));
      expect(e.kind).toBe('unauthorized');
      expect(e.details).toMatchObject({ status: 401, code: 'InvalidAuthenticationToken' });
    });
  });

  it('a Graph that does not answer in time, or is not there, is transient', async () => {
    const r = await rig(() => ({ status: 200, hang: true }), { timeoutMs: 300 });
    await using(r, async (client) => {
      const e = await failure(client.getRelationship(REL_ID));
      expect(e).toMatchObject({ kind: 'transient' });
      expect(e.message).toMatch(/Graph did not answer getRelationship: no answer within/);
    });
    const tokens = await tinyServer((req) => tokenEndpoint(SECRET)(req) ?? { status: 404 });
    try {
      const nowhere = createGraphClient({
        authorityHost: tokens.url,
        graphBaseUrl: `http://127.0.0.1:${await freePort()}/v1.0`,
        log: capturingLogger().log,
        sources: { env: { GRAPH_SECRET: SECRET }, readFile: () => '' },
      }).forPartner(app);
      const e = await failure(nowhere.getRelationship(REL_ID));
      expect(e.kind).toBe('transient');
      expect(e.message).toMatch(/ECONNREFUSED/);
    } finally {
      await tokens.close();
    }
  });

  it('an answer that is not shaped as documented is invalid, not silently accepted', async () => {
    const r = await rig(() => ({ status: 200, body: { id: REL_ID, status: 'active' } }));
    await using(r, async (client) => {
      const e = await failure(client.getRelationship(REL_ID));
      expect(e.kind).toBe('invalid');
      expect(e.message).toMatch(/not shaped as documented: displayName/);
    });
  });

  it('does not follow a next page to another host with the partner’s token', async () => {
    const r = await rig(() => ({
      status: 200,
      body: { value: [], '@odata.nextLink': 'https://elsewhere.example/v1.0/tenantRelationships/delegatedAdminRelationships?page=2' },
    }));
    await using(r, async (client) => {
      const e = await failure(client.findByDisplayName('x'));
      expect(e.kind).toBe('invalid');
      expect(e.message).toMatch(/another host/);
      expect(r.graphCalls()).toHaveLength(1);
    });
  });

  it('reads tenant information: display name and default domain', async () => {
    const r = await rig(() => ({
      status: 200,
      body: {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.tenantInformation',
        tenantId: CUSTOMER,
        federationBrandName: null,
        displayName: 'Contoso, Ltd',
        defaultDomainName: 'CONTOSO18839.onmicrosoft.com',
      },
    }));
    await using(r, async (client) => {
      expect(await client.findTenantInformation(CUSTOMER)).toEqual({
        tenantId: CUSTOMER,
        displayName: 'Contoso, Ltd',
        defaultDomainName: 'CONTOSO18839.onmicrosoft.com',
      });
      expect(decodeURIComponent(r.graphCalls()[0]!.url.pathname)).toBe(
        `/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='${CUSTOMER}')`,
      );
    });
  });

  it('links the customer to the relationship in the Microsoft 365 admin center', () => {
    expect(approvalLink(REL_ID)).toBe(
      `https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/${REL_ID}`,
    );
  });

  it('logs request ids, never the token', async () => {
    const r = await rig(() => ({ status: 200, headers: { 'request-id': 'graph-req-77' }, body: relationshipJson() }));
    await using(r, async (client) => {
      await client.getRelationship(REL_ID);
      const logged = r.lines.join('\n');
      expect(logged).toContain('graph-req-77');
      expect(logged).not.toContain('token-1');
      expect(logged).not.toContain(SECRET);
    });
  });
});
