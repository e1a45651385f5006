import type { Store } from '../../../src/store/types';
import { T0, TENANT, notificationChannel, partner, plus } from '../support/fixtures';
import type { ContractContext } from './context';

/**
 * `one handle` > `partners`: the partners' notification channels (`store.channels`). They were the partner's
 * (`partners.setNotificationChannel`) before they had a port of their own, so their cases keep the names they had,
 * inside the partners' describe.
 */
export function channelsContract(ctx: ContractContext): void {
  let store: Store;
  beforeEach(() => (store = ctx.store()));

  it('notification channel: set, get, replace, clear; per tenant; an unknown tenant is null', async () => {
    expect(await store.channels.get(TENANT.fabrikam)).toBeNull();
    await store.partners.upsert(partner());
    expect(await store.channels.get(TENANT.fabrikam)).toBeNull(); // a partner without a channel

    const general = notificationChannel();
    await store.channels.set(TENANT.fabrikam, general);
    expect(await store.channels.get(TENANT.fabrikam)).toEqual(general);

    // Optional names absent: they stay absent.
    const deals = notificationChannel({ channelName: undefined, teamName: undefined, setAt: plus(T0, 5) });
    await store.channels.set(TENANT.fabrikam, deals);
    const replaced = await store.channels.get(TENANT.fabrikam);
    expect(replaced).toEqual(deals);
    expect(replaced!.conversationId).not.toBe(general.conversationId);
    expect(Object.keys(replaced!).sort()).toEqual(['conversationId', 'serviceUrl', 'setAt', 'setBy', 'tenantId']);

    // Another partner's channel is its own.
    const northwind = notificationChannel({ tenantId: TENANT.northwind, teamName: 'Northwind Sales' });
    await store.channels.set(TENANT.northwind, northwind);
    expect(await store.channels.get(TENANT.northwind)).toEqual(northwind);
    expect(await store.channels.get(TENANT.fabrikam)).toEqual(deals);
    expect(await store.channels.get(TENANT.litware)).toBeNull();

    // null turns notifications off for that partner only; clearing again (or an unknown tenant) is no error.
    await store.channels.set(TENANT.fabrikam, null);
    expect(await store.channels.get(TENANT.fabrikam)).toBeNull();
    await store.channels.set(TENANT.fabrikam, null);
    await store.channels.set(TENANT.litware, null);
    expect(await store.channels.get(TENANT.fabrikam)).toBeNull();
    expect(await store.channels.get(TENANT.northwind)).toEqual(northwind);
    expect(await store.partners.get(TENANT.fabrikam)).toEqual(partner()); // the registry entry stays

    // A channel can be set again after being cleared.
    await store.channels.set(TENANT.fabrikam, general);
    expect(await store.channels.get(TENANT.fabrikam)).toEqual(general);
  });

  it('partners.upsert (the partners file, at every start) leaves the notification channel in place, and the channel is no part of the partner', async () => {
    const fabrikam = partner();
    await store.partners.upsert(fabrikam);
    const general = notificationChannel();
    await store.channels.set(TENANT.fabrikam, general);

    await store.partners.upsert(fabrikam);
    expect(await store.channels.get(TENANT.fabrikam)).toEqual(general);
    const renamed = partner({ name: 'Fabrikam Cloud Partners Ltd', adminAgents: undefined });
    await store.partners.upsert(renamed);
    expect(await store.channels.get(TENANT.fabrikam)).toEqual(general);
    expect(await store.partners.get(TENANT.fabrikam)).toEqual(renamed);

    // A channel set before the partner is in the registry survives its first upsert too.
    const northwind = notificationChannel({ tenantId: TENANT.northwind });
    await store.channels.set(TENANT.northwind, northwind);
    await store.partners.upsert(partner({ tenantId: TENANT.northwind, name: 'Northwind Traders' }));
    expect(await store.channels.get(TENANT.northwind)).toEqual(northwind);
  });
}
