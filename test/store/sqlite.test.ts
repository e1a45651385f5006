import Database from 'better-sqlite3';
import type { OutboxEntry } from '../../src/notifications/types';
import { applyDecision } from '../../src/offers/rules';
import { openSqliteStore } from '../../src/store/sqlite';
import { MIGRATIONS } from '../../src/store/sqlite/migrations';
import type { Store } from '../../src/store/types';
import { describeStoreContract } from './contract';
import { deliverCard, newResponse, notificationChannel, notifyIssuer, offer, partner, partnerNotice, plus, T0, TENANT } from './support/fixtures';
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

describe('SQLite migration 5 (notification channels, outbox partner)', () => {
  it('upgrades a version 4 file: entries kept, their partner read from the document, channels apart from partners', async () => {
    const file = harness.file();
    const old = new Database(file);
    for (const step of MIGRATIONS.slice(0, 4)) old.exec(step);
    old.pragma('user_version = 4');
    const o = offer();
    const entry = (id: string, e: object, state: OutboxEntry['state']): OutboxEntry => ({
      ...notifyIssuer(o, id),
      ...e,
      id,
      state,
      attempts: state === 'failed' ? 1 : 0,
      createdAt: T0,
      nextAttemptAt: T0,
      ...(state === 'failed' ? { lastError: 'HTTP 403' } : {}),
    });
    const rows = [
      entry('with-partner', { partnerTenantId: TENANT.fabrikam }, 'failed'),
      entry('without-partner', {}, 'failed'),
      entry('pending', { partnerTenantId: TENANT.fabrikam }, 'pending'),
    ];
    const insert = old.prepare(`INSERT INTO outbox (id, state, next_attempt_at, subject_id, created_at, doc)
      VALUES (@id, @state, @nextAttemptAt, @subjectId, @createdAt, @doc)`);
    for (const r of rows) insert.run({ id: r.id, state: r.state, nextAttemptAt: r.nextAttemptAt, subjectId: o.id, createdAt: r.createdAt, doc: JSON.stringify(r) });
    old.prepare('INSERT INTO partners (tenant_id, doc) VALUES (?, ?)').run(TENANT.fabrikam, JSON.stringify(partner()));
    old.close();

    const store = openSqliteStore(file, () => new Date(plus(T0, 5)));
    try {
      expect(await store.outbox.failedFor(TENANT.fabrikam, 10)).toEqual([{ ...rows[0], lease: undefined }]);
      expect(await store.outbox.stats()).toEqual({ pending: 1, failed: 2, oldestPendingAt: T0 });
      expect(await store.partners.get(TENANT.fabrikam)).toEqual(partner());
      expect(await store.partners.notificationChannel(TENANT.fabrikam)).toBeNull();
      const channel = notificationChannel();
      await store.partners.setNotificationChannel(TENANT.fabrikam, channel);
      expect(await store.outbox.retryFailed(TENANT.fabrikam, ['with-partner', 'without-partner', 'pending'], plus(T0, 5))).toBe(1);

      // New entries fill the column from the entry.
      const later = offer();
      await store.offers.create(later, [partnerNotice(later, 'new')]);
      const [fresh] = await store.outbox.forSubject(later.id);
      expect(fresh).toMatchObject({ partnerTenantId: TENANT.fabrikam, createdAt: plus(T0, 5) });
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(after.prepare('SELECT id, partner_tenant_id AS p FROM outbox ORDER BY rowid').all()).toEqual([
        { id: 'with-partner', p: TENANT.fabrikam },
        { id: 'without-partner', p: null },
        { id: 'pending', p: TENANT.fabrikam },
        { id: expect.any(String), p: TENANT.fabrikam },
      ]);
      expect(after.prepare('SELECT count(*) AS n FROM partner_channels').get()).toEqual({ n: 1 });
      expect(JSON.parse((after.prepare('SELECT doc FROM partners').get() as { doc: string }).doc)).toEqual(partner());
    } finally {
      after.close();
    }
  });

  // One plan line each: an index search, no `USE TEMP B-TREE FOR ORDER BY`, no scan of the table.
  it('reads failedFor and the oldest pending entry off indexes, without a sort or a visit to every row', () => {
    const db = new Database(':memory:');
    try {
      for (const step of MIGRATIONS) db.exec(step);
      const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ p: TENANT.fabrikam }) as Array<{ detail: string }>).map((r) => r.detail);
      expect(plan(`SELECT doc FROM outbox WHERE state = 'failed' AND partner_tenant_id = @p ORDER BY created_at DESC, rowid DESC LIMIT 10`)).toEqual([
        expect.stringMatching(/^SEARCH outbox USING (COVERING )?INDEX outbox_partner_failed \(partner_tenant_id=\?\)$/),
      ]);
      expect(plan(`SELECT min(created_at) FROM outbox WHERE state = 'pending'`)).toEqual([
        expect.stringMatching(/^SEARCH outbox USING COVERING INDEX outbox_pending_created\b/),
      ]);
    } finally {
      db.close();
    }
  });
});
