import type { MicrosoftStandIn } from '../../stand-in';
import {
  CUSTOMER,
  EXCHANGE_ADMIN,
  expectGraphError,
  GLOBAL_READER,
  GROUP,
  graphClient,
  INTUNE_ADMIN,
  OTHER_CUSTOMER,
  REL,
  relationshipBody,
  startStandIn,
  tokenFor,
  type Graph,
} from './support';

const START = '2026-03-02T09:00:00.000Z';
const DAY = 86_400_000;

/** The admin center page's form, posted as a browser would (application/x-www-form-urlencoded, no redirect followed). */
async function submitAdminForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
}

describe('a GDAP relationship from create to terminated, as a client observes it', () => {
  let ms: MicrosoftStandIn;
  let graph: Graph;
  let id: string;
  let location: string;

  beforeAll(async () => {
    ms = await startStandIn({ now: START, freezeClock: true });
    graph = graphClient(ms, await tokenFor(ms));
  });
  afterAll(() => ms.close());

  it('create → 201 created, with Location, @odata.etag, the roles asked for, and no dates yet', async () => {
    const a = await graph.post(REL, relationshipBody());
    expect(a.status).toBe(201);
    id = a.body.id;
    location = a.headers.get('location') ?? '';
    expect(id).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/);
    expect(location).toBe(`${ms.graphBaseUrl}/tenantRelationships/delegatedAdminRelationships/${id}`);
    expect(a.headers.get('etag')).toBe(a.body['@odata.etag']);
    expect(a.body).toEqual({
      '@odata.context': `${ms.graphBaseUrl}/tenantRelationships/$metadata#delegatedAdminRelationships`,
      '@odata.type': '#microsoft.graph.delegatedAdminRelationship',
      '@odata.etag': expect.stringMatching(/^W\/".+"$/),
      id,
      displayName: 'Fabrikam admin for Contoso',
      duration: 'P730D',
      // The display name is Entra's (read-only), not the one the partner sent.
      customer: { tenantId: CUSTOMER, displayName: 'Contoso, Ltd' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE_ADMIN }, { roleDefinitionId: INTUNE_ADMIN }] },
      status: 'created',
      autoExtendDuration: 'P180D',
      createdDateTime: '2026-03-02T09:00:00.0000000Z',
      lastModifiedDateTime: '2026-03-02T09:00:00.0000000Z',
      activatedDateTime: null,
      endDateTime: null,
    });
  });

  it('lockForApproval → 201 request, and the relationship reads approvalPending', async () => {
    const lock = await graph.post(`${REL}/${id}/requests`, { action: 'lockForApproval' });
    expect(lock.status).toBe(201);
    expect(lock.headers.get('location')).toBe(`${location}/requests/${lock.body.id}`);
    expect(lock.body).toEqual(
      expect.objectContaining({
        '@odata.type': '#microsoft.graph.delegatedAdminRelationshipRequest',
        action: 'lockForApproval',
        status: 'created',
      }),
    );
    const read = await graph.get(location);
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('approvalPending');
    expect((await graph.get(`${REL}/${id}/requests/${lock.body.id}`)).body.status).toBe('succeeded');
    // Locked: no more changes, no delete, no second lock.
    expectGraphError(await graph.post(`${REL}/${id}/requests`, { action: 'lockForApproval' }), 400, 'badRequest');
    expectGraphError(await graph.delete(location, { 'If-Match': read.body['@odata.etag'] }), 400, 'badRequest');
  });

  it('no access assignment before the customer approves', async () => {
    const a = await graph.post(`${REL}/${id}/accessAssignments`, {
      accessContainer: { accessContainerId: GROUP, accessContainerType: 'securityGroup' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE_ADMIN }] },
    });
    expectGraphError(a, 400, 'badRequest');
  });

  it('Microsoft’s approval link opens the admin center page: partner, roles by name, duration, auto-extend, Approve and Decline', async () => {
    const link = `https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/${id}`;
    expect(ms.rewriteApprovalLink(link)).toBe(ms.adminCenterLink(id));
    const res = await fetch(ms.rewriteApprovalLink(link));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<h1>Partner relationship request</h1>');
    expect(html).toContain('Fabrikam Cloud Partners');
    expect(html).toContain('<li>Exchange Administrator</li>');
    expect(html).toContain('<li>Intune Administrator</li>');
    expect(html).toContain('730 days (P730D)');
    expect(html).toContain('Yes, by 180 days');
    expect(html).toContain('Only a Global Administrator of Contoso, Ltd can approve this request.');
    expect(html).toMatch(/<button[^>]*name="decision" value="approve">Approve<\/button>/);
    expect(html).toMatch(/<button[^>]*name="decision" value="decline">Decline<\/button>/);
  });

  it('the Global Administrator of another organisation cannot approve it', async () => {
    const res = await submitAdminForm(ms.adminCenterLink(id), { tenantId: OTHER_CUSTOMER, decision: 'approve' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('role="alert"');
    expect((await graph.get(location)).body.status).toBe('approvalPending');
  });

  it('Approve on the page → approved, then activating, then active with activatedDateTime and endDateTime = activated + duration', async () => {
    ms.control.clock.advance('P3D');
    const res = await submitAdminForm(ms.adminCenterLink(id), { tenantId: CUSTOMER, decision: 'approve' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain(`${id}?result=approved`);
    const after = await fetch(`${ms.url}${res.headers.get('location') ?? ''}`);
    expect(await after.text()).toContain('You approved this request.');

    expect((await graph.get(location)).body).toEqual(
      expect.objectContaining({ status: 'approved', activatedDateTime: null, endDateTime: null }),
    );
    ms.control.clock.advance(1000);
    expect((await graph.get(location)).body.status).toBe('activating');
    ms.control.clock.advance(1000);
    const active = (await graph.get(location)).body;
    expect(active).toEqual(
      expect.objectContaining({
        status: 'active',
        activatedDateTime: '2026-03-05T09:00:02.0000000Z',
        endDateTime: '2028-03-04T09:00:02.0000000Z',
        customer: { tenantId: CUSTOMER, displayName: 'Contoso, Ltd' },
      }),
    );
    expect(new Date(active.endDateTime).getTime() - new Date(active.activatedDateTime).getTime()).toBe(730 * DAY);
  });

  it('an access assignment → 201 pending, then active; roles must be among the relationship’s', async () => {
    const outside = await graph.post(`${REL}/${id}/accessAssignments`, {
      accessContainer: { accessContainerId: GROUP, accessContainerType: 'securityGroup' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: GLOBAL_READER }] },
    });
    expectGraphError(outside, 400, 'badRequest');

    const a = await graph.post(`${REL}/${id}/accessAssignments`, {
      accessContainer: { accessContainerId: GROUP, accessContainerType: 'securityGroup' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE_ADMIN }] },
    });
    expect(a.status).toBe(201);
    expect(a.headers.get('location')).toBe(`${location}/accessAssignments/${a.body.id}`);
    expect(a.body).toEqual(
      expect.objectContaining({
        '@odata.type': '#microsoft.graph.delegatedAdminAccessAssignment',
        '@odata.etag': expect.any(String),
        status: 'pending',
        accessContainer: { accessContainerId: GROUP, accessContainerType: 'securityGroup' },
        accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE_ADMIN }] },
      }),
    );
    ms.control.clock.advance(1000);
    expect((await graph.get(`${REL}/${id}/accessAssignments/${a.body.id}`)).body.status).toBe('active');
    const list = await graph.get(`${REL}/${id}/accessAssignments?$filter=accessContainer/accessContainerId eq '${GROUP}'`);
    expect(list.body.value.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([[a.body.id, 'active']]);
    // The same group twice is refused: a client retrying a create finds the first one instead.
    const again = await graph.post(`${REL}/${id}/accessAssignments`, {
      accessContainer: { accessContainerId: GROUP, accessContainerType: 'securityGroup' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: INTUNE_ADMIN }] },
    });
    expectGraphError(again, 400, 'badRequest');
  });

  it('updating an assignment is a long-running operation: 202, Location of the operation, Retry-After; the operation succeeds', async () => {
    const current = (await graph.get(`${REL}/${id}/accessAssignments`)).body.value[0];
    const a = await graph.patch(
      `${REL}/${id}/accessAssignments/${current.id}`,
      { accessDetails: { unifiedRoles: [{ roleDefinitionId: EXCHANGE_ADMIN }, { roleDefinitionId: INTUNE_ADMIN }] } },
      { 'If-Match': current['@odata.etag'] },
    );
    expect(a.status).toBe(202);
    expect(a.headers.get('retry-after')).toBe('10');
    const opUrl = a.headers.get('location') ?? '';
    expect(opUrl).toMatch(new RegExp(`^${location}/operations/[0-9a-f-]{36}$`));
    expect((await graph.get(opUrl)).body.status).toBe('notStarted');
    ms.control.clock.advance(1000);
    const op = (await graph.get(opUrl)).body;
    expect(op).toEqual(expect.objectContaining({ operationType: 'delegatedAdminAccessAssignmentUpdate', status: 'succeeded' }));
    expect(JSON.parse(op.data).accessDetails.unifiedRoles).toHaveLength(2);
    expect((await graph.get(`${REL}/${id}/operations`)).body.value).toHaveLength(1);
  });

  it('terminate → terminationRequested, then terminating, then terminated; its assignments end with it', async () => {
    const t = await graph.post(`${REL}/${id}/requests`, { action: 'terminate' });
    expect(t.status).toBe(201);
    expect(t.body).toEqual(expect.objectContaining({ action: 'terminate', status: 'created' }));
    expect((await graph.get(location)).body.status).toBe('terminationRequested');
    ms.control.clock.advance(1000);
    expect((await graph.get(location)).body.status).toBe('terminating');
    ms.control.clock.advance(1000);
    expect((await graph.get(location)).body.status).toBe('terminated');
    expect((await graph.get(`${REL}/${id}/requests/${t.body.id}`)).body.status).toBe('succeeded');
    expect((await graph.get(`${REL}/${id}/accessAssignments`)).body.value.map((x: { status: string }) => x.status)).toEqual(['deleted']);
    expectGraphError(await graph.post(`${REL}/${id}/requests`, { action: 'terminate' }), 400, 'badRequest');
    expect(ms.control.relationship(id)).toEqual(
      expect.objectContaining({ status: 'terminated', terminationRequestedBy: 'partner', approvedByTenantId: CUSTOMER }),
    );
  });
});

