import type { MicrosoftStandIn } from '../../stand-in';
import {
  activeRelationship,
  CUSTOMER,
  EXCHANGE_ADMIN,
  expectGraphError,
  GLOBAL_ADMIN,
  GLOBAL_READER,
  graphClient,
  OTHER_APP,
  OTHER_CUSTOMER,
  OTHER_PARTNER,
  PARTNER,
  REL,
  relationshipBody,
  startStandIn,
  tokenFor,
  type Graph,
} from './support';

describe('listing and finding relationships', () => {
  let ms: MicrosoftStandIn;
  let graph: Graph;
  const names = ['Contoso GDAP 1', 'Contoso GDAP 2', "O'Brien & Co GDAP", 'Litware GDAP 1', 'Litware GDAP 2'];

  beforeAll(async () => {
    ms = await startStandIn();
    graph = graphClient(ms, await tokenFor(ms));
    for (const displayName of names) {
      const customer = displayName.startsWith('Litware') ? { tenantId: OTHER_CUSTOMER } : { tenantId: CUSTOMER };
      expect((await graph.post(REL, relationshipBody({ displayName, customer }))).status).toBe(201);
    }
  });
  afterAll(() => ms.close());

  it('lists them under value, oldest first, each with its @odata.etag', async () => {
    const a = await graph.get(REL);
    expect(a.status).toBe(200);
    expect(a.body['@odata.context']).toBe(`${ms.graphBaseUrl}/tenantRelationships/$metadata#delegatedAdminRelationships`);
    expect(a.body['@odata.nextLink']).toBeUndefined();
    expect(a.body.value.map((r: { displayName: string }) => r.displayName)).toEqual(names);
    for (const r of a.body.value) expect(r['@odata.etag']).toMatch(/^W\/"/);
  });

  it('pages at $top with an absolute @odata.nextLink that keeps the filter, until the last page', async () => {
    const seen: string[] = [];
    let next: string | undefined = `${REL}?$top=2`;
    let pages = 0;
    while (next) {
      const page = await graph.get(next);
      expect(page.status).toBe(200);
      expect(page.body.value.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.value.map((r: { displayName: string }) => r.displayName));
      next = page.body['@odata.nextLink'];
      if (next) expect(next.startsWith(`${ms.graphBaseUrl}/tenantRelationships/delegatedAdminRelationships?`)).toBe(true);
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(names);

    const filtered = await graph.get(`${REL}?$filter=${encodeURIComponent(`customer/tenantId eq '${OTHER_CUSTOMER}'`)}&$top=1`);
    expect(filtered.body.value).toHaveLength(1);
    const second = await graph.get(filtered.body['@odata.nextLink']);
    expect(second.body.value.map((r: { displayName: string }) => r.displayName)).toEqual(['Litware GDAP 2']);
    expect(second.body['@odata.nextLink']).toBeUndefined();
  });

  it('$top above 300 is refused', async () => {
    expectGraphError(await graph.get(`${REL}?$top=301`), 400, 'BadRequest');
    expect((await graph.get(`${REL}?$top=300`)).status).toBe(200);
  });

  it.each([
    [`displayName eq 'Contoso GDAP 2'`, ['Contoso GDAP 2']],
    [`displayName eq 'O''Brien & Co GDAP'`, ["O'Brien & Co GDAP"]],
    [`displayName eq 'nobody'`, []],
    [`customer/tenantId eq '${OTHER_CUSTOMER}'`, ['Litware GDAP 1', 'Litware GDAP 2']],
    [`customer/tenantId eq '${CUSTOMER}' and displayName eq 'Contoso GDAP 1'`, ['Contoso GDAP 1']],
    [`status eq 'created'`, names],
  ])('$filter=%s', async (filter, expected) => {
    const a = await graph.get(`${REL}?$filter=${encodeURIComponent(filter)}`);
    expect(a.status).toBe(200);
    expect(a.body.value.map((r: { displayName: string }) => r.displayName)).toEqual(expected);
  });

  it('a filter it cannot read → 400', async () => {
    expectGraphError(await graph.get(`${REL}?$filter=${encodeURIComponent('startswith(displayName, 1)')}`), 400, 'BadRequest');
  });

  it('$select and $count', async () => {
    const a = await graph.get(`${REL}?$select=displayName,status&$count=true&$top=1`);
    expect(a.body['@odata.count']).toBe(5);
    expect(Object.keys(a.body.value[0]).sort()).toEqual(['@odata.etag', '@odata.type', 'displayName', 'id', 'status']);
  });

  it('another partner sees none of them, and reading one of them is 404', async () => {
    const other = graphClient(ms, await tokenFor(ms, OTHER_PARTNER, OTHER_APP, 'northwind-secret'));
    expect((await other.get(REL)).body.value).toEqual([]);
    const id = (await graph.get(REL)).body.value[0].id;
    expectGraphError(await other.get(`${REL}/${id}`), 404, 'itemNotFound');
  });

  it('a malformed relationship id → 400 with Graph’s wording; an unknown one → 404', async () => {
    const bad = await graph.get(`${REL}/not-an-id`);
    expectGraphError(bad, 400, 'badRequest');
    expect(bad.body.error.message).toBe('The passed in delegatedAdminRelationshipId is invalid.');
    expectGraphError(
      await graph.get(`${REL}/00000000-0000-4000-8000-000000000000-00000000-0000-4000-8000-000000000001`),
      404,
      'itemNotFound',
    );
  });
});

describe('If-Match on PATCH and DELETE', () => {
  let ms: MicrosoftStandIn;
  let graph: Graph;
  beforeAll(async () => {
    ms = await startStandIn();
    graph = graphClient(ms, await tokenFor(ms));
  });
  afterAll(() => ms.close());

  it('PATCH without If-Match, with a stale or a malformed one → 412; with the current one → 200 and a new etag', async () => {
    const created = await graph.post(REL, relationshipBody({ displayName: 'To be renamed' }));
    const id = created.body.id;
    const etag = created.body['@odata.etag'];
    expectGraphError(await graph.patch(`${REL}/${id}`, { displayName: 'Renamed' }), 412, 'preconditionFailed');
    expectGraphError(await graph.patch(`${REL}/${id}`, { displayName: 'Renamed' }, { 'If-Match': 'W/"stale"' }), 412, 'resourceModified');
    expectGraphError(await graph.patch(`${REL}/${id}`, { displayName: 'Renamed' }, { 'If-Match': 'unquoted' }), 412, 'preconditionFailed');
    expectGraphError(await graph.patch(`${REL}/${id}`, { displayName: 'Renamed' }, { 'If-Match': '*' }), 412, 'preconditionFailed');
    const ok = await graph.patch(`${REL}/${id}`, { displayName: 'Renamed', duration: 'P90D' }, { 'If-Match': etag });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(expect.objectContaining({ displayName: 'Renamed', duration: 'P90D', status: 'created' }));
    expect(ok.body['@odata.etag']).not.toBe(etag);
    // The etag it had is stale now.
    expectGraphError(await graph.patch(`${REL}/${id}`, { displayName: 'Again' }, { 'If-Match': etag }), 412, 'resourceModified');
  });

  it('DELETE needs the current etag, and works only while created (204)', async () => {
    const created = await graph.post(REL, relationshipBody({ displayName: 'To be deleted' }));
    const id = created.body.id;
    expectGraphError(await graph.delete(`${REL}/${id}`), 412, 'preconditionFailed');
    const gone = await graph.delete(`${REL}/${id}`, { 'If-Match': created.body['@odata.etag'] });
    expect(gone.status).toBe(204);
    expect(gone.body).toBeUndefined();
    expectGraphError(await graph.get(`${REL}/${id}`), 404, 'itemNotFound');
  });

  it('while active only autoExtendDuration changes; removing Global Administrator is a long-running operation (202)', async () => {
    const id = await activeRelationship(ms, graph, {
      displayName: 'With Global Administrator',
      autoExtendDuration: 'PT0S',
      accessDetails: { unifiedRoles: [{ roleDefinitionId: GLOBAL_ADMIN }, { roleDefinitionId: EXCHANGE_ADMIN }] },
    });
    let current = (await graph.get(`${REL}/${id}`)).body;
    expectGraphError(await graph.patch(`${REL}/${id}`, { displayName: 'No' }, { 'If-Match': current['@odata.etag'] }), 400, 'badRequest');
    expectGraphError(
      await graph.patch(`${REL}/${id}`, { autoExtendDuration: 'P180D' }, { 'If-Match': current['@odata.etag'] }),
      400,
      'badRequest',
    );
    const removeGa = await graph.patch(
      `${REL}/${id}`,
      { accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE_ADMIN }] } },
      { 'If-Match': current['@odata.etag'] },
    );
    expect(removeGa.status).toBe(202);
    expect(removeGa.headers.get('location')).toContain(`/${id}/operations/`);
    ms.control.settle();
    current = (await graph.get(`${REL}/${id}`)).body;
    expect(current.accessDetails.unifiedRoles).toEqual([{ roleDefinitionId: EXCHANGE_ADMIN }]);
    const extend = await graph.patch(`${REL}/${id}`, { autoExtendDuration: 'P180D' }, { 'If-Match': current['@odata.etag'] });
    expect(extend.status).toBe(200);
    expect(extend.body.autoExtendDuration).toBe('P180D');
  });
});

