import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../src/directory/catalog';
import { microsoftApps, readPartnersFile } from '../../src/directory/partners';
import { seedPartners } from '../../src/directory/seed';
import type { Partner } from '../../src/directory/store';

const catalog = loadCatalog();
const PARTNER = '8a1b2c3d-0000-4000-8000-00000000f001';
const CLIENT = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const GROUP = '0c4f7a2e-5b1d-4e8a-9f3c-2d6b8a1e4f70';
const EXCHANGE = '29232cdf-9323-42fd-ade2-1d097af3e4de';
const USER_ADMIN = 'fe930be7-5e62-47db-91af-98c3a49a38b1';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'partners-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(microsoft: unknown, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `partners-${++n}.json`);
  const partner = {
    tenantId: PARTNER,
    name: 'Fabrikam',
    authorizedServices: ['m365-e3'],
    ...extra,
    ...(microsoft === undefined ? {} : { microsoft }),
  };
  writeFileSync(path, JSON.stringify({ partners: [partner] }));
  return path;
}

const read = (microsoft: unknown, extra?: Record<string, unknown>) => readPartnersFile(file(microsoft, extra), catalog);
const problem = (microsoft: unknown, extra?: Record<string, unknown>): string => {
  try {
    read(microsoft, extra);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the partners file to be refused');
};

describe('partners file: Microsoft credentials', () => {
  it('names the Entra app and where its secret is; role names become template ids; the tenant defaults to the partner’s', () => {
    const [entry] = read({
      clientId: CLIENT.toUpperCase(),
      clientSecretEnv: 'FABRIKAM_GRAPH_CLIENT_SECRET',
      securityGroups: [{ groupId: GROUP, roles: ['exchange administrator', USER_ADMIN.toUpperCase(), 'Exchange Administrator'] }],
    });
    expect(entry!.microsoft).toEqual({
      tenantId: PARTNER,
      clientId: CLIENT,
      credential: { kind: 'secretEnv', name: 'FABRIKAM_GRAPH_CLIENT_SECRET' },
      securityGroups: [{ groupId: GROUP, roleIds: [EXCHANGE, USER_ADMIN] }],
    });
    const other = '11111111-2222-4333-8444-555555555555';
    expect(read({ tenantId: other, clientId: CLIENT, clientSecretFile: '/run/secrets/fabrikam' })[0]!.microsoft).toEqual({
      tenantId: other,
      clientId: CLIENT,
      credential: { kind: 'secretFile', path: '/run/secrets/fabrikam' },
      securityGroups: [],
    });
    expect(
      read({ clientId: CLIENT, certificateFile: '/etc/partner/fabrikam.pem', certificateThumbprint: 'AB:'.repeat(31) + 'AB' })[0]!
        .microsoft!.credential,
    ).toEqual({ kind: 'certificate', path: '/etc/partner/fabrikam.pem', thumbprint: 'ab'.repeat(32) });
  });

  it('keeps a partner without credentials exactly as before', () => {
    const [entry] = read(undefined);
    expect(entry).toEqual({ tenantId: PARTNER, name: 'Fabrikam', programs: [], authorizedServices: ['m365-e3'], cloud: 'global' });
    expect(microsoftApps([entry!]).size).toBe(0);
  });

  it('refuses a secret written into the file, says where, how to fix it, and never repeats it', () => {
    const secret = 'Xy78Q~abcdefghijklmnopqrstuvwxyz0123456789';
    const inBlock = problem({ clientId: CLIENT, clientSecret: secret });
    expect(inBlock).toMatch(/contains what looks like a secret at partners\.0\.microsoft\.clientSecret/);
    expect(inBlock).toMatch(/"clientSecretEnv": "<VARIABLE_NAME>"/);
    expect(inBlock).toMatch(/"clientSecretFile": "<path>"/);
    expect(inBlock).toMatch(/create a new secret in Entra/);
    expect(inBlock).not.toContain(secret);

    expect(problem({ clientId: CLIENT, clientSecretEnv: secret })).toMatch(/at partners\.0\.microsoft\.clientSecretEnv/);
    expect(problem(undefined, { password: 'hunter2' })).toMatch(/at partners\.0\.password/);
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
    expect(problem({ clientId: CLIENT, certificateFile: pem })).toMatch(/at partners\.0\.microsoft\.certificateFile/);
    expect(problem({ clientId: CLIENT, clientSecretEnv: 'X', certificate: 'anything' })).toMatch(/microsoft\.certificate\b/);
    expect(problem({ clientId: CLIENT, clientSecretEnv: 'not a name!' })).toMatch(
      /clientSecretEnv must be the NAME of the environment variable/,
    );
  });

  it('needs exactly one credential source, a client id, known roles and no unknown keys', () => {
    expect(problem({ clientId: CLIENT })).toMatch(/microsoft needs one of clientSecretEnv .*, clientSecretFile or certificateFile/);
    expect(problem({ clientId: CLIENT, clientSecretEnv: 'A', clientSecretFile: '/x' })).toMatch(
      /names clientSecretEnv and clientSecretFile: give only one/,
    );
    expect(problem({ clientId: 'fabrikam-app', clientSecretEnv: 'A' })).toMatch(/microsoft\.clientId must be the Entra app registration/);
    expect(problem({ clientId: CLIENT, clientSecretEnv: 'A', certificateThumbprint: 'ab'.repeat(20) })).toMatch(
      /microsoft\.certificateThumbprint goes with certificateFile/,
    );
    expect(problem({ clientId: CLIENT, clientSecretEnv: 'A', securityGroups: [{ groupId: GROUP, roles: ['Exchange Admin'] }] })).toMatch(
      /microsoft\.securityGroups\.0\.roles\.0 "Exchange Admin" is not an Entra built-in role name/,
    );
    expect(
      problem({ clientId: CLIENT, clientSecretEnv: 'A', securityGroups: [{ groupId: 'helpdesk', roles: ['Global Reader'] }] }),
    ).toMatch(/securityGroups\.0\.groupId must be the object id/);
    expect(problem({ clientId: CLIENT, clientSecretEnv: 'A', authority: 'x' })).toMatch(/microsoft Unrecognized key: "authority"/);
  });

  it('does not store the credentials with the partner: they are read from the file at every start', async () => {
    const entries = read({ clientId: CLIENT, clientSecretEnv: 'FABRIKAM_GRAPH_CLIENT_SECRET' });
    const stored: Partner[] = [];
    await seedPartners({ partners: { upsert: async (p) => void stored.push(p), get: async () => null } }, entries, async () => {});
    expect(stored).toEqual([{ tenantId: PARTNER, name: 'Fabrikam', programs: [], authorizedServices: ['m365-e3'], cloud: 'global' }]);
    expect(microsoftApps(entries).get(PARTNER)?.clientId).toBe(CLIENT);
  });

  it('names the default roles of its delegated-admin requests in Entra spelling, and refuses a role Entra does not have', () => {
    const [entry] = read(undefined, { defaultAdminRoles: ['exchange administrator', 'Global Reader'] });
    expect(entry!.defaultAdminRoles).toEqual(['Exchange Administrator', 'Global Reader']);
    expect(problem(undefined, { defaultAdminRoles: ['Exchange Admin'] })).toMatch(
      /Fabrikam names unknown Entra roles in defaultAdminRoles: Exchange Admin/,
    );
  });

  it('the sample file connects Fabrikam (secret in FABRIKAM_GRAPH_CLIENT_SECRET) and leaves Northwind record-only', () => {
    const apps = microsoftApps(readPartnersFile('env/partners.sample.json', catalog));
    expect([...apps.keys()]).toEqual(['00000000-0000-0000-0000-0000000000001']);
    expect(apps.get('00000000-0000-0000-0000-0000000000001')).toMatchObject({
      credential: { kind: 'secretEnv', name: 'FABRIKAM_GRAPH_CLIENT_SECRET' },
      securityGroups: [{ roleIds: expect.arrayContaining([EXCHANGE, USER_ADMIN]) }, { roleIds: ['f2ef992c-3afb-46b9-b7cf-a126ee74c451'] }],
    });
  });
});
