import Database from 'better-sqlite3';
import type { PipelineQuery } from '../../src/dashboard/types';
import type { Relationship } from '../../src/delegation/types';
import type { OutboxEntry } from '../../src/notifications/types';
import { applyDecision } from '../../src/offers/rules';
import type { Offer } from '../../src/offers/types';
import { openSqliteStore } from '../../src/store/sqlite';
import { MARKETPLACE_SQL } from '../../src/store/sqlite/marketplace';
import { MIGRATIONS } from '../../src/store/sqlite/migrations';
import { OUTBOX_RETENTION_SQL } from '../../src/store/sqlite/outbox';
import { FULFILMENT_PLACED_VALUE_SQL } from '../../src/store/sqlite/fulfilments';
import { PIPELINE_SQL } from '../../src/store/sqlite/pipeline';
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
  person,
  plus,
  plusDays,
  relationship,
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
        [a, b].map(
          (h, i) => () =>
            h.offers
              .decide(next, o.version, newResponse(o, 'accepted', { activityId: `1:handle-${i}` }), [notifyIssuer(next, `handle ${i}`)])
              .then((r) => {
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
    for (const r of rows)
      insert.run({
        id: r.id,
        state: r.state,
        nextAttemptAt: r.nextAttemptAt,
        subjectId: o.id,
        createdAt: r.createdAt,
        doc: JSON.stringify(r),
      });
    old.prepare('INSERT INTO partners (tenant_id, doc) VALUES (?, ?)').run(TENANT.fabrikam, JSON.stringify(partner()));
    old.close();

    const store = openSqliteStore(file, () => new Date(plus(T0, 5)));
    try {
      expect(await store.outbox.failedFor(TENANT.fabrikam, 10)).toEqual([{ ...rows[0], lease: undefined }]);
      expect(await store.outbox.stats()).toEqual({ pending: 1, failed: 2, oldestPendingAt: T0 });
      expect(await store.partners.get(TENANT.fabrikam)).toEqual(partner());
      expect(await store.channels.get(TENANT.fabrikam)).toBeNull();
      const channel = notificationChannel();
      await store.channels.set(TENANT.fabrikam, channel);
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
      const plan = (sql: string) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ p: TENANT.fabrikam }) as Array<{ detail: string }>).map((r) => r.detail);
      expect(
        plan(`SELECT doc FROM outbox WHERE state = 'failed' AND partner_tenant_id = @p ORDER BY created_at DESC, rowid DESC LIMIT 10`),
      ).toEqual([expect.stringMatching(/^SEARCH outbox USING (COVERING )?INDEX outbox_partner_failed \(partner_tenant_id=\?\)$/)]);
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
    old
      .prepare(
        `INSERT INTO offers (id, partner_tenant_id, approver_email, state, version, created_at, expires_at, pending_key, doc)
      VALUES (@id, @partnerTenantId, @approverEmail, @state, @version, @createdAt, @expiresAt, @pendingKey, @doc)`,
      )
      .run({ ...o, doc: JSON.stringify(o) });
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
      expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
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
      const plan = (sql: string, params: object) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail);
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
        expect.stringMatching(
          /^SEARCH leads USING INDEX leads_requester_partner \(requester_tenant_id=\? AND requester_aad_object_id=\? AND partner_tenant_id=\? AND created_at>\?\)$/,
        ),
      ]);
    } finally {
      db.close();
    }
  });
});