describe('what happens to a relationship outside Graph and over time', () => {
  let ms: MicrosoftStandIn;
  let graph: Graph;
  let n = 0;
  const create = async (overrides: Record<string, unknown> = {}) => {
    const a = await graph.post(REL, relationshipBody({ displayName: `Relationship ${++n}`, ...overrides }));
    expect(a.status).toBe(201);
    expect((await graph.post(`${REL}/${a.body.id}/requests`, { action: 'lockForApproval' })).status).toBe(201);
    return a.body.id as string;
  };
  const status = async (id: string) => (await graph.get(`${REL}/${id}`)).body.status as string;

  beforeAll(async () => {
    ms = await startStandIn({ now: START, freezeClock: true });
    graph = graphClient(ms, await tokenFor(ms));
  });
  afterAll(() => ms.close());

  it('declined on the page: Graph still says approvalPending, until the request expires 90 days after it was sent', async () => {
    const id = await create();
    const res = await submitAdminForm(ms.adminCenterLink(id), { tenantId: CUSTOMER, decision: 'decline' });
    expect(res.status).toBe(303);
    const page = await (await fetch(`${ms.url}${res.headers.get('location') ?? ''}`)).text();
    expect(page).toContain('You declined.');
    expect(page).toContain('until it expires on 2026-05-31');
    expect(await status(id)).toBe('approvalPending');
    expect(ms.control.relationship(id)?.declinedDateTime).toBe('2026-03-02T09:00:00.0000000Z');
    ms.control.clock.advance(90 * DAY - 1);
    expect(await status(id)).toBe('approvalPending');
    ms.control.clock.advance(1);
    expect(await status(id)).toBe('expired');
  });

  it('a request open to any customer: the approving Global Administrator’s organisation becomes the customer', async () => {
    const id = await create({ customer: undefined });
    expect((await graph.get(`${REL}/${id}`)).body.customer).toBeNull();
    const html = await (await fetch(ms.adminCenterLink(id))).text();
    expect(html).toContain('<label for="tenantId">Signed in as a Global Administrator of</label>');
    expect(html).toContain('Litware Inc (litware.onmicrosoft.com)');
    const res = await submitAdminForm(ms.adminCenterLink(id), { tenantId: OTHER_CUSTOMER, decision: 'approve' });
    expect(res.status).toBe(303);
    ms.control.settle();
    expect((await graph.get(`${REL}/${id}`)).body).toEqual(
      expect.objectContaining({ status: 'active', customer: { tenantId: OTHER_CUSTOMER, displayName: 'Litware Inc' } }),
    );
  });

  it('auto-extension: at endDateTime an active P180D relationship stays active and its endDateTime moves 180 days', async () => {
    const id = await create({ duration: 'P30D', autoExtendDuration: 'P180D' });
    ms.control.approve(id);
    ms.control.settle();
    const first = (await graph.get(`${REL}/${id}`)).body;
    const end = new Date(first.endDateTime).getTime();
    expect(end - new Date(first.activatedDateTime).getTime()).toBe(30 * DAY);
    ms.control.clock.set(new Date(end + 1));
    const later = (await graph.get(`${REL}/${id}`)).body;
    expect(later.status).toBe('active');
    expect(new Date(later.endDateTime).getTime()).toBe(end + 180 * DAY);
    ms.control.clock.set(new Date(end + 400 * DAY));
    expect(new Date((await graph.get(`${REL}/${id}`)).body.endDateTime).getTime()).toBe(end + 540 * DAY);
  });

  it('without auto-extension: at endDateTime expiring, then expired', async () => {
    const id = await create({ duration: 'P1D', autoExtendDuration: 'PT0S' });
    ms.control.approve(id);
    ms.control.settle();
    const end = new Date((await graph.get(`${REL}/${id}`)).body.endDateTime).getTime();
    ms.control.clock.set(new Date(end));
    expect(await status(id)).toBe('expiring');
    ms.control.clock.advance(1000);
    expect(await status(id)).toBe('expired');
  });

  it('terminated from the admin center (customer side): the partner sees terminationRequested → terminated', async () => {
    const id = await create();
    ms.control.approve(id);
    ms.control.settle();
    expect(ms.control.terminate(id, { by: 'customer' }).status).toBe('terminationRequested');
    expect(await status(id)).toBe('terminationRequested');
    ms.control.settle();
    expect(await status(id)).toBe('terminated');
    expect(ms.control.relationship(id)?.terminationRequestedBy).toBe('customer');
  });

  it('expire now (control): active → expired even with auto-extension; approvalPending → expired', async () => {
    const active = await create();
    ms.control.approve(active);
    ms.control.settle();
    expect(ms.control.expire(active).status).toBe('expired');
    expect(await status(active)).toBe('expired');
    const pending = await create();
    ms.control.expire(pending);
    expect(await status(pending)).toBe('expired');
    expect(() => ms.control.approve(pending)).toThrow(/only an approvalPending request can be approved/);
  });
});

describe('on the real clock, steps happen as time passes', () => {
  let ms: MicrosoftStandIn;
  afterAll(() => ms.close());

  it('approved → activating → active without any control call, after the configured delays', async () => {
    ms = await startStandIn({ delays: { approvedToActivating: 100, activatingToActive: 100 } });
    const graph = graphClient(ms, await tokenFor(ms));
    const id = (await graph.post(REL, relationshipBody())).body.id;
    await graph.post(`${REL}/${id}/requests`, { action: 'lockForApproval' });
    expect((await graph.get(`${REL}/${id}`)).body.status).toBe('approvalPending');
    ms.control.approve(id);
    const seen = new Set<string>();
    const deadline = Date.now() + 5000;
    let status = '';
    while (status !== 'active' && Date.now() < deadline) {
      status = (await graph.get(`${REL}/${id}`)).body.status;
      seen.add(status);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe('active');
    expect(seen.has('approved') || seen.has('activating')).toBe(true);
  });
});