describe('validation of a new relationship', () => {
  let ms: MicrosoftStandIn;
  let graph: Graph;
  beforeAll(async () => {
    ms = await startStandIn();
    graph = graphClient(ms, await tokenFor(ms));
    expect((await graph.post(REL, relationshipBody({ displayName: 'Taken' }))).status).toBe(201);
  });
  afterAll(() => ms.close());

  const roles = (...ids: string[]) => ({ unifiedRoles: ids.map((roleDefinitionId) => ({ roleDefinitionId })) });

  it.each([
    ['no displayName', { displayName: undefined }, 'badRequest'],
    ['an empty displayName', { displayName: ' ' }, 'badRequest'],
    ['a displayName of 51 characters', { displayName: 'x'.repeat(51) }, 'badRequest'],
    ['a displayName already used by the partner (any case)', { displayName: 'TAKEN' }, 'badRequest'],
    ['no duration', { duration: undefined }, 'badRequest'],
    ['a duration that is not ISO 8601', { duration: '730 days' }, 'badRequest'],
    ['a duration under P1D', { duration: 'PT23H' }, 'badRequest'],
    ['a duration over P2Y', { duration: 'P731D' }, 'badRequest'],
    ['autoExtendDuration P90D', { autoExtendDuration: 'P90D' }, 'badRequest'],
    [
      'Global Administrator with auto-extend',
      { accessDetails: roles(GLOBAL_ADMIN, EXCHANGE_ADMIN), autoExtendDuration: 'P180D' },
      'badRequest',
    ],
    ['no accessDetails', { accessDetails: undefined }, 'badRequest'],
    ['no roles', { accessDetails: roles() }, 'badRequest'],
    ['a role id that is not a GUID', { accessDetails: roles('Exchange Administrator') }, 'badRequest'],
    ['the same role twice', { accessDetails: roles(EXCHANGE_ADMIN, EXCHANGE_ADMIN) }, 'badRequest'],
    ['a customer tenantId that is not a GUID', { customer: { tenantId: 'contoso.com' } }, 'badRequest'],
    ['the partner’s own tenant as customer', { customer: { tenantId: PARTNER } }, 'badRequest'],
    ['a property the type does not have', { notes: 'hi' }, 'BadRequest'],
  ])('%s → 400', async (_name, overrides, code) => {
    const before = (await graph.get(REL)).body.value.length;
    expectGraphError(await graph.post(REL, relationshipBody(overrides)), 400, code);
    expect((await graph.get(REL)).body.value).toHaveLength(before);
  });

  it('a body that is not JSON → 400', async () => {
    expectGraphError(await graph.post(REL, '{not json'), 400, 'BadRequest');
  });

  it.each([
    ['P1D', 'PT0S'],
    ['P2Y', 'PT0S'],
    ['P730D', 'P0D'],
  ])('accepts duration %s with autoExtendDuration %s, Global Administrator included', async (duration, autoExtendDuration) => {
    const a = await graph.post(
      REL,
      relationshipBody({
        displayName: `OK ${duration} ${autoExtendDuration}`,
        duration,
        autoExtendDuration,
        accessDetails: roles(GLOBAL_ADMIN, GLOBAL_READER),
      }),
    );
    expect(a.status).toBe(201);
    expect(a.body).toEqual(expect.objectContaining({ duration, autoExtendDuration }));
  });

  it('autoExtendDuration defaults to PT0S', async () => {
    const a = await graph.post(REL, relationshipBody({ displayName: 'Default extend', autoExtendDuration: undefined }));
    expect(a.body.autoExtendDuration).toBe('PT0S');
  });

  it('lockForApproval and terminate are the partner’s actions; approve, reject and others → 400', async () => {
    const id = (await graph.post(REL, relationshipBody({ displayName: 'Actions' }))).body.id;
    for (const action of ['approve', 'reject', 'unknownFutureValue', 'terminate']) {
      expectGraphError(await graph.post(`${REL}/${id}/requests`, { action }), 400, 'badRequest');
    }
    expect((await graph.get(`${REL}/${id}/requests`)).body.value).toEqual([]);
  });
});

