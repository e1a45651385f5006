import type Database from 'better-sqlite3';
import type { Relationship } from '../../delegation/types';
import type { Offer } from '../../offers/types';
import { offerSearchText, relationshipSearchText } from '../../dashboard/store';

/**
 * The full-text row of a listing (migration 6's insert and update triggers): the columns of `listings_fts` from the
 * new document, services being the catalog names then the ids.
 */
const LISTING_FTS_ROW = `      new.seq,
      json_extract(new.doc, '$.headline'),
      coalesce((SELECT group_concat(value, ' ') FROM json_each(new.doc, '$.serviceNames')), '') || ' ' ||
        coalesce((SELECT group_concat(value, ' ') FROM json_each(new.doc, '$.services')), ''),
      coalesce((SELECT group_concat(value, ' ') FROM json_each(new.doc, '$.expertise')), ''),
      json_extract(new.doc, '$.description')`;

/**
 * Versioned schema, applied in order at startup; `PRAGMA user_version` records how far a file has come.
 * Append new steps; never edit one that has shipped. A step that needs JavaScript as well has a backfill below.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE partners (
    tenant_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
  );

  CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    aad_object_id TEXT,
    email TEXT,
    upn TEXT,
    active INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX conversations_personal_user ON conversations (tenant_id, aad_object_id) WHERE kind = 'personal';
  CREATE INDEX conversations_personal_email ON conversations (email) WHERE kind = 'personal';
  CREATE INDEX conversations_personal_upn ON conversations (upn) WHERE kind = 'personal';

  CREATE TABLE offers (
    id TEXT PRIMARY KEY,
    partner_tenant_id TEXT NOT NULL,
    approver_email TEXT NOT NULL,
    approver_tenant_id TEXT,
    approver_aad_object_id TEXT,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    pending_key TEXT,
    doc TEXT NOT NULL
  );
  -- NULLs are distinct, so only pending offers (which carry a key) collide: the duplicate guard.
  CREATE UNIQUE INDEX offers_pending_key ON offers (pending_key);
  CREATE INDEX offers_partner ON offers (partner_tenant_id, created_at);
  CREATE INDEX offers_partner_approver ON offers (partner_tenant_id, approver_email, created_at);
  CREATE INDEX offers_approver ON offers (approver_email, state);
  CREATE INDEX offers_approver_user ON offers (approver_tenant_id, approver_aad_object_id, state);
  CREATE INDEX offers_expiry ON offers (expires_at) WHERE state IN ('awaitingDelivery', 'sent');

  CREATE TABLE responses (
    id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    slot TEXT NOT NULL,
    customer_tenant_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (subject_id, slot),
    UNIQUE (customer_tenant_id, seq)
  );
  CREATE TRIGGER responses_no_update BEFORE UPDATE ON responses
    BEGIN SELECT RAISE(ABORT, 'response records are immutable'); END;
  CREATE TRIGGER responses_no_delete BEFORE DELETE ON responses
    BEGIN SELECT RAISE(ABORT, 'response records are immutable'); END;

  CREATE TABLE chain_heads (
    customer_tenant_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
  );

  CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    subject_id TEXT,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
  CREATE INDEX outbox_subject ON outbox (subject_id);
  `,
  // Readiness counts failed entries on every probe: without an index that scans every delivered row too.
  `
  CREATE INDEX outbox_failed ON outbox (created_at) WHERE state = 'failed';
  `,
  // Partial indexes hold only the rows their queries look for, so a decision (sent -> accepted) writes fewer index
  // pages, and the duplicate guard no longer keeps an entry for every offer that left the pending state.
  `
  DROP INDEX offers_pending_key;
  CREATE UNIQUE INDEX offers_pending_key ON offers (pending_key) WHERE pending_key IS NOT NULL;
  DROP INDEX offers_approver;
  CREATE INDEX offers_awaiting ON offers (approver_email, created_at) WHERE state = 'awaitingDelivery';
  DROP INDEX offers_approver_user;
  CREATE INDEX offers_pending_for ON offers (approver_tenant_id, approver_aad_object_id, created_at) WHERE state = 'sent';
  `,
  // Delegated administration and partner of record requests (one table: they share a shape). Each partial index holds
  // only the rows its query looks for; the unique one on active rows is the database's own guarantee that a customer
  // never has two active relationships of a kind, however two approvals interleave.
  `
  CREATE TABLE relationships (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    partner_tenant_id TEXT NOT NULL,
    approver_email TEXT NOT NULL,
    approver_tenant_id TEXT,
    approver_aad_object_id TEXT,
    customer_tenant_id TEXT,
    offer_id TEXT,
    created_at TEXT NOT NULL,
    due_at TEXT,
    pending_key TEXT,
    doc TEXT NOT NULL,
    -- NULLs are distinct in a unique index: an active row without its customer would escape the guarantee below.
    CONSTRAINT active_has_customer CHECK (state <> 'active' OR customer_tenant_id IS NOT NULL)
  );
  CREATE UNIQUE INDEX relationships_active ON relationships (customer_tenant_id, kind) WHERE state = 'active';
  CREATE UNIQUE INDEX relationships_pending_key ON relationships (pending_key) WHERE pending_key IS NOT NULL;
  CREATE INDEX relationships_partner ON relationships (partner_tenant_id, created_at);
  CREATE INDEX relationships_awaiting ON relationships (approver_email, created_at)
    WHERE state = 'awaitingDelivery' AND offer_id IS NULL;
  CREATE INDEX relationships_pending_for ON relationships (approver_tenant_id, approver_aad_object_id, created_at)
    WHERE state = 'approvalPending' AND offer_id IS NULL;
  CREATE INDEX relationships_due ON relationships (due_at) WHERE state IN ('awaitingDelivery', 'approvalPending', 'active');
  CREATE INDEX relationships_offer ON relationships (offer_id) WHERE offer_id IS NOT NULL;
  `,
  // Notification channels live in a table of their own: the partners file is upserted into `partners` at every
  // start, and must never overwrite what partner staff chose in Teams. Outbox entries name the partner whose business
  // they are; `failedFor` reads only that partner's failed entries, newest first, off a partial index (rowid is the
  // index's last key, so `created_at DESC, rowid DESC` is read backwards off it, no sort). Entries written before this
  // step carry no partner in their document (nothing set one), so the backfill is a safeguard. The pending index on
  // created_at makes readiness's oldest pending entry one index seek instead of a visit to every pending row.
  `
  CREATE TABLE partner_channels (
    tenant_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
  );
  ALTER TABLE outbox ADD COLUMN partner_tenant_id TEXT;
  UPDATE outbox SET partner_tenant_id = json_extract(doc, '$.partnerTenantId')
    WHERE json_type(doc, '$.partnerTenantId') = 'text';
  CREATE INDEX outbox_partner_failed ON outbox (partner_tenant_id, created_at) WHERE state = 'failed';
  CREATE INDEX outbox_pending_created ON outbox (created_at) WHERE state = 'pending';
  `,
  // The marketplace: listings (one per partner) with a full-text index, and leads (requests to be contacted).
  //
  // `listings_fts` is a contentless FTS5 table (`contentless_delete`, SQLite 3.43+, so a row can be deleted by rowid
  // without repeating its old text) holding PUBLISHED listings only: the triggers below keep it in step with every
  // write to `listings`, inside the writing transaction, so the index can never disagree with a committed row. Its
  // rowid is `listings.seq`, an INTEGER PRIMARY KEY (a rowid alias, which VACUUM never renumbers; an implicit rowid it
  // may). Columns in bm25() weight order: headline 10, services 8 (catalog names, then ids), expertise 4, description 1.
  // `unicode61 remove_diacritics 2` folds case and accents alike in listings and queries. Countries and languages sit
  // in small JSON-array columns of their own, so a filter reads them with json_each instead of parsing each document.
  //
  // Leads are looked up per (requester, partner), newest first: rowid is the index's last key, so
  // `created_at DESC, rowid DESC` is read backwards off it, without a sort.
  `
  CREATE TABLE listings (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    partner_tenant_id TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    published INTEGER NOT NULL CHECK (published IN (0, 1)),
    updated_at TEXT NOT NULL,
    countries TEXT NOT NULL,
    languages TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX listings_published_updated ON listings (updated_at DESC, id) WHERE published = 1;

  CREATE VIRTUAL TABLE listings_fts USING fts5(
    headline, services, expertise, description,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings WHEN new.published = 1 BEGIN
    INSERT INTO listings_fts (rowid, headline, services, expertise, description) VALUES (
${LISTING_FTS_ROW}
    );
  END;
  CREATE TRIGGER listings_fts_update AFTER UPDATE ON listings BEGIN
    DELETE FROM listings_fts WHERE rowid = old.seq;
    INSERT INTO listings_fts (rowid, headline, services, expertise, description) SELECT
${LISTING_FTS_ROW}
    WHERE new.published = 1;
  END;
  CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
    DELETE FROM listings_fts WHERE rowid = old.seq;
  END;

  CREATE TABLE leads (
    id TEXT PRIMARY KEY,
    partner_tenant_id TEXT NOT NULL,
    requester_tenant_id TEXT NOT NULL,
    requester_aad_object_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX leads_requester_partner ON leads (requester_tenant_id, requester_aad_object_id, partner_tenant_id, created_at);
  `,
  // The partner dashboard's pipeline: one partner's offers and relationships, newest first (created_at, then id, both
  // descending), filtered by kind, state, customer address and search words, counted, and summarised by state.
  //
  // New columns, plain ones the adapter fills from the document like the others (a column generated from `doc` would
  // be recomputed, and its index entries rewritten, by every write to the document, `setCard` included): the offer's
  // `kind`, the relationship's `ends_at` (active delegations), and on both `search_text`, the lower-cased text a
  // search looks in (`pipeline.ts`; filled for existing rows by this step's backfill, in JavaScript, so old and new
  // rows are lower-cased alike). Search words are matched with instr(), which has no wildcards.
  //
  // `*_pipeline` is the page's order (read backwards: created_at DESC, id DESC), its keyset range `(created_at, id) <
  // (?, ?)` and, in its further columns, every filter, the search text included: filters are tested on index entries,
  // and only the matching rows are read (the documents sit in large rows, some in overflow pages: a search that read
  // each row's text took 40-50 ms over 11,000 rows, off this index 4-8 ms). It replaces the (partner_tenant_id,
  // created_at) indexes, which are its prefix. `*_partner_state` counts by state (and kind) from the index alone.
  // `relationships_expiring` holds active delegations only, by end.
  `
  ALTER TABLE offers ADD COLUMN kind TEXT;
  ALTER TABLE offers ADD COLUMN search_text TEXT;
  UPDATE offers SET kind = json_extract(doc, '$.kind');
  DROP INDEX offers_partner;
  CREATE INDEX offers_pipeline ON offers (partner_tenant_id, created_at, id, kind, state, approver_email, search_text);
  CREATE INDEX offers_partner_state ON offers (partner_tenant_id, state, kind);

  ALTER TABLE relationships ADD COLUMN ends_at TEXT;
  ALTER TABLE relationships ADD COLUMN search_text TEXT;
  UPDATE relationships SET ends_at = json_extract(doc, '$.endsAt') WHERE json_type(doc, '$.endsAt') = 'text';
  DROP INDEX relationships_partner;
  CREATE INDEX relationships_pipeline ON relationships (partner_tenant_id, created_at, id, kind, state, approver_email, search_text);
  CREATE INDEX relationships_partner_state ON relationships (partner_tenant_id, state, kind);
  CREATE INDEX relationships_expiring ON relationships (partner_tenant_id, ends_at) WHERE kind = 'delegation' AND state = 'active';
  `,
  // 8: Graph-backed delegations are followed while their end is asked for, and after a decline in the chat (the
  // customer's Global Administrator can still approve at Microsoft), so the due index covers those states too.
  `
  DROP INDEX relationships_due;
  CREATE INDEX relationships_due ON relationships (due_at)
    WHERE state IN ('awaitingDelivery', 'approvalPending', 'active', 'terminationRequested', 'declined');
  `,
  // 9: a partner's leads, newest first (\`status\` lists them with where each stands).
  `
  CREATE INDEX leads_partner_created ON leads (partner_tenant_id, created_at);
  `,
  // 10: fulfilment jobs of accepted offers (Partner Center orders), one per offer, inserted with the decision; the
  // sweep reads them by when they are due, the partner's views by partner.
  `
  CREATE TABLE fulfilments (
    id TEXT PRIMARY KEY,
    partner_tenant_id TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    due_at TEXT,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX fulfilments_due ON fulfilments (due_at) WHERE due_at IS NOT NULL;
  CREATE INDEX fulfilments_partner_created ON fulfilments (partner_tenant_id, created_at);
  `,
  // 11: coalescing notices (a partner's notices of answers queued while an earlier one still waits join it): the
  // insert finds the newest waiting entry of a key by this partial index, which holds only pending coalescing entries.
  `
  ALTER TABLE outbox ADD COLUMN coalesce_key TEXT;
  CREATE INDEX outbox_coalesce ON outbox (coalesce_key) WHERE state = 'pending' AND coalesce_key IS NOT NULL;
  `,
  // 12: outbox retention. `sent_at` is when an entry was marked sent (markSent sets it); the sweep deletes entries
  // sent more than OUTBOX_RETENTION_DAYS ago, oldest first, in bounded batches off this partial index. Entries sent
  // before this step have no sent time: their creation time stands in (they were sent at or after it).
  `
  ALTER TABLE outbox ADD COLUMN sent_at TEXT;
  UPDATE outbox SET sent_at = created_at WHERE state = 'sent';
  CREATE INDEX outbox_sent ON outbox (sent_at) WHERE state = 'sent';
  `,
  // 13: the Offers tab's orders placed per month read only the partner's orders placed since the first month shown,
  // off this index, instead of every order the partner ever placed (each document parsed for its placedAt): a column
  // the adapter fills from the document, like the others.
  `
  ALTER TABLE fulfilments ADD COLUMN placed_at TEXT;
  UPDATE fulfilments SET placed_at = json_extract(doc, '$.placedAt') WHERE json_type(doc, '$.placedAt') = 'text';
  CREATE INDEX fulfilments_partner_placed ON fulfilments (partner_tenant_id, placed_at) WHERE state = 'placed';
  `,
  // 14: the Offers tab's pipeline value (`monthlyValue`: accepted and pending purchase offers expiring since the first
  // month shown) reads only those offers' rows: with expires_at in the key, the range stops at it instead of visiting
  // every accepted offer the partner ever had to test its expiry. Same name, same count of indexes on offers (a
  // decision rewrites this entry anyway, for its change of state); the summary's counts still read its prefix.
  `
  DROP INDEX offers_partner_state;
  CREATE INDEX offers_partner_state ON offers (partner_tenant_id, state, kind, expires_at);
  `,
];

/**
 * JavaScript parts of migrations, by the version their step brings a file to: run right after that step's SQL, in
 * its transaction (a failure leaves the file at the version before).
 */
export const BACKFILLS: Partial<Record<number, (db: Database.Database) => void>> = {
  7: (db) => {
    // In chunks by rowid: a statement cannot write while another one is still iterating on the connection.
    const fill = (table: 'offers' | 'relationships', textOf: (doc: never) => string) => {
      const update = db.prepare<{ rowid: number; text: string }>(`UPDATE ${table} SET search_text = @text WHERE rowid = @rowid`);
      const chunk = db.prepare<[number], { rowid: number; doc: string }>(
        `SELECT rowid, doc FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT 500`,
      );
      for (let rows = chunk.all(Number.MIN_SAFE_INTEGER); rows.length; rows = chunk.all(rows[rows.length - 1]!.rowid)) {
        for (const { rowid, doc } of rows) update.run({ rowid, text: textOf(JSON.parse(doc) as never) });
      }
    };
    fill('offers', (o: Offer) => offerSearchText(o));
    fill('relationships', (r: Relationship) => relationshipSearchText(r));
  },
};
