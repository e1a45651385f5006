import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../src/directory/catalog';
import { readPartnersFile } from '../../src/directory/partners';
import { REPO_ROOT } from './support';

/** scripts/partners-file.mjs: the partner registry F5 in Teams and a first Azure deployment start with. */

const script = join(REPO_ROOT, 'scripts', 'partners-file.mjs');
const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

describe('scripts/partners-file.mjs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'partners-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('registers the signed-in tenant as a Cloud Essentials partner for every catalog service, record-only', () => {
    const out = join(dir, 'env', 'partners.local.json');
    const result = run('--out', out, '--tenant', 'C3B5E1A2-7D4F-4E8A-9B6C-1D2E3F4A5B6C');
    expect(result.status).toBe(0);
    const catalog = loadCatalog();
    const [partner, ...others] = readPartnersFile(out, catalog);
    expect(others).toEqual([]);
    expect(partner).toEqual({
      tenantId: 'c3b5e1a2-7d4f-4e8a-9b6c-1d2e3f4a5b6c', // as Teams sends tenant ids
      name: 'My partner organisation',
      programs: ['cloud-essentials'],
      authorizedServices: catalog.services.map((s) => s.id),
      cloud: 'global',
    });
  });

  it('never changes an existing file, and says so when it does not register the tenant', () => {
    const out = join(dir, 'partners.json');
    const mine = JSON.stringify({
      partners: [{ tenantId: 'aaaaaaaa-0000-4000-8000-000000000001', name: 'Ours', authorizedServices: ['m365-e3'] }],
    });
    writeFileSync(out, mine);
    const other = run('--out', out, '--tenant', 'c3b5e1a2-7d4f-4e8a-9b6c-1d2e3f4a5b6c');
    expect([other.status, other.stderr.trim()]).toEqual([
      0,
      `partners-file: ${out} exists and does not register tenant c3b5e1a2-7d4f-4e8a-9b6c-1d2e3f4a5b6c; left as it is.`,
    ]);
    const same = run('--out', out, '--tenant', 'AAAAAAAA-0000-4000-8000-000000000001');
    expect([same.status, same.stderr]).toEqual([0, '']);
    expect(readFileSync(out, 'utf8')).toBe(mine);
  });

  it('refuses a tenant that is not a GUID (an unresolved Toolkit variable, say) and a missing --out', () => {
    expect(run('--out', join(dir, 'p.json'), '--tenant', '${{TEAMS_APP_TENANT_ID}}').status).toBe(1);
    expect(run('--tenant', 'c3b5e1a2-7d4f-4e8a-9b6c-1d2e3f4a5b6c').status).toBe(1);
  });
});
