import { generateKeyPairSync } from 'node:crypto';
import type { MicrosoftApp } from '../../../src/directory/microsoft';
import { approvalLink, createGraphClient } from '../../../src/delegation/graph';
import { startMicrosoftStandIn, type MicrosoftStandIn } from '../../../stand-in';
import { capturingLogger, failure } from './tiny-server';

/**
 * The Graph client against the local stand-in of Entra and Graph (stand-in/), over real HTTP: tokens through
 * msal-node, the relationship's whole life, recovery of a create whose answer was lost, and every fault.
 */

const PARTNER = '8a1b2c3d-0000-4000-8000-00000000f001';
const CUSTOMER = '4b827261-d21f-4aa9-b7db-7fa1f56fb163';
const CLIENT = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const SECRET = 'stand-in-secret-value-0123456789';
const GROUP = '869713c9-0b28-4d08-8949-ae07ae1bf528';
const EXCHANGE = '29232cdf-9323-42fd-ade2-1d097af3e4de';
const USER_ADMIN = 'fe930be7-5e62-47db-91af-98c3a49a38b1';

const app = (over: Partial<MicrosoftApp> = {}): MicrosoftApp => ({
  tenantId: PARTNER,
  clientId: CLIENT,
  credential: { kind: 'secretEnv', name: 'FABRIKAM_GRAPH_CLIENT_SECRET' },
  securityGroups: [{ groupId: GROUP, roleIds: [EXCHANGE] }],
  ...over,
});

let ms: MicrosoftStandIn;
let names = 0;
const input = (over: object = {}) => ({
  displayName: `Partner Offers D-TEST${++names}`,
  customerTenantId: CUSTOMER,
  roleIds: [EXCHANGE, USER_ADMIN],
  durationDays: 730,
  autoExtend: false,
  ...over,
});

function client(
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; readFile?: (path: string) => string; microsoftApp?: MicrosoftApp } = {},
) {
  const { log, lines } = capturingLogger();
  const graph = createGraphClient({
    authorityHost: ms.url,
    graphBaseUrl: ms.graphBaseUrl,
    log,
    timeoutMs: opts.timeoutMs ?? 5_000,
    tokenTimeoutMs: 5_000,
    sources: {
      env: opts.env ?? { FABRIKAM_GRAPH_CLIENT_SECRET: SECRET },
      readFile:
        opts.readFile ??
        (() => {
          throw new Error('no files here');
        }),
    },
  });
  return { gdap: graph.forPartner(opts.microsoftApp ?? app()), lines };
}

const tokenRequests = () => ms.requests.filter((r) => r.kind === 'token');
const graphRequests = () => ms.requests.filter((r) => r.kind === 'graph');

beforeEach(async () => {
  ms = await startMicrosoftStandIn({
    partners: [{ tenantId: PARTNER, displayName: 'Fabrikam Cloud Partners', app: { clientId: CLIENT, clientSecret: SECRET } }],
    customers: [{ tenantId: CUSTOMER, displayName: 'Contoso', defaultDomainName: 'contoso.onmicrosoft.com' }],
  });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await ms.close();
});

