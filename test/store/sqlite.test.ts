import Database from 'better-sqlite3';
import { applyDecision } from '../../src/offers/rules';
import type { Store } from '../../src/store/types';
import { describeStoreContract } from './contract';
import { deliverCard, newResponse, notifyIssuer, offer, T0 } from './support/fixtures';
import { sqliteHarness } from './support/sqlite-harness';

const harness = sqliteHarness();
afterAll(() => harness.dispose!());
describeStoreContract('SQLite', { ...harness, dispose: undefined });

describe('SQLite worker handles', () => {
  afterEach(() => harness.cleanup());

  it('are separate connections that really contend for the write lock (not calls serialized in one thread)', async () => {
    const file = harness.file();
    const [a, b] = (await harness.pool.open(file, 2)) as [Store, Store];
    const o = offer({ state: 'sent' });
    await a.offers.create(o, [deliverCard(o, 'a:1personal-megan')]);

    // Another connection holds the write lock: both decisions must wait for it (busy_timeout), not fail or finish.
    const holder = new Database(file);
    try {
      holder.exec('BEGIN IMMEDIATE');
      const settled: string[] = [];
      const next = applyDecision(o, 'accepted', new Date(T0));
      const race = harness.pool.together(
        [a, b].map((h, i) => () =>
          h.offers.decide(next, o.version, newResponse(o, 'accepted', { activityId: `1:handle-${i}` }), [notifyIssuer(next, `handle ${i}`)]).then((r) => {
            settled.push(r.status);
            return r;
          }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toEqual([]);
      holder.exec('COMMIT');
      const results = await race;
      expect(results.map((r) => r.status).sort()).toEqual(['already', 'recorded']);
      expect(await a.responses.forSubject(o.id)).toHaveLength(1);
    } finally {
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('report a store error to the caller with its message', async () => {
    const [a] = (await harness.pool.open(harness.file(), 1)) as [Store];
    const o = offer();
    await a.offers.create(o, []);
    await expect(a.offers.create({ ...o, pendingKey: undefined }, [])).rejects.toThrow(/UNIQUE constraint failed: offers\.id/);
  });
});
