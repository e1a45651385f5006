import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyDecision } from '../../src/offers/rules';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/types';
import { describeStoreContract, type StoreHarness } from './contract';
import { deliverCard, newResponse, notifyIssuer, offer, T0 } from './support/fixtures';
import { SqliteWorkerPool } from './support/sqlite-handles';

/** Each `open` is a new file in one temporary folder; `openHandles` puts worker threads on a new file. */
function sqliteHarness(): StoreHarness & { pool: SqliteWorkerPool; file(): string } {
  const dir = mkdtempSync(join(tmpdir(), 'store-contract-sqlite-'));
  const pool = new SqliteWorkerPool();
  const opened: Store[] = [];
  let files = 0;
  const file = () => join(dir, `store-${++files}.sqlite`);
  return {
    pool,
    file,
    async open(now) {
      const store = openSqliteStore(file(), now);
      opened.push(store);
      return store;
    },
    async openHandles(n) {
      return pool.open(file(), n);
    },
    together: (calls) => pool.together(calls),
    async cleanup() {
      for (const store of opened.splice(0)) await store.close();
      await pool.closeAll();
    },
    async dispose() {
      await pool.terminate();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const harness = sqliteHarness();
describeStoreContract('SQLite', harness);

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
