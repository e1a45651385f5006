import type { Store } from '../../../src/store/types';
import { TENANT, partner } from '../support/fixtures';
import type { ContractContext } from './context';

/** `one handle` > `partners`: the partner registry (declared inside that describe, beside the channels' cases). */
export function partnersContract(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => (store = ctx.store()));

  it('upsert then get returns the partner; a second upsert replaces it; an unknown tenant is null', async () => {
    const fabrikam = partner();
    await store.partners.upsert(fabrikam);
    expect(await store.partners.get(TENANT.fabrikam)).toEqual(fabrikam);

    const renamed = partner({ name: 'Fabrikam Cloud Partners Ltd', authorizedServices: ['intune-p1'], adminAgents: undefined });
    await store.partners.upsert(renamed);
    expect(await store.partners.get(TENANT.fabrikam)).toEqual(renamed);

    const northwind = partner({ tenantId: TENANT.northwind, name: 'Northwind Traders', cloud: '21vianet', programs: [] });
    await store.partners.upsert(northwind);
    expect(await store.partners.get(TENANT.northwind)).toEqual(northwind);
    expect(await store.partners.get(TENANT.fabrikam)).toEqual(renamed);
    expect(await store.partners.get(TENANT.litware)).toBeNull();
  });
}
