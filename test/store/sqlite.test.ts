import Database from 'better-sqlite3';
import type { OutboxEntry } from '../../src/notifications/types';
import { applyDecision } from '../../src/offers/rules';
import { MARKETPLACE_SQL, openSqliteStore } from '../../src/store/sqlite';
import { MIGRATIONS } from '../../src/store/sqlite/migrations';
import type { Store } from '../../src/store/types';
import { describeStoreContract } from './contract';
import {
  deliverCard,
  edited,
  lead,
  listing,
  listingCorpus,
  newResponse,
  notificationChannel,
  notifyIssuer,
  offer,
  partner,
  partnerNotice,
  plus,
  plusDays,
  requester,
  T0,
  TENANT,
} from './support/fixtures';
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

describe('SQLite migration 6 (marketplace: listings with their full-text index, leads)', () => {
  afterEach(() => harness.cleanup());

  it('upgrades a version 5 file: what was there stays, and listings and leads work', async () => {
    const file = harness.file();
    const old = new Database(file);
    for (const step of MIGRATIONS.slice(0, 5)) old.exec(step);
    old.pragma('user_version = 5');
    const o = offer();
    old.prepare(`INSERT INTO offers (id, partner_tenant_id, approver_email, state, version, created_at, expires_at, pending_key, doc)
      VALUES (@id, @partnerTenantId, @approverEmail, @state, @version, @createdAt, @expiresAt, @pendingKey, @doc)`).run({ ...o, doc: JSON.stringify(o) });
    old.close();

    const store = openSqliteStore(file);
    try {
      expect(await store.offers.get(o.id)).toEqual(o);
      const l = listing({ headline: 'Security reviews' });
      expect(await store.listings.save(l, 0)).toBe(true);
      expect((await store.listings.search({ words: ['secur'], limit: 5, offset: 0 })).map((r) => r.listing)).toEqual([l]);
      const ld = lead(l, requester());
      expect(await store.leads.create(ld, [], plusDays(T0, -7))).toEqual({ created: true, lead: ld });
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(6);
    } finally {
      after.close();
    }
  });

  it('keeps the full-text index in step with the published listings through inserts, edits, publishing and unpublishing', async () => {
    const file = harness.file();
    const store = openSqliteStore(file);
    const corpus = listingCorpus();
    try {
      for (const l of Object.values(corpus)) await store.listings.save(l, 0);
      await store.listings.save(listing({ headline: 'A draft about security', published: false }), 0);
      const a2 = edited(corpus.A, { published: false });
      await store.listings.save(a2, 1);
      await store.listings.save(edited(corpus.U, { published: true, headline: 'Voice only now' }), 1);
      await store.listings.save(edited(corpus.C, { headline: 'Mail moves, rewritten', expertise: [] }), 1);
      expect(await store.listings.save({ ...corpus.B, headline: 'Lost', version: 6 }, 5)).toBe(false);
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      const indexed = db.prepare('SELECT rowid FROM listings_fts ORDER BY rowid').pluck().all();
      expect(indexed).toEqual(db.prepare('SELECT seq FROM listings WHERE published = 1 ORDER BY seq').pluck().all());
      expect(indexed).toHaveLength(8);
      const match = (q: string) => db.prepare('SELECT rowid FROM listings_fts WHERE listings_fts MATCH ?').pluck().all(q);
      const seqOf = (id: string) => db.prepare('SELECT seq FROM listings WHERE id = ?').pluck().get(id);
      // Old text is gone from the index, new text is in it; the unpublished A is not, whatever it says.
      expect(match('assessments')).toEqual([]);
      expect(match('security')).toEqual([seqOf(corpus.B.id), seqOf(corpus.U.id)]);
      expect(match('rewritten')).toEqual([seqOf(corpus.C.id)]);
      expect(match('downtime OR hybrid')).toEqual([seqOf(corpus.D.id)]);
      expect(match('"voice only"')).toEqual([seqOf(corpus.U.id)]);
      expect(match('lost')).toEqual([]);
    } finally {
      db.close();
    }
    const rw = new Database(file);
    try {
      expect(() => rw.prepare(`INSERT INTO listings_fts (listings_fts) VALUES ('integrity-check')`).run()).not.toThrow();
    } finally {
      rw.close();
    }
  });

  it('searches through the FTS5 index joined by rowid, lists without words off the partial index, finds a lead with one index seek', () => {
    const db = new Database(':memory:');
    try {
      for (const step of MIGRATIONS) db.exec(step);
      const plan = (sql: string, params: object) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail);
      const filters = { country: 'DE', language: 'de', limit: 5, offset: 0 };
      const search = plan(MARKETPLACE_SQL.search, { ...filters, match: '"secur"*' });
      // The FTS5 MATCH drives; each hit is one rowid lookup; the hits are sorted by score, and the page's documents
      // read by rowid. No scan of `listings`.
      const fts = search.findIndex((d) => /^SCAN listings_fts VIRTUAL TABLE INDEX \d+:M/.test(d));
      expect(fts).toBeGreaterThanOrEqual(0);
      expect(search[fts + 1]).toBe('SEARCH l USING INTEGER PRIMARY KEY (rowid=?)');
      expect(search).toContain('SCAN hits');
      expect(search.filter((d) => /^SCAN (l|listings)\b/.test(d))).toEqual([]);
      expect(search.filter((d) => d.includes('TEMP B-TREE'))).toHaveLength(1);
      const recent = plan(MARKETPLACE_SQL.recent, filters);
      expect(recent[0]).toBe('SCAN l USING INDEX listings_published_updated');
      expect(recent.filter((d) => d.includes('TEMP B-TREE'))).toEqual([]);
      expect(plan(MARKETPLACE_SQL.leadLatest, { tenantId: 't', aadObjectId: 'a', partnerTenantId: 'p', since: T0 })).toEqual([
        expect.stringMatching(/^SEARCH leads USING INDEX leads_requester_partner \(requester_tenant_id=\? AND requester_aad_object_id=\? AND partner_tenant_id=\? AND created_at>\?\)$/),
      ]);
    } finally {
      db.close();
    }
  });
});
