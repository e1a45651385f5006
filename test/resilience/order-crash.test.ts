import { applyDecision } from '../../src/offers/rules';
import type { Offer, Person } from '../../src/offers/types';
import { newFulfilment } from '../../src/orders/fulfil';
import { until } from '../notifications/support';
import { SECRETS, startMicrosoft, type Microsoft } from '../support/microsoft';
import { alex, CUSTOMER_TENANT, megan, PARTNER_TENANT, type TeamsUser } from '../support/people';
import { startBotProcess, startRig, type Rig } from './support';

/**
 * The real bot (`node dist/src/index.js`) placing an accepted offer through the Partner Center stand-in is killed
 * with SIGKILL in the middle of buying, then started again on the same SQLite file: Partner Center ends up with
 * exactly one order, and the bot records that order. See README.md next to this file.
 */

const LEASE_SECONDS = 3;

/** An order as Partner Center answers it (order-resources). */
interface PcOrder {
  id: string;
  referenceCustomerId: string;
}

const person = (u: TeamsUser, serviceUrl: string): Person => ({
  aadObjectId: u.aadObjectId,
  userId: u.id,
  name: u.name,
  tenantId: u.tenantId,
  email: u.email,
  serviceUrl,
});

describe('crash: kill -9 while an accepted offer is being ordered', () => {
  let rig: Rig | undefined;
  let world: Microsoft | undefined;

  afterEach(async () => {
    await rig?.close();
    await world?.close();
  });

  /** An accepted purchase offer of Fabrikam's with its fulfilment job, written as the offers service writes them. */
  async function acceptedOffer(r: Rig): Promise<Offer> {
    const now = new Date();
    const sent: Offer = {
      id: `P-${Math.random()
        .toString(36)
        .slice(2, 8)
        .toUpperCase()
        .replace(/[^2-9A-HJKMNP-Z]/g, '7')
        .padEnd(6, '7')}`,
      version: 1,
      kind: 'purchase',
      state: 'sent',
      partnerTenantId: PARTNER_TENANT,
      partnerName: 'Fabrikam Cloud Partners',
      issuedBy: person(alex, r.sink.url),
      approverEmail: megan.email,
      approver: person(megan, r.sink.url),
      lines: [{ serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', quantity: 25, unitPriceCents: 2200 }],
      billing: 'annual',
      currency: 'USD',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 14 * 86_400_000).toISOString(),
      deliveredAt: now.toISOString(),
      card: { conversationId: megan.conversationId, activityId: '1:offer-card' },
    };
    await r.store.offers.create(sent, []);
    const accepted = applyDecision(sent, 'accepted', now);
    const decided = await r.store.offers.decide(
      accepted,
      sent.version,
      {
        id: `${sent.id}/offer`,
        subjectKind: 'offer',
        subjectId: sent.id,
        slot: 'offer',
        decision: 'accepted',
        by: { aadObjectId: megan.aadObjectId, name: megan.name, upn: megan.email, tenantId: megan.tenantId },
        at: now.toISOString(),
        conversationId: megan.conversationId,
        activityId: '1:offer-card',
        customerTenantId: CUSTOMER_TENANT,
      },
      [],
      newFulfilment(accepted, now),
    );
    expect(decided.status).toBe('recorded');
    return accepted;
  }

  const botEnv = (w: Microsoft) => ({
    PARTNERS_FILE: w.partnersFile,
    MICROSOFT_AUTHORITY_HOST: w.ms.url,
    MICROSOFT_GRAPH_BASE_URL: w.ms.graphBaseUrl,
    MICROSOFT_ADMIN_CENTER_URL: w.ms.url,
    PARTNER_CENTER_BASE_URL: w.ms.partnerCenterBaseUrl,
    FULFILMENT_LEASE_SECONDS: String(LEASE_SECONDS),
    ...SECRETS,
  });

  it.each([
    ['between creating the cart and checking it out', false],
    ['after Partner Center ordered, before the bot recorded the order', true],
  ] as const)(
    'killed %s: one order at Partner Center, and it is the one recorded',
    async (_when, afterProcessing) => {
      world = await startMicrosoft({ partnerCenter: { resellerOf: [CUSTOMER_TENANT] } });
      rig = await startRig();
      const offer = await acceptedOffer(rig);
      const ms = world.ms;
      // The bot processes run on the wall clock; so does Microsoft here (its request log then says when, in real time).
      ms.control.clock.set(new Date());
      ms.control.clock.unfreeze();
      // The first checkout never answers: before it is processed, or after it ordered.
      ms.control.checkoutFault({ kind: 'hang', afterProcessing, times: 1 });

      const first = await startBotProcess('first', rig.dataDir, botEnv(world));
      rig.bots.push(first);
      await first.ready;
      await until(() => ms.requests.some((r) => r.kind === 'partnercenter' && /\/checkout$/.test(r.path)), 30_000, 'the first checkout');
      const carts = ms.control.partnerCenter().carts;
      expect(carts).toHaveLength(1);
      expect(ms.control.partnerCenter().orders).toHaveLength(afterProcessing ? 1 : 0);
      first.crash();
      await first.exited;
      const leased = (await rig.store.fulfilments.get(offer.id))!;
      expect(leased).toMatchObject({ state: 'ordering', cartId: carts[0]!.id, lease: { owner: expect.any(String) } });

      const second = await startBotProcess('second', rig.dataDir, botEnv(world));
      rig.bots.push(second);
      await second.ready;
      await until(async () => (await rig!.store.fulfilments.get(offer.id))?.state === 'placed', 40_000, 'the order recorded');

      const { orders, carts: after } = ms.control.partnerCenter();
      expect(orders).toHaveLength(1);
      expect(after).toEqual([expect.objectContaining({ id: carts[0]!.id, status: 'Ordered', orderingCheckouts: 1 })]);
      const recorded = (await rig.store.fulfilments.get(offer.id))!;
      expect(recorded.orders!.map((o) => o.id)).toEqual([(orders[0] as unknown as PcOrder).id]);
      const records = await rig.store.responses.forSubject(offer.id);
      expect(records.filter((x) => x.slot === 'order')).toEqual([
        expect.objectContaining({
          decision: 'placed',
          microsoft: expect.objectContaining({ orderIds: [(orders[0] as unknown as PcOrder).id] }),
        }),
      ]);
      // The second process waited for the dead one's lease before touching the job.
      const secondCalls = ms.requests.filter((r) => r.kind === 'partnercenter' && Date.parse(r.at) > Date.parse(leased.lease!.until));
      expect(secondCalls.length).toBeGreaterThan(0);
    },
    120_000,
  );
});