describe('SQLite migration 7 (the partner dashboard pipeline)', () => {
  afterEach(() => harness.cleanup());

  it('upgrades a version 6 file: kind, end and search text filled from the documents, lower-cased as new rows are', async () => {
    const file = harness.file();
    const old = new Database(file);
    for (const step of MIGRATIONS.slice(0, 6)) old.exec(step);
    old.pragma('user_version = 6');
    const emile = person({ name: 'ÉMILE Dupont', tenantId: TENANT.fabrikam, email: 'emile@fabrikam.com' });
    const trial = offer({ kind: 'trial', state: 'sent', issuedBy: emile, createdAt: plus(T0, 1) });
    const roles = relationship({
      state: 'active',
      access: { kind: 'roles', roles: ['Helpdesk Administrator'] },
      endsAt: plusDays(T0, 3),
      createdAt: plus(T0, 2),
    });
    const por = relationship({ kind: 'por', state: 'active', createdAt: plus(T0, 3) });
    const later = offer({ kind: 'purchase', state: 'accepted', issuedBy: emile, createdAt: plus(T0, 4) });
    old
      .prepare(
        `INSERT INTO offers (id, partner_tenant_id, approver_email, approver_tenant_id, state, version, created_at, expires_at, pending_key, doc)
      VALUES (@id, @partnerTenantId, @approverEmail, @approverTenantId, @state, @version, @createdAt, @expiresAt, @pendingKey, @doc)`,
      )
      .run({
        ...trial,
        approverTenantId: trial.approver!.tenantId,
        doc: JSON.stringify(trial),
      });
    const insertRel =
      old.prepare(`INSERT INTO relationships (id, kind, state, version, partner_tenant_id, approver_email, customer_tenant_id,
        created_at, due_at, doc)
      VALUES (@id, @kind, @state, @version, @partnerTenantId, @approverEmail, @customerTenantId, @createdAt, @dueAt, @doc)`);
    for (const r of [roles, por]) insertRel.run({ ...r, dueAt: r.dueAt ?? null, doc: JSON.stringify(r) });
    old.close();

    const store = openSqliteStore(file);
    try {
      const page = (q: Partial<PipelineQuery>) => store.pipeline.page({ partnerTenantId: TENANT.fabrikam, limit: 10, ...q });
      const item = (x: Offer | Relationship) => ('lines' in x ? { type: 'offer', offer: x } : { type: 'relationship', relationship: x });
      expect(await page({})).toEqual({ items: [por, roles, trial].map(item), total: 3 });
      // JavaScript's lower-casing (SQLite's lower() folds ASCII only): `émile` finds `ÉMILE`.
      expect((await page({ search: 'émile' })).items).toEqual([item(trial)]);
      expect((await page({ search: 'helpdesk' })).items).toEqual([item(roles)]);
      expect((await page({ search: 'partner of record' })).items).toEqual([item(por)]);
      expect((await page({ kinds: ['trial', 'delegation'] })).items).toEqual([roles, trial].map(item));
      expect((await store.pipeline.summary(TENANT.fabrikam, T0)).expiring).toEqual({ within1: 0, within7: 1, within30: 1 });
      await store.offers.create(later, []);
      expect((await page({ search: 'ÉMILE' })).items).toEqual([later, trial].map(item));
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(after.prepare('SELECT id, kind, search_text AS text FROM offers ORDER BY created_at').all()).toEqual([
        { id: trial.id, kind: 'trial', text: expect.stringContaining('émile dupont') },
        { id: later.id, kind: 'purchase', text: expect.stringContaining('émile dupont') },
      ]);
      expect(after.prepare('SELECT id, ends_at AS endsAt, search_text AS text FROM relationships ORDER BY created_at').all()).toEqual([
        { id: roles.id, endsAt: roles.endsAt, text: expect.stringContaining('helpdesk administrator') },
        { id: por.id, endsAt: null, text: expect.stringContaining('partner of record') },
      ]);
    } finally {
      after.close();
    }
  });

  // The page walks `<table>_pipeline` backwards (no sort), from the cursor when there is one; counts and the summary
  // read indexes only.
  it('reads pages off the pipeline indexes in order from the cursor, counts and summaries off indexes alone', () => {
    const db = new Database(':memory:');
    try {
      for (const step of MIGRATIONS) db.exec(step);
      // Every parameter any of the statements names (better-sqlite3 ignores those a statement does not).
      const params = {
        partner: TENANT.fabrikam,
        kinds: '["trial"]',
        states: '["sent"]',
        customer: 'admin@contoso.com',
        words: '["premium"]',
        afterAt: T0,
        afterId: 'P-22222A',
        fetch: 51,
        ...{ now: T0, within1: plusDays(T0, 1), within7: plusDays(T0, 7), within30: plusDays(T0, 30) },
      };
      const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail);
      const all = { kinds: true, states: true, customer: true, words: true };
      for (const table of ['offers', 'relationships'] as const) {
        const index = `${table}_pipeline`;
        for (const f of [{}, { kinds: true }, { states: true }, { customer: true }, { words: true }, all]) {
          const first = plan(PIPELINE_SQL.page(table, f));
          expect(first[0]).toBe(`SEARCH t USING INDEX ${index} (partner_tenant_id=?)`);
          const deeper = plan(PIPELINE_SQL.page(table, { ...f, after: true }));
          expect(deeper[0]).toBe(`SEARCH t USING INDEX ${index} (partner_tenant_id=? AND (created_at,id)<(?,?))`);
          expect([...first, ...deeper].filter((d) => d.includes('TEMP B-TREE'))).toEqual([]);
        }
        expect(plan(PIPELINE_SQL.count(table, {}))).toEqual([`SEARCH t USING COVERING INDEX ${table}_partner_state (partner_tenant_id=?)`]);
        expect(plan(PIPELINE_SQL.count(table, { states: true }))[0]).toBe(
          `SEARCH t USING COVERING INDEX ${table}_partner_state (partner_tenant_id=? AND state=?)`,
        );
        // A search is tested on the pipeline index's entries: no row is read to count.
        expect(plan(PIPELINE_SQL.count(table, { words: true, states: true }))[0]).toBe(
          `SEARCH t USING COVERING INDEX ${index} (partner_tenant_id=?)`,
        );
        expect(plan(PIPELINE_SQL.byState(table))).toEqual([
          `SEARCH ${table} USING COVERING INDEX ${table}_partner_state (partner_tenant_id=?)`,
        ]);
      }
      expect(plan(PIPELINE_SQL.expiring)).toEqual([
        'SEARCH relationships USING COVERING INDEX relationships_expiring (partner_tenant_id=? AND ends_at>? AND ends_at<?)',
      ]);
    } finally {
      db.close();
    }
  });
});