describe('tenant information', () => {
  let ms: MicrosoftStandIn;
  let graph: Graph;
  beforeAll(async () => {
    ms = await startStandIn();
    graph = graphClient(ms, await tokenFor(ms));
  });
  afterAll(() => ms.close());

  it('findTenantInformationByTenantId gives a registered tenant’s display name and default domain', async () => {
    const a = await graph.get(`findTenantInformationByTenantId(tenantId='${CUSTOMER}')`);
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      '@odata.context': `${ms.graphBaseUrl}/$metadata#microsoft.graph.tenantInformation`,
      tenantId: CUSTOMER,
      federationBrandName: null,
      displayName: 'Contoso, Ltd',
      defaultDomainName: 'CONTOSO18839.onmicrosoft.com',
    });
    // Quotes percent-encoded, as some clients send them.
    expect((await graph.get(`findTenantInformationByTenantId(tenantId=%27${OTHER_PARTNER}%27)`)).body.displayName).toBe(
      'Northwind Traders',
    );
  });

  it('an unknown tenant → 404; a malformed call → 400', async () => {
    expectGraphError(
      await graph.get(`findTenantInformationByTenantId(tenantId='99999999-0000-4000-8000-000000000000')`),
      404,
      'itemNotFound',
    );
    expectGraphError(await graph.get(`findTenantInformationByTenantId(tenantId='contoso')`), 400, 'BadRequest');
  });

  it('an unknown segment → 400 BadRequest', async () => {
    expectGraphError(await graph.get('delegatedAdminCustomersX'), 400, 'BadRequest');
  });
});
