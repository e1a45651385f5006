import { newId } from '../../ids';
import { outboxRow, type OutboxStore } from '../../notifications/store';
import { withFirstItem, type NewOutboxEntry, type OutboxEntry } from '../../notifications/types';
import type { Db } from './db';

/**
 * Inserts outbox entries in the caller's transaction: the capabilities whose writes carry entries (offers,
 * relationships, leads) call it inside theirs, so the entries commit with the change they tell of or not at all.
 */
export type OutboxInsert = (entries: NewOutboxEntry[]) => void;

export function sqliteOutboxInsert(db: Db, now: () => Date): OutboxInsert {
  const insert = db.prepare(`INSERT INTO outbox (id, state, next_attempt_at, lease_owner, lease_until, subject_id, partner_tenant_id,
        created_at, coalesce_key, doc)
      VALUES (@id, @state, @nextAttemptAt, NULL, NULL, @subjectId, @partnerTenantId, @createdAt, @coalesceKey, @doc)`);
  // The newest entry of the key still waiting in the queue. It is joined only if it is not in a deliverer's hands (a
  // deliverer renders what it claimed, so an item added after the claim would never be sent) and not full; otherwise
  // a new entry starts, so items go out in the order they were queued. Nor is one already tried: its retry time,
  // attempts and the hold on its subject are its own offer's, and a newcomer must not inherit them.
  const newest = db.prepare<{ key: string }, { id: string; leased: number; tried: number; items: number; max: number }>(
    `SELECT id, lease_owner IS NOT NULL AS leased, json_extract(doc, '$.attempts') > 0 AS tried,
       json_array_length(doc, '$.action.message.items') AS items, json_extract(doc, '$.coalesce.max') AS max
     FROM outbox WHERE coalesce_key = @key AND state = 'pending' ORDER BY rowid DESC LIMIT 1`,
  );
  const append = db.prepare<{ id: string; item: string }>(
    `UPDATE outbox SET doc = json_insert(doc, '$.action.message.items[#]', json(@item)) WHERE id = @id`,
  );
  // Runs inside the caller's transaction (BEGIN IMMEDIATE): the lookup and the append see no claim in between.
  const join = (e: NewOutboxEntry): boolean => {
    if (!e.coalesce) return false;
    const found = newest.get({ key: e.coalesce.key });
    if (!found || found.leased || found.tried || found.items >= Math.min(found.max, e.coalesce.max)) return false;
    append.run({ id: found.id, item: JSON.stringify(e.action.message.args) });
    return true;
  };
  return (entries) => {
    const at = now().toISOString();
    for (const e of entries) {
      if (join(e)) continue;
      const row = outboxRow(withFirstItem(e), newId(), at);
      insert.run({
        id: row.id,
        state: row.state,
        nextAttemptAt: row.nextAttemptAt,
        subjectId: row.subject?.id ?? null,
        partnerTenantId: row.partnerTenantId ?? null,
        createdAt: at,
        coalesceKey: row.coalesce?.key ?? null,
        doc: JSON.stringify(row),
      });
    }
  };
}

/**
 * Retention (issue 18): the oldest sent entries off the partial index outbox_sent (migration 12), at most @limit at a
 * time; exported so the query-plan test checks this very statement.
 */
export const OUTBOX_RETENTION_SQL = `DELETE FROM outbox WHERE rowid IN (
  SELECT rowid FROM outbox WHERE state = 'sent' AND sent_at < @before ORDER BY sent_at LIMIT @limit)`;

