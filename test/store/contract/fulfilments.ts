import type { Fulfilment } from '../../../src/orders/types';
import type { NewResponse } from '../../../src/responses/types';
import { verifyChain } from '../../../src/store/chain';
import type { Store } from '../../../src/store/types';
import { T0, TENANT, deliverCard, megan, notifyIssuer, offer, plus, purchaseLine, unstorableEntry } from '../support/fixtures';
import type { ContractContext } from './context';
import { RACE_TIMEOUT_MS } from './helpers';

/** A fulfilment job for an accepted offer, as the offers service builds it with the decision. */
function fulfilmentOf(offerId: string, at: string, o: Partial<Fulfilment> = {}): Fulfilment {
  return {
    id: offerId,
    version: 1,
    partnerTenantId: TENANT.fabrikam,
    customerTenantId: megan.tenantId,
    kind: 'purchase',
    state: 'ordering',
    valueCentsPerMonth: 55_000,
    currency: 'USD',
    lines: [
      {
        serviceId: 'm365-business-premium',
        serviceName: 'Microsoft 365 Business Premium',
        quantity: 25,
        productId: 'CFQ7TTC0LCHC',
        skuId: '0002',
        termDuration: 'P1Y',
        billingCycle: 'monthly',
        catalogItemId: 'CFQ7TTC0LCHC:0002:CFQ7TTC0K5T9',
      },
    ],
    correlationId: `corr-${offerId}`,
    cartRequestId: `req-${offerId}`,
    attempts: 0,
    dueAt: at,
    createdAt: at,
    updatedAt: at,
    ...o,
  };
}

/** The record of what Partner Center confirmed, in the `order` slot of the offer. */
function placedRecord(f: Fulfilment, at: string): NewResponse {
  return {
    id: `${f.id}/order`,
    subjectKind: 'offer',
    subjectId: f.id,
    slot: 'order',
    decision: 'placed',
    by: { aadObjectId: megan.aadObjectId, name: megan.name, upn: megan.email, tenantId: megan.tenantId },
    at,
    conversationId: 'a:1personal-megan',
    activityId: '1:card',
    customerTenantId: f.customerTenantId,
    microsoft: { api: 'partnerCenter', cartId: 'cart-1', orderIds: ['order-1'], subscriptionIds: [], status: 'pending', reportedAt: at },
  };
}

