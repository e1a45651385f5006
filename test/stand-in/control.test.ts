import { startMicrosoftStandIn, type MicrosoftStandIn } from '../../stand-in';
import { APP, CUSTOMER, GRAPH_SCOPE, graphClient, PARTNER, REL, relationshipBody, requestToken, SECRET } from './support';

/** The playground and e2e tests drive the stand-in over HTTP only: everything here goes through /_control/. */
describe('the control routes, from an empty stand-in', () => {
  let ms: MicrosoftStandIn;
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${ms.url}/_control/${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: JSON.parse(await res.text()) };
  };

  beforeAll(async () => {
    ms = await startMicrosoftStandIn();
  });
  afterAll(() => ms.close());

  it('registers a partner with its app and a customer; the state lists them without the secret', async () => {
    expect(
      (
        await control('POST', 'partners', {
          tenantId: PARTNER,
          displayName: 'Fabrikam Cloud Partners',
          app: { clientId: APP, clientSecret: SECRET },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await control('POST', 'customers', {
          tenantId: CUSTOMER,
          displayName: 'Contoso, Ltd',
          defaultDomainName: 'contoso.onmicrosoft.com',
        })
      ).status,
    ).toBe(200);
    expect((await control('POST', 'customers', { tenantId: CUSTOMER })).status).toBe(400);
    const state = await control('GET', 'state');
    expect(state.body.tenants.map((t: { displayName: string; kind: string }) => [t.displayName, t.kind])).toEqual([
      ['Fabrikam Cloud Partners', 'partner'],
      ['Contoso, Ltd', 'customer'],
    ]);
    expect(state.body.apps).toEqual([expect.objectContaining({ tenantId: PARTNER, clientId: APP, secret: true, certificate: false })]);
    expect(JSON.stringify(state.body)).not.toContain(SECRET);
  });

  it('approves, advances the clock and terminates through the routes; Graph reports each step', async () => {
    const token = await requestToken(ms, { client_id: APP, client_secret: SECRET, grant_type: 'client_credentials', scope: GRAPH_SCOPE });
    const graph = graphClient(ms, token.body.access_token);
    const id = (await graph.post(REL, relationshipBody())).body.id;
    await graph.post(`${REL}/${id}/requests`, { action: 'lockForApproval' });

    // The admin center's landing page lists the waiting request, and forwards Microsoft's fragment link.
    const home = await (await fetch(`${ms.url}/AdminPortal/Home`)).text();
    expect(home).toContain(`href="/admin/partners/invitation/granularAdminRelationships/${id}"`);
    expect(home).toContain('location.replace');

    expect((await control('POST', `relationships/${id}/approve`, {})).body.status).toBe('approved');
    expect((await control('POST', `relationships/${id}/approve`, {})).status).toBe(409);
    const clock = await control('POST', 'clock', { advance: 'PT5S' });
    expect(clock.status).toBe(200);
    const active = (await graph.get(`${REL}/${id}`)).body;
    expect(active.status).toBe('active');
    expect(active.activatedDateTime).not.toBeNull();

    expect((await control('POST', `relationships/${id}/terminate`, { by: 'partner' })).body).toEqual(
      expect.objectContaining({ status: 'terminationRequested', terminationRequestedBy: 'partner' }),
    );
    expect((await control('POST', 'settle')).status).toBe(200);
    const snap = await control('GET', `relationships/${id}`);
    expect(snap.body).toEqual(expect.objectContaining({ id, status: 'terminated', partnerTenantId: PARTNER }));
    expect(snap.body.graph).toEqual(expect.objectContaining({ id, status: 'terminated', '@odata.etag': expect.any(String) }));
    expect((await control('GET', 'relationships')).body.value).toHaveLength(1);
  });

  it('sets and freezes the clock', async () => {
    // Real time moves on between any two readings (CI caught a set-then-freeze that held the instant 1 ms late).
    const realNow = Date.now.bind(Date);
    let tick = 0;
    const moving = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + tick++);
    let set;
    try {
      set = await control('POST', 'clock', { set: '2030-01-01T00:00:00.000Z', freeze: true });
    } finally {
      moving.mockRestore();
    }
    expect(set.body).toEqual({ now: '2030-01-01T00:00:00.000Z', frozen: true });
    expect((await control('POST', 'clock', { advance: 'P1D' })).body.now).toBe('2030-01-02T00:00:00.000Z');
    expect((await control('POST', 'clock', { advance: 'soon' })).status).toBe(400);
    expect((await control('POST', 'clock', { freeze: false })).body.frozen).toBe(false);
  });

  it('shows the request log (control calls excluded; no token, no secret) and clears it', async () => {
    const log = await control('GET', 'requests');
    expect(log.body.value.length).toBeGreaterThan(0);
    expect(log.body.value.every((r: { kind: string }) => r.kind !== ('control' as string))).toBe(true);
    expect(log.body.value[0]).toEqual(
      expect.objectContaining({ kind: 'token', method: 'POST', status: 200, tenantId: PARTNER, clientId: APP }),
    );
    expect(JSON.stringify(log.body)).not.toContain(SECRET);
    await control('DELETE', 'requests');
    expect((await control('GET', 'requests')).body.value).toEqual([]);
  });

  it('token endpoint down and up, and token expiry, over HTTP', async () => {
    expect((await control('POST', 'token-endpoint', { down: true, status: 500 })).body).toEqual(
      expect.objectContaining({ kind: 'error', target: 'token' }),
    );
    const down = await requestToken(ms, { client_id: APP, client_secret: SECRET, grant_type: 'client_credentials', scope: GRAPH_SCOPE });
    expect(down.status).toBe(500);
    expect(down.body.error).toBe('temporarily_unavailable');
    await control('POST', 'token-endpoint', { down: false });
    const up = await requestToken(ms, { client_id: APP, client_secret: SECRET, grant_type: 'client_credentials', scope: GRAPH_SCOPE });
    expect(up.status).toBe(200);
    await control('POST', 'tokens/expire');
    expect((await graphClient(ms, up.body.access_token).get(REL)).status).toBe(401);
  });

  it('unknown control routes → 404', async () => {
    expect((await control('GET', 'nothing')).status).toBe(404);
    expect((await control('POST', 'relationships/unknown/approve', {})).status).toBe(404);
  });
});