describe('Graph GDAP client against the Microsoft stand-in', () => {
  it('follows a relationship from create to active, assigns access, and terminates it; one token for all of it', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const { gdap, lines } = client();
    const created = await gdap.createRelationship(input({ autoExtend: true }));
    expect(created).toMatchObject({
      status: 'created',
      customerTenantId: CUSTOMER,
      roleIds: [EXCHANGE, USER_ADMIN],
      duration: 'P730D',
      autoExtendDuration: 'P180D',
      autoExtends: true,
      activatedDateTime: null,
    });
    expect(created.id).toMatch(/^[0-9a-f-]{73}$/);

    await gdap.lockForApproval(created.id);
    expect((await gdap.getRelationship(created.id)).status).toBe('approvalPending');
    expect(ms.rewriteApprovalLink(approvalLink(created.id))).toBe(ms.adminCenterLink(created.id));

    ms.control.approve(created.id);
    ms.control.settle();
    const active = await gdap.getRelationship(created.id);
    expect(active.status).toBe('active');
    expect(active.activatedDateTime).not.toBeNull();
    expect(Date.parse(active.endDateTime!) - Date.parse(active.activatedDateTime!)).toBe(730 * 86_400_000);
    expect(active).toMatchObject({ customerTenantId: CUSTOMER, roleIds: [EXCHANGE, USER_ADMIN] });

    const assignment = await gdap.createAccessAssignment(created.id, { securityGroupId: GROUP, roleIds: [EXCHANGE] });
    expect(assignment).toMatchObject({ status: 'pending', securityGroupId: GROUP, roleIds: [EXCHANGE] });
    ms.control.settle();
    expect((await gdap.getAccessAssignment(created.id, assignment.id)).status).toBe('active');
    expect((await gdap.listAccessAssignments(created.id)).map((a) => [a.id, a.status])).toEqual([[assignment.id, 'active']]);

    expect(await gdap.findTenantInformation(CUSTOMER)).toEqual({
      tenantId: CUSTOMER,
      displayName: 'Contoso',
      defaultDomainName: 'contoso.onmicrosoft.com',
    });

    await gdap.terminate(created.id);
    expect(['terminationRequested', 'terminating', 'terminated']).toContain((await gdap.getRelationship(created.id)).status);
    ms.control.settle();
    expect((await gdap.getRelationship(created.id)).status).toBe('terminated');

    expect(tokenRequests()).toHaveLength(1);
    expect(tokenRequests()[0]).toMatchObject({ method: 'POST', tenantId: PARTNER, clientId: CLIENT, status: 200 });

    // Nothing secret in what was logged: not the client secret, not the bearer token Graph got.
    const bearers = fetchSpy.mock.calls
      .map(([, init]) => (init?.headers as Record<string, string> | undefined)?.authorization)
      .filter((h): h is string => !!h)
      .map((h) => h.replace(/^Bearer /, ''));
    expect(new Set(bearers).size).toBe(1);
    const logged = lines.join('\n');
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(bearers[0]);
  });

  it('never auto-extends a relationship with Global Administrator (the stand-in refuses GA with P180D)', async () => {
    const { gdap } = client();
    const ga = await gdap.createRelationship(input({ roleIds: ['62e90394-69f5-4237-9190-012177145e10'], autoExtend: true }));
    expect(ga).toMatchObject({ autoExtendDuration: 'PT0S', autoExtends: false });
  });

  it('finds a create whose answer was lost by its display name, and does not create it twice', async () => {
    const { gdap } = client({ timeoutMs: 1_500 });
    ms.control.fault({ kind: 'hang', method: 'POST', path: /delegatedAdminRelationships$/, afterProcessing: true });
    const lost = input();
    const timedOut = await failure(gdap.createRelationship(lost));
    expect(timedOut.kind).toBe('transient');
    expect(ms.control.relationships()).toHaveLength(1);

    const found = await gdap.findByDisplayName(lost.displayName, { customerTenantId: CUSTOMER });
    expect(found).toMatchObject({ displayName: lost.displayName, status: 'created' });

    // Trying again is safe too: the duplicate name is refused and the first one found.
    const again = await gdap.createOrRecover(lost);
    expect(again).toMatchObject({ recovered: true, relationship: { id: found!.id } });
    expect(ms.control.relationships()).toHaveLength(1);

    // And in one step, when the answer is dropped.
    ms.control.fault({ kind: 'drop', method: 'POST', path: /delegatedAdminRelationships$/, afterProcessing: true });
    const dropped = input();
    const recovered = await gdap.createOrRecover(dropped);
    expect(recovered).toMatchObject({ recovered: true, relationship: { displayName: dropped.displayName } });
    expect(ms.control.relationships()).toHaveLength(2);
  });

  it('429 with Retry-After is throttled for as long as Graph says, fractions included; then it works', async () => {
    const { gdap } = client();
    const created = await gdap.createRelationship(input());
    ms.control.fault({ kind: 'throttle', times: 3, retryAfterSeconds: 2 });
    for (let i = 0; i < 3; i++) {
      const e = await failure(gdap.getRelationship(created.id));
      expect(e).toMatchObject({ kind: 'throttled', problem: { kind: 'throttled', retryAfterMs: 2000 } });
      expect(e.details.status).toBe(429);
    }
    await expect(gdap.getRelationship(created.id)).resolves.toMatchObject({ id: created.id });
    ms.control.fault({ kind: 'throttle', retryAfterSeconds: 1.5 });
    expect((await failure(gdap.getRelationship(created.id))).retryAfterMs).toBe(1500);
  });

  it('5xx, a connection dropped or reset, and no answer in time are transient', async () => {
    const { gdap } = client({ timeoutMs: 1_500 });
    const created = await gdap.createRelationship(input());
    ms.control.fault({ kind: 'error', status: 502 });
    expect(await failure(gdap.getRelationship(created.id))).toMatchObject({ kind: 'transient', details: { status: 502 } });
    ms.control.fault({ kind: 'error', status: 503, retryAfterSeconds: 4 });
    expect(await failure(gdap.getRelationship(created.id))).toMatchObject({ kind: 'throttled', problem: { retryAfterMs: 4000 } });
    for (const kind of ['drop', 'reset', 'hang'] as const) {
      ms.control.fault({ kind });
      expect((await failure(gdap.getRelationship(created.id))).kind).toBe('transient');
    }
    await expect(gdap.getRelationship(created.id)).resolves.toMatchObject({ status: 'created' });
  });

  it('a token endpoint that is down is throttled (msal waits Retry-After), then works again; a reset is transient', async () => {
    const { gdap } = client();
    ms.control.tokenEndpointDown({ status: 503, retryAfterSeconds: 1 });
    const down = await failure(gdap.getRelationship('5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836'));
    expect(down).toMatchObject({ kind: 'throttled', details: { operation: 'token', status: 503 } });
    ms.control.tokenEndpointUp();
    // msal-node would fail locally now; the client says how long is left without a request.
    const waiting = await failure(gdap.createRelationship(input()));
    expect(waiting.kind).toBe('throttled');
    expect(tokenRequests()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, waiting.retryAfterMs));
    await expect(gdap.createRelationship(input())).resolves.toMatchObject({ status: 'created' });
    expect(graphRequests()).toHaveLength(1);

    const other = client({ microsoftApp: app({ clientId: '0a0b0c0d-1111-4222-8333-444455556666' }) });
    ms.control.registerApp(PARTNER, { clientId: '0a0b0c0d-1111-4222-8333-444455556666', clientSecret: SECRET });
    ms.control.tokenEndpointDown({ mode: 'reset' });
    expect((await failure(other.gdap.createRelationship(input()))).kind).toBe('transient');
  });

  it('a wrong secret, an unknown app and a missing permission are unauthorized', async () => {
    const wrong = await failure(client({ env: { FABRIKAM_GRAPH_CLIENT_SECRET: 'not-the-secret' } }).gdap.createRelationship(input()));
    expect(wrong).toMatchObject({ kind: 'unauthorized', details: { operation: 'token', status: 401, code: 'invalid_client' } });
    expect(wrong.message).toMatch(/AADSTS7000215/);
    expect(wrong.message).not.toContain('not-the-secret');

    const unknown = await failure(
      client({ microsoftApp: app({ clientId: '99999999-9999-4999-8999-999999999999' }) }).gdap.createRelationship(input()),
    );
    expect(unknown).toMatchObject({ kind: 'unauthorized', details: { code: 'unauthorized_client' } });

    ms.control.registerApp(PARTNER, { clientId: '12121212-3434-4565-8787-909090909090', clientSecret: SECRET, permissions: [] });
    const bare = await failure(
      client({ microsoftApp: app({ clientId: '12121212-3434-4565-8787-909090909090' }) }).gdap.createRelationship(input()),
    );
    expect(bare).toMatchObject({ kind: 'unauthorized', details: { status: 403 } });
    expect(graphRequests()).toHaveLength(1);
  });

  it('gets a fresh token when Graph refuses an expired one', async () => {
    const { gdap } = client();
    const created = await gdap.createRelationship(input());
    ms.control.expireTokens();
    await expect(gdap.getRelationship(created.id)).resolves.toMatchObject({ id: created.id });
    expect(tokenRequests()).toHaveLength(2);
    expect(graphRequests().map((r) => r.status)).toEqual([201, 401, 200]);
  });

  it('authenticates with a certificate (client assertion signed by msal-node)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const thumbprint = 'c0ffee'.repeat(10) + 'c0ff';
    ms.control.registerApp(PARTNER, {
      clientId: '56565656-7878-4909-8a0a-bcbcbcbcbcbc',
      certificate: { thumbprintSha256: thumbprint, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const { gdap } = client({
      microsoftApp: app({
        clientId: '56565656-7878-4909-8a0a-bcbcbcbcbcbc',
        credential: { kind: 'certificate', path: '/etc/fabrikam.pem', thumbprint },
      }),
      readFile: () => pem,
    });
    await expect(gdap.createRelationship(input())).resolves.toMatchObject({ status: 'created' });
  });

  it('an assignment before approval, or a role the customer did not approve, is invalid with Graph’s message', async () => {
    const { gdap } = client();
    const created = await gdap.createRelationship(input({ roleIds: [EXCHANGE] }));
    const early = await failure(gdap.createAccessAssignment(created.id, { securityGroupId: GROUP, roleIds: [EXCHANGE] }));
    expect(early).toMatchObject({ kind: 'invalid', details: { status: 400, code: 'badRequest' } });
    await gdap.lockForApproval(created.id);
    ms.control.approve(created.id);
    ms.control.settle();
    const extra = await failure(gdap.createAccessAssignment(created.id, { securityGroupId: GROUP, roleIds: [USER_ADMIN] }));
    expect(extra.kind).toBe('invalid');
    // Change the last character to a different one, so the id surely names no relationship.
    const other = created.id.endsWith('0') ? '1' : '0';
    const missing = await failure(gdap.getRelationship(`${created.id.slice(0, -1)}${other}`));
    expect(missing.kind).toBe('notFound');
  });
});