describe('SQLite migration 12 (outbox retention)', () => {
  afterEach(() => harness.cleanup());

  it('upgrades a version 10 file: entries sent before it count as sent when written; retention reads the sent-time index', async () => {
    const file = harness.file();
    const old = new Database(file);
    for (const step of MIGRATIONS.slice(0, 11)) old.exec(step);
    old.pragma('user_version = 11');
    const insert = old.prepare(`INSERT INTO outbox (id, state, next_attempt_at, subject_id, partner_tenant_id, created_at, doc)
      VALUES (@id, @state, @at, 'T-SUBJ23', @partner, @at, @doc)`);
    const row = (id: string, state: OutboxEntry['state'], at: string) =>
      insert.run({ id, state, at, partner: TENANT.fabrikam, doc: JSON.stringify({ id, state, createdAt: at, nextAttemptAt: at }) });
    row('sent-early', 'sent', T0);
    row('sent-later', 'sent', plusDays(T0, 3));
    row('failed', 'failed', T0);
    row('pending', 'pending', T0);
    old.close();

    const store = openSqliteStore(file);
    try {
      expect(await store.outbox.pruneSent(plusDays(T0, 1), 10)).toBe(1);
      expect((await store.outbox.forSubject('T-SUBJ23')).map((e) => e.id).sort()).toEqual(['failed', 'pending', 'sent-later']);
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      expect(after.prepare('SELECT id, sent_at AS sentAt FROM outbox ORDER BY id').all()).toEqual([
        { id: 'failed', sentAt: null },
        { id: 'pending', sentAt: null },
        { id: 'sent-later', sentAt: plusDays(T0, 3) },
      ]);
      // The oldest sent entries come off the partial index in its order: no scan of the outbox, no sort.
      const plan = (
        after.prepare(`EXPLAIN QUERY PLAN ${OUTBOX_RETENTION_SQL}`).all({ before: T0, limit: 1 }) as Array<{ detail: string }>
      ).map((r) => r.detail);
      expect(plan).toContain('SEARCH outbox USING COVERING INDEX outbox_sent (sent_at<?)');
      expect(plan.filter((d) => /^SCAN outbox|TEMP B-TREE/.test(d))).toEqual([]);
    } finally {
      after.close();
    }
  });
});