/** `checkpoint`: the file's checkpointer, asked after each retention batch (see db.ts, startCheckpointer). */
export function sqliteOutbox(
  db: Db,
  now: () => Date = () => new Date(),
  checkpoint: () => Promise<void> = () => Promise.resolve(),
): OutboxStore {
  const q = {
    outboxDue: db.prepare<{ now: string; limit: number }, OutboxRow>(
      `SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
       ORDER BY next_attempt_at, rowid LIMIT @limit`,
    ),
    outboxLease: db.prepare<{ id: string; owner: string; until: string }>(
      'UPDATE outbox SET lease_owner = @owner, lease_until = @until WHERE id = @id',
    ),
    // Only the owner's pending entries: one settled, given back or taken over by another process stays as it is.
    outboxRenew: db.prepare<{ id: string; owner: string; until: string }>(
      `UPDATE outbox SET lease_until = @until WHERE id = @id AND lease_owner = @owner AND state = 'pending'`,
    ),
    // A last error is written only when there is one: json_set would store a JSON null for an absent one.
    outboxSent: db.prepare<{ id: string; owner: string; attempts: number; lastError: string | null; sentAt: string }>(
      `UPDATE outbox SET state = 'sent', sent_at = @sentAt, lease_owner = NULL, lease_until = NULL,
         doc = CASE WHEN @lastError IS NULL THEN json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + @attempts)
           ELSE json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + @attempts, '$.lastError', @lastError) END
       WHERE id = @id AND lease_owner = @owner`,
    ),
    outboxRetry: db.prepare<{ id: string; owner: string; at: string; error: string; attempts: number }>(
      `UPDATE outbox SET next_attempt_at = @at, lease_owner = NULL, lease_until = NULL,
         doc = json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + @attempts, '$.lastError', @error)
       WHERE id = @id AND lease_owner = @owner`,
    ),
    outboxFail: db.prepare<{ id: string; owner: string; error: string; attempts: number }>(
      `UPDATE outbox SET state = 'failed', lease_owner = NULL, lease_until = NULL,
         doc = json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + @attempts, '$.lastError', @error)
       WHERE id = @id AND lease_owner = @owner`,
    ),
    // The rate limiter's "not yet": the lease is given back and the entry is due at @at; only attempts already made in
    // hand are counted, and the last error stays what it was.
    outboxDefer: db.prepare<{ id: string; owner: string; at: string; attempts: number; lastError: string | null }>(
      `UPDATE outbox SET next_attempt_at = @at, lease_owner = NULL, lease_until = NULL,
         doc = CASE WHEN @lastError IS NOT NULL
             THEN json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + @attempts, '$.lastError', @lastError)
           WHEN @attempts = 0 THEN doc
           ELSE json_set(doc, '$.attempts', json_extract(doc, '$.attempts') + @attempts) END
       WHERE id = @id AND lease_owner = @owner`,
    ),
    // Read backwards off the partial index outbox_partner_failed, whose last key is the rowid: no sort.
    outboxFailedFor: db.prepare<{ partnerTenantId: string; limit: number }, OutboxRow>(
      `SELECT * FROM outbox WHERE state = 'failed' AND partner_tenant_id = @partnerTenantId
       ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
    ),
    // Only a failed entry of that partner goes back: the state and partner conditions are the guard, so an id of another
    // partner, or an entry already requeued by a concurrent call, changes nothing. lastError stays until the next try.
    outboxRequeue: db.prepare<{ id: string; partnerTenantId: string; now: string }>(
      `UPDATE outbox SET state = 'pending', next_attempt_at = @now, lease_owner = NULL, lease_until = NULL,
         doc = json_set(doc, '$.attempts', 0)
       WHERE id = @id AND state = 'failed' AND partner_tenant_id = @partnerTenantId`,
    ),
    // Each count reads only its partial index, so readiness stays cheap however many entries were delivered; the oldest
    // pending entry is one seek in outbox_pending_created (migration 5).
    outboxStats: db.prepare<[], { pending: number; failed: number; oldest: string | null }>(
      `SELECT (SELECT count(*) FROM outbox WHERE state = 'pending') AS pending,
         (SELECT count(*) FROM outbox WHERE state = 'failed') AS failed,
         (SELECT min(created_at) FROM outbox WHERE state = 'pending') AS oldest`,
    ),
    outboxForSubject: db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE subject_id = ? ORDER BY created_at, rowid'),
    outboxPruneSent: db.prepare<{ before: string; limit: number }>(OUTBOX_RETENTION_SQL),
  };

  // The rows are read once, with the due ids: inside the transaction nothing else changes them between the read and
  // the lease, so the entry returned is the row as leased.
  const claimTx = db.transaction((owner: string, at: string, leaseUntil: string, limit: number) => {
    const rows = q.outboxDue.all({ now: at, limit });
    for (const row of rows) q.outboxLease.run({ id: row.id, owner, until: leaseUntil });
    return rows.map((row) => fromOutboxRow({ ...row, lease_owner: owner, lease_until: leaseUntil }));
  });

  /** One commit for all of them: each row is still changed only under its owner's lease. */
  const sentManyTx = db.transaction((owner: string, sent: { id: string; attempts?: number; lastError?: string }[]) => {
    let marked = 0;
    const sentAt = now().toISOString();
    for (const { id, attempts = 1, lastError } of sent)
      marked += q.outboxSent.run({ id, owner, attempts, lastError: lastError ?? null, sentAt }).changes;
    return marked;
  });

  /** One transaction per heartbeat, however many entries the process holds. */
  const renewTx = db.transaction((owner: string, ids: string[], until: string) =>
    ids.filter((id) => q.outboxRenew.run({ id, owner, until }).changes > 0),
  );

  /** One BEGIN IMMEDIATE for all the ids: two concurrent calls serialize, and the second finds them pending already. */
  const requeueTx = db.transaction((partnerTenantId: string, ids: string[], at: string) => {
    let requeued = 0;
    for (const id of ids) requeued += q.outboxRequeue.run({ id, partnerTenantId, now: at }).changes;
    return requeued;
  });

  return {
    claim: async (owner, at, leaseUntil, limit) => claimTx.immediate(owner, at, leaseUntil, limit),
    renew: async (owner, ids, until) => (ids.length ? renewTx.immediate(owner, ids, until) : []),
    markSent: async (id, owner) => void q.outboxSent.run({ id, owner, attempts: 1, lastError: null, sentAt: now().toISOString() }),
    markSentMany: async (owner, sent) => (sent.length ? sentManyTx.immediate(owner, sent) : 0),
    retryLater: async (id, owner, at, error, attempts = 1) => void q.outboxRetry.run({ id, owner, at, error, attempts }),
    markFailed: async (id, owner, error, attempts = 1) => void q.outboxFail.run({ id, owner, error, attempts }),
    defer: async (id, owner, at, attempts = 0, lastError) =>
      void q.outboxDefer.run({ id, owner, at, attempts, lastError: lastError ?? null }),
    failedFor: async (partnerTenantId, limit) => q.outboxFailedFor.all({ partnerTenantId, limit }).map(fromOutboxRow),
    retryFailed: async (partnerTenantId, ids, at) => (ids.length ? requeueTx.immediate(partnerTenantId, ids, at) : 0),
    stats: async () => {
      const s = q.outboxStats.get()!;
      return { pending: s.pending ?? 0, failed: s.failed ?? 0, oldestPendingAt: s.oldest ?? undefined };
    },
    forSubject: async (subjectId) => q.outboxForSubject.all(subjectId).map(fromOutboxRow),
    async pruneSent(sentBefore, limit) {
      if (limit <= 0) return 0;
      const deleted = q.outboxPruneSent.run({ before: sentBefore, limit }).changes;
      // The deletes rewrote random pages of the id and subject indexes: checkpointed in the worker before the next
      // batch, or a sweep's batches would fill the WAL to the backstop that checkpoints on the event loop.
      if (deleted > 0) await checkpoint();
      return deleted;
    },
  };
}

interface OutboxRow {
  id: string;
  state: OutboxEntry['state'];
  next_attempt_at: string;
  lease_owner: string | null;
  lease_until: string | null;
  doc: string;
}

/** Columns are the truth for what the claim query filters on; the document holds the rest. */
function fromOutboxRow(row: OutboxRow): OutboxEntry {
  const doc = JSON.parse(row.doc) as OutboxEntry;
  return {
    ...doc,
    state: row.state,
    nextAttemptAt: row.next_attempt_at,
    lease: row.lease_owner && row.lease_until ? { owner: row.lease_owner, until: row.lease_until } : undefined,
  };
}