/** `one handle` > `fulfilments`: jobs written with the decision, then changed only by compare-and-set. */
export function fulfilmentsContract(ctx: ContractContext): void {
  const { clock, decision } = ctx;
  let store: Store;
  beforeEach(() => (store = ctx.store()));

  const accepted = async () => {
    const o = offer({ state: 'sent', lines: [purchaseLine(25)] });
    await store.offers.create(o, [deliverCard(o, 'a:1personal-megan')]);
    clock.now = new Date(plus(T0, 5));
    const d = decision(o, 'accepted');
    const f = fulfilmentOf(o.id, clock.now.toISOString());
    expect((await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox, f)).status).toBe('recorded');
    return { o, f };
  };

  describe('fulfilments', () => {
    it('a decision writes its fulfilment job; get, forOffers, listByPartner and listDue find it', async () => {
      const { o, f } = await accepted();
      expect(await store.fulfilments.get(o.id)).toEqual(f);
      expect(await store.fulfilments.get('T-NOPE23')).toBeNull();
      expect(await store.fulfilments.forOffers([o.id, 'T-NOPE23', o.id])).toEqual([f]);
      expect(await store.fulfilments.forOffers([])).toEqual([]);
      expect(await store.fulfilments.listByPartner(TENANT.fabrikam, 10)).toEqual([f]);
      expect(await store.fulfilments.listByPartner(TENANT.northwind, 10)).toEqual([]);
      expect(await store.fulfilments.listDue(plus(T0, 4), 10)).toEqual([]);
      expect(await store.fulfilments.listDue(f.dueAt!, 10)).toEqual([f]);
    });

    it('placedValue sums the monthly value of placed orders per month of placing, in one currency, from a month on', async () => {
      const { f } = await accepted();
      const place = async (job: Fulfilment, placedAt: string, valueCentsPerMonth: number, currency = 'USD') => {
        const next: Fulfilment = { ...job, version: job.version + 1, state: 'placed', placedAt, valueCentsPerMonth, currency };
        expect(await store.fulfilments.update(next, job.version, [])).toBe(true);
      };
      await place(f, '2026-11-30T23:59:59.000Z', 55_000);
      const second = await accepted();
      await place(second.f, '2026-12-01T00:00:00.000Z', 1_250);
      const third = await accepted();
      await place(third.f, '2026-12-02T10:00:00.000Z', 800, 'EUR');
      await accepted(); // still ordering: not counted
      expect(await store.fulfilments.placedValue(TENANT.fabrikam, 'USD', '2026-11')).toEqual([
        { month: '2026-11', cents: 55_000 },
        { month: '2026-12', cents: 1_250 },
      ]);
      expect(await store.fulfilments.placedValue(TENANT.fabrikam, 'USD', '2026-12')).toEqual([{ month: '2026-12', cents: 1_250 }]);
      expect(await store.fulfilments.placedValue(TENANT.fabrikam, 'EUR', '2026-01')).toEqual([{ month: '2026-12', cents: 800 }]);
      expect(await store.fulfilments.placedValue(TENANT.northwind, 'USD', '2026-01')).toEqual([]);
    });

    it('a decision that fails as a whole writes no job (all or nothing), and one that lost its race writes none either', async () => {
      const o = offer({ state: 'sent', lines: [purchaseLine(25)] });
      await store.offers.create(o, []);
      const d = decision(o, 'accepted');
      await expect(
        store.offers.decide(d.next, d.expectedVersion, d.response, [unstorableEntry(o)], fulfilmentOf(o.id, T0)),
      ).rejects.toThrow();
      expect(await store.fulfilments.get(o.id)).toBeNull();
      const stale = await store.offers.decide(d.next, d.expectedVersion + 1, d.response, d.outbox, fulfilmentOf(o.id, T0));
      expect(stale.status).toBe('conflict');
      expect(await store.fulfilments.get(o.id)).toBeNull();
      expect(await store.offers.decide(d.next, d.expectedVersion, d.response, d.outbox, fulfilmentOf(o.id, T0))).toMatchObject({
        status: 'recorded',
      });
      const again = await store.offers.decide(
        d.next,
        d.expectedVersion,
        d.response,
        d.outbox,
        fulfilmentOf(o.id, T0, { correlationId: 'second' }),
      );
      expect(again.status).toBe('already');
      expect((await store.fulfilments.get(o.id))?.correlationId).toBe(`corr-${o.id}`);
    });

    it('update is compare-and-set on version, with its outbox entries and the order record, written once', async () => {
      const { o, f } = await accepted();
      const at = plus(T0, 10);
      const placed: Fulfilment = {
        ...f,
        version: 2,
        state: 'placed',
        cartId: 'cart-1',
        orders: [{ id: 'order-1', status: 'pending', lines: [{ catalogItemId: 'CFQ7TTC0LCHC:0002:X', quantity: 25 }] }],
        placedAt: at,
        dueAt: plus(T0, 11),
        updatedAt: at,
      };
      const outboxBefore = (await store.outbox.forSubject(o.id)).length;
      expect(await store.fulfilments.update(placed, f.version + 1, [notifyIssuer(o, 'stale')], [placedRecord(f, at)])).toBe(false);
      expect(await store.fulfilments.get(o.id)).toEqual(f);
      expect((await store.responses.forSubject(o.id)).map((r) => r.slot)).toEqual(['offer']);
      expect((await store.outbox.forSubject(o.id)).length).toBe(outboxBefore);

      expect(await store.fulfilments.update(placed, f.version, [notifyIssuer(o, 'order placed')], [placedRecord(f, at)])).toBe(true);
      expect(await store.fulfilments.get(o.id)).toEqual(placed);
      const records = await store.responses.forSubject(o.id);
      expect(records.map((r) => [r.slot, r.decision])).toEqual([
        ['offer', 'accepted'],
        ['order', 'placed'],
      ]);
      expect(records[1]!.microsoft).toEqual(placedRecord(f, at).microsoft);
      expect((await store.outbox.forSubject(o.id)).length).toBe(outboxBefore + 1);
      expect(verifyChain(await store.responses.chain(megan.tenantId))).toBe(true);

      // The same record again (a change written after a crash repeats it) is not appended twice.
      const done: Fulfilment = { ...placed, version: 3, dueAt: undefined };
      delete done.dueAt;
      expect(await store.fulfilments.update(done, placed.version, [], [placedRecord(f, at)])).toBe(true);
      expect((await store.responses.forSubject(o.id)).filter((r) => r.slot === 'order')).toHaveLength(1);
      expect(await store.fulfilments.get(o.id)).toEqual(done);
      expect(await store.fulfilments.listDue(plus(T0, 60 * 24), 10)).toEqual([]);
    });
  });
}

/** `concurrent handles` > `fulfilments`: two processes taking the same job's lease at once. */
export function fulfilmentsConcurrent(ctx: ContractContext): void {
  const { harness, together, decision } = ctx;

  it(
    'two processes leasing one job at once: exactly one update wins',
    async () => {
      const handles = await harness.openHandles(4);
      for (let i = 0; i < 10; i++) {
        const o = offer({ state: 'sent', lines: [purchaseLine(25)] });
        await handles[0]!.offers.create(o, []);
        const d = decision(o, 'accepted');
        const f = fulfilmentOf(o.id, T0);
        await handles[0]!.offers.decide(d.next, d.expectedVersion, d.response, d.outbox, f);
        const results = await together(
          handles.map(
            (h, n) => () =>
              h.fulfilments.update({ ...f, version: 2, lease: { owner: `p${n}`, until: plus(T0, 2) }, dueAt: plus(T0, 2) }, f.version, []),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await handles[0]!.fulfilments.get(o.id))?.lease?.owner).toBe(`p${winner}`);
      }
    },
    RACE_TIMEOUT_MS,
  );
}