describe('SQLite migration 13 (orders placed per month)', () => {
  afterEach(() => harness.cleanup());

  it("upgrades a version 11 file: placed orders keep counting by their month; the query reads only the partner's orders placed since", async () => {
    const file = harness.file();
    const old = new Database(file);
    for (const step of MIGRATIONS.slice(0, 12)) old.exec(step);
    old.pragma('user_version = 12');
    const job = (id: string, state: string, placedAt: string | undefined, cents: number) => ({
      id,
      partnerTenantId: TENANT.fabrikam,
      state,
      version: 2,
      currency: 'USD',
      valueCentsPerMonth: cents,
      ...(placedAt ? { placedAt } : {}),
      createdAt: T0,
    });
    const insert = old.prepare(`INSERT INTO fulfilments (id, partner_tenant_id, state, version, created_at, doc)
      VALUES (@id, @partnerTenantId, @state, @version, @createdAt, @doc)`);
    for (const f of [
      job('P-OLD234', 'placed', '2026-05-31T23:00:00.000Z', 100),
      job('P-JUN234', 'placed', '2026-06-02T10:00:00.000Z', 200),
      job('P-JUL234', 'placed', '2026-07-15T10:00:00.000Z', 400),
      job('P-ORD234', 'ordering', undefined, 800),
    ])
      insert.run({ ...f, doc: JSON.stringify(f) });
    old.close();

    const store = openSqliteStore(file);
    try {
      expect(await store.fulfilments.placedValue(TENANT.fabrikam, 'USD', '2026-06')).toEqual([
        { month: '2026-06', cents: 200 },
        { month: '2026-07', cents: 400 },
      ]);
      expect(await store.fulfilments.placedValue(TENANT.fabrikam, 'EUR', '2026-06')).toEqual([]);
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      const plan = (
        after.prepare(`EXPLAIN QUERY PLAN ${FULFILMENT_PLACED_VALUE_SQL}`).all(TENANT.fabrikam, '2026-06', 'USD') as Array<{
          detail: string;
        }>
      ).map((r) => r.detail);
      expect(plan[0]).toBe('SEARCH fulfilments USING INDEX fulfilments_partner_placed (partner_tenant_id=? AND placed_at>?)');
    } finally {
      after.close();
    }
  });
});

describe('SQLite migration 14 (pipeline value by expiry)', () => {
  it("reads only the partner's offers expiring since the first month shown, and the summary's counts still from the index alone", () => {
    const db = new Database(':memory:');
    try {
      for (const step of MIGRATIONS) db.exec(step);
      const plan = (sql: string, params: object) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail);
      expect(plan(PIPELINE_SQL.monthlyValue, { partner: TENANT.fabrikam, currency: 'USD', since: '2026-06' })[0]).toBe(
        'SEARCH o USING INDEX offers_partner_state (partner_tenant_id=? AND state=? AND kind=? AND expires_at>?)',
      );
      expect(plan(PIPELINE_SQL.byState('offers'), { partner: TENANT.fabrikam })).toEqual([
        'SEARCH offers USING COVERING INDEX offers_partner_state (partner_tenant_id=?)',
      ]);
    } finally {
      db.close();
    }
  });
});
